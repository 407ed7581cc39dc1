using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal.Tests;

/// <summary>
/// The torn-tail rule (docs/durability.md, "Recovery rules"): damage at the end of the last segment
/// with no valid record after it is truncated and reported; damage anywhere else stops recovery
/// with an error naming the file and offset.
/// </summary>
public class TornWriteTests
{
    private const long SmallSegments = 8 * 1024;

    private static List<WrittenRecord> WriteJournal(string directory, int count = 1000, long segmentSize = SmallSegments) =>
        Journals.Write(directory, Enumerable.Range(1, count).Select(i => (long)i), segmentSize);

    /// <summary>After a torn tail was cut at <paramref name="keptRecords"/>, the journal takes new appends and reads back whole.</summary>
    private static void AssertAppendsContinue(string directory, List<WrittenRecord> written, int keptRecords)
    {
        var next = written[keptRecords - 1].Sequence + 1;
        using (var writer = JournalWriter.Open(directory, Journals.Inline))
        {
            Assert.Null(writer.Recovery.TornTail);
            Assert.Equal(next - 1, writer.Recovery.LastSequence);
            for (var sequence = next; sequence < next + 20; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence));
            }
        }
        var read = Journals.ReadAll(directory);
        Assert.Equal(keptRecords + 20, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            Assert.Equal(i + 1, read[i].Sequence);
            Assert.Equal(Journals.Payload(i + 1), read[i].Payload);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Truncating_the_last_record_at_a_random_byte_is_a_torn_tail_that_recovery_cuts_off(int seed)
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        var last = written[^1];
        var random = new Random(seed);
        var cut = last.Offset + 1 + random.NextInt64(last.End - last.Offset - 1); // strictly inside the record
        Journals.Truncate(last.SegmentPath, cut);

        var report = JournalReader.Recover(dir.Path);

        Assert.NotNull(report.TornTail);
        Assert.Equal(last.SegmentPath, report.TornTail.FilePath);
        Assert.Equal(last.Offset, report.TornTail.Offset);
        Assert.Equal(cut - last.Offset, report.TornTail.DiscardedBytes);
        Assert.True(report.TornTail.Truncated);
        Assert.Equal(cut - last.Offset < RecordFormat.HeaderSize ? FrameDefect.IncompleteHeader : FrameDefect.PastEndOfFile, report.TornTail.Defect);
        Assert.Equal(last.Sequence - 1, report.LastSequence);
        Assert.Equal(last.Offset, new FileInfo(last.SegmentPath).Length);
        AssertAppendsContinue(dir.Path, written, written.Count - 1);
    }

    [Fact]
    public void A_cut_exactly_between_records_is_a_clean_end_not_a_torn_tail()
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        Journals.Truncate(written[^1].SegmentPath, written[^1].Offset);

        var report = JournalReader.Recover(dir.Path);

        Assert.Null(report.TornTail);
        Assert.Equal(written[^2].Sequence, report.LastSequence);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    public void Flipping_a_bit_in_the_last_record_is_a_torn_tail_that_recovery_cuts_off(int seed)
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        var last = written[^1];
        var random = new Random(seed);
        Journals.FlipBit(last.SegmentPath, last.Offset + random.NextInt64(last.End - last.Offset), random.Next(8));

        var report = JournalReader.Recover(dir.Path);

        Assert.NotNull(report.TornTail);
        Assert.Equal(last.Offset, report.TornTail.Offset);
        Assert.Equal(last.Sequence - 1, report.LastSequence);
        AssertAppendsContinue(dir.Path, written, written.Count - 1);
    }

    [Theory]
    [InlineData(21, false)]
    [InlineData(22, false)]
    [InlineData(23, false)]
    [InlineData(24, true)]
    [InlineData(25, true)]
    [InlineData(26, true)]
    public void Flipping_a_bit_in_a_middle_record_stops_recovery_naming_the_file_and_offset(int seed, bool inLastSegment)
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        var lastSegment = written[^1].SegmentPath;
        var random = new Random(seed);
        var candidates = written.Where(r => (r.SegmentPath == lastSegment) == inLastSegment && r != written[^1]).ToList();
        var victim = candidates[random.Next(candidates.Count)];
        Journals.FlipBit(victim.SegmentPath, victim.Offset + random.NextInt64(victim.End - victim.Offset), random.Next(8));
        var before = new FileInfo(victim.SegmentPath).Length;

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(victim.SegmentPath, error.FilePath);
        Assert.Equal(victim.Offset, error.Offset);
        Assert.Contains(victim.SegmentPath, error.Message);
        Assert.Contains($"byte offset {victim.Offset}", error.Message);
        Assert.Equal(before, new FileInfo(victim.SegmentPath).Length); // nothing was cut
        Assert.Throws<JournalCorruptedException>(() => JournalWriter.Open(dir.Path, Journals.Inline));
        Assert.Throws<JournalCorruptedException>(() => Journals.ReadAll(dir.Path));
    }

    [Fact]
    public void Zeroing_a_4_KiB_page_in_the_middle_stops_recovery_naming_the_file_and_offset()
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path, count: 2000, segmentSize: 64L * 1024 * 1024);
        var segment = written[0].SegmentPath;
        const long PageStart = 8 * 4096;
        Journals.Zero(segment, PageStart, 4096);
        var firstDamaged = written.First(r => r.End > PageStart);

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(segment, error.FilePath);
        Assert.Equal(firstDamaged.Offset, error.Offset);
        Assert.Contains($"byte offset {firstDamaged.Offset}", error.Message);
    }

    [Fact]
    public void Zeroing_the_last_4_KiB_page_is_a_torn_tail_that_recovery_cuts_off()
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path, count: 2000, segmentSize: 64L * 1024 * 1024);
        var segment = written[0].SegmentPath;
        var length = new FileInfo(segment).Length;
        var pageStart = (length - 1) / 4096 * 4096;
        Journals.Zero(segment, pageStart, (int)(length - pageStart));
        var kept = written.Count(r => r.End <= pageStart);

        var report = JournalReader.Recover(dir.Path);

        Assert.NotNull(report.TornTail);
        Assert.Equal(written[kept].Offset, report.TornTail.Offset);
        Assert.Equal(length - written[kept].Offset, report.TornTail.DiscardedBytes);
        Assert.Equal(kept, report.RecordCount);
        AssertAppendsContinue(dir.Path, written, kept);
    }

    [Fact]
    public void A_torn_record_at_the_end_of_a_segment_before_the_last_stops_recovery()
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        var firstSegment = written[0].SegmentPath;
        var lastOfFirst = written.Last(r => r.SegmentPath == firstSegment);
        Journals.Truncate(firstSegment, lastOfFirst.End - 3);

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(firstSegment, error.FilePath);
        Assert.Equal(lastOfFirst.Offset, error.Offset);
    }

    [Fact]
    public void Read_only_recovery_reports_a_torn_tail_without_cutting_it()
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        Journals.Truncate(written[^1].SegmentPath, written[^1].End - 1);

        var report = JournalReader.Recover(dir.Path, truncateTornTail: false);

        Assert.NotNull(report.TornTail);
        Assert.False(report.TornTail.Truncated);
        Assert.Equal(written[^1].End - 1, new FileInfo(written[^1].SegmentPath).Length);
        Assert.Throws<JournalCorruptedException>(() => Journals.ReadAll(dir.Path));
        Assert.Equal(written.Count - 1, Journals.ReadAll(dir.Path, to: written[^2].Sequence).Count);
    }

    [Fact]
    public void A_torn_first_record_of_the_last_segment_removes_that_segment()
    {
        using var dir = new TempDirectory();
        var written = WriteJournal(dir.Path);
        var lastSegment = written[^1].SegmentPath;
        Journals.Truncate(lastSegment, 7);

        var report = JournalReader.Recover(dir.Path);

        Assert.NotNull(report.TornTail);
        Assert.True(report.TornTail.FileRemoved);
        Assert.False(File.Exists(lastSegment));
        var kept = written.Count(r => r.SegmentPath != lastSegment);
        Assert.Equal(written[kept - 1].Sequence, report.LastSequence);
        AssertAppendsContinue(dir.Path, written, kept);
    }

    [Fact]
    public void A_sequence_going_backwards_stops_recovery()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, SegmentFiles.FileName(5));
        var first = Journals.Frame(5, [1, 2, 3]);
        File.WriteAllBytes(path, [.. first, .. Journals.Frame(3, [4, 5])]);

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(FrameDefect.SequenceNotIncreasing, error.Defect);
        Assert.Equal(first.Length, error.Offset);
    }

    [Fact]
    public void A_segment_whose_first_record_contradicts_its_name_stops_recovery()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(Path.Combine(dir.Path, SegmentFiles.FileName(1)), Journals.Frame(1, [1]));
        File.WriteAllBytes(Path.Combine(dir.Path, SegmentFiles.FileName(10)), Journals.Frame(11, [1]));

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(FrameDefect.SegmentNameMismatch, error.Defect);
        Assert.EndsWith(SegmentFiles.FileName(10), error.FilePath);
    }

    [Fact]
    public void An_empty_segment_before_the_last_stops_recovery()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(Path.Combine(dir.Path, SegmentFiles.FileName(1)), []);
        File.WriteAllBytes(Path.Combine(dir.Path, SegmentFiles.FileName(2)), Journals.Frame(2, [1]));

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(FrameDefect.EmptySegment, error.Defect);
    }

    [Fact]
    public void Garbage_after_a_torn_record_that_hides_a_valid_record_is_corruption_not_a_tail()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, SegmentFiles.FileName(1));
        var good = Journals.Frame(1, [1, 2, 3]);
        var torn = Journals.Frame(2, new byte[100])[..40];
        var hidden = Journals.Frame(3, [7, 7, 7]);
        File.WriteAllBytes(path, [.. good, .. torn, 0, 0, 0, .. hidden]);

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(dir.Path));

        Assert.Equal(good.Length, error.Offset);
        Assert.Contains($"byte offset {good.Length + torn.Length + 3}", error.Message);
    }
}
