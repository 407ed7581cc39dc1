namespace Clearhouse.Journal.Tests;

public class JournalArchiveTests
{
    [Fact]
    public void Segments_that_end_before_a_snapshot_move_to_the_archive_and_the_tail_still_replays()
    {
        using var dir = new TempDirectory();
        var written = Journals.Write(dir.Path, Enumerable.Range(1, 2000).Select(i => (long)i), segmentSizeBytes: 8 * 1024);
        var segments = SegmentFiles.List(dir.Path);
        const long Snapshot = 1000;
        var expected = segments.Where((s, i) => i + 1 < segments.Count && segments[i + 1].FirstSequence <= Snapshot + 1)
            .Select(s => s.Path).ToList();

        var retired = JournalArchive.RetireSegmentsBefore(dir.Path, Snapshot);

        Assert.Equal(expected, retired);
        Assert.NotEmpty(retired);
        Assert.All(retired, path => Assert.True(File.Exists(Path.Combine(dir.Path, "archive", Path.GetFileName(path)))));
        var remaining = SegmentFiles.List(dir.Path);
        Assert.True(remaining[0].FirstSequence <= Snapshot + 1);
        var replay = Journals.ReadAll(dir.Path, from: Snapshot + 1);
        Assert.Equal(Enumerable.Range(1001, 1000).Select(i => (long)i), replay.Select(r => r.Sequence));
        Assert.Equal(2000, JournalReader.Recover(dir.Path).LastSequence);
        Assert.Equal(written.Count, written.Count);
    }

    [Fact]
    public void The_last_segment_is_never_retired_and_deleting_is_possible()
    {
        using var dir = new TempDirectory();
        Journals.Write(dir.Path, Enumerable.Range(1, 2000).Select(i => (long)i), segmentSizeBytes: 8 * 1024);
        var count = SegmentFiles.List(dir.Path).Count;

        var retired = JournalArchive.RetireSegmentsBefore(dir.Path, long.MaxValue - 1, delete: true);

        Assert.Equal(count - 1, retired.Count);
        Assert.Single(SegmentFiles.List(dir.Path));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "archive")));
        using var writer = JournalWriter.Open(dir.Path, Journals.Inline);
        Assert.Equal(2000, writer.Recovery.LastSequence);
        writer.Append(2001, [1]);
    }
}
