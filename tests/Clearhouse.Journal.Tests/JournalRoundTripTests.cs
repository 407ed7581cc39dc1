namespace Clearhouse.Journal.Tests;

public class JournalRoundTripTests
{
    [Fact]
    public void Many_records_round_trip_across_segment_roll_over()
    {
        using var dir = new TempDirectory();
        var written = Journals.Write(dir.Path, Enumerable.Range(1, 5000).Select(i => (long)i), segmentSizeBytes: 16 * 1024);

        var segments = SegmentFiles.List(dir.Path);
        Assert.True(segments.Count > 10, $"expected many segments, got {segments.Count}");
        foreach (var segment in segments)
        {
            Assert.True(new FileInfo(segment.Path).Length <= 16 * 1024);
            Assert.Equal(segment.FirstSequence, written.First(r => r.SegmentPath == segment.Path).Sequence);
        }
        var read = Journals.ReadAll(dir.Path);
        Assert.Equal(written.Select(r => r.Sequence), read.Select(r => r.Sequence));
        for (var i = 0; i < read.Count; i++)
        {
            Assert.Equal(written[i].Payload, read[i].Payload);
        }
    }

    [Fact]
    public void Records_appended_by_the_background_flusher_round_trip_across_segment_roll_over()
    {
        using var dir = new TempDirectory();
        var options = new JournalWriterOptions { SegmentSizeBytes = 8 * 1024, BufferSizeBytes = 4096, MaxBufferSizeBytes = 16 * 1024 };
        using (var writer = JournalWriter.Open(dir.Path, options))
        {
            for (long sequence = 1; sequence <= 20_000; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence, 100));
            }
        }
        var read = Journals.ReadAll(dir.Path);
        Assert.Equal(20_000, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            Assert.Equal(i + 1, read[i].Sequence);
            Assert.Equal(Journals.Payload(i + 1, 100), read[i].Payload);
        }
        Assert.Equal(20_000, JournalReader.Recover(dir.Path).LastSequence);
    }

    [Fact]
    public void Reading_from_a_middle_sequence_starts_at_the_first_record_at_or_after_it()
    {
        using var dir = new TempDirectory();
        // Odd sequences only: gaps are allowed.
        Journals.Write(dir.Path, Enumerable.Range(0, 3000).Select(i => 2L * i + 1), segmentSizeBytes: 8 * 1024);

        var fromPresent = Journals.ReadAll(dir.Path, from: 2001);
        Assert.Equal(2001, fromPresent[0].Sequence);
        Assert.Equal(5999, fromPresent[^1].Sequence);
        Assert.Equal(2000, fromPresent.Count);

        var fromGap = Journals.ReadAll(dir.Path, from: 3000);
        Assert.Equal(3001, fromGap[0].Sequence);
        Assert.Equal(Journals.Payload(3001), fromGap[0].Payload);

        Assert.Empty(Journals.ReadAll(dir.Path, from: 6000));
    }

    [Fact]
    public void Reading_up_to_a_bound_stops_at_it()
    {
        using var dir = new TempDirectory();
        Journals.Write(dir.Path, Enumerable.Range(1, 1000).Select(i => (long)i), segmentSizeBytes: 4 * 1024);

        var range = Journals.ReadAll(dir.Path, from: 100, to: 250);
        Assert.Equal(Enumerable.Range(100, 151).Select(i => (long)i), range.Select(r => r.Sequence));
    }

    [Fact]
    public void Reading_skips_whole_segments_below_the_start_by_their_names()
    {
        using var dir = new TempDirectory();
        var written = Journals.Write(dir.Path, Enumerable.Range(1, 2000).Select(i => (long)i), segmentSizeBytes: 4 * 1024);
        var firstSegment = SegmentFiles.List(dir.Path)[0].Path;
        // Damage the first segment: a reader starting beyond it must never open it.
        Journals.Zero(firstSegment, 0, 64);

        var read = Journals.ReadAll(dir.Path, from: 1500);
        Assert.Equal(501, read.Count);
        Assert.Throws<JournalCorruptedException>(() => Journals.ReadAll(dir.Path, from: 1));
        Assert.NotEmpty(written);
    }

    [Fact]
    public void The_callback_reader_sees_the_same_records_as_the_cursor()
    {
        using var dir = new TempDirectory();
        Journals.Write(dir.Path, Enumerable.Range(1, 500).Select(i => (long)i));
        long sum = 0;
        var count = JournalReader.ForEach(dir.Path, 10, (sequence, payload) => sum += sequence + payload.Length);
        Assert.Equal(491, count);
        Assert.Equal(Enumerable.Range(10, 491).Sum(i => i + Journals.Payload(i).Length), sum);
    }

    [Fact]
    public void The_writer_refuses_a_sequence_that_does_not_increase()
    {
        using var dir = new TempDirectory();
        using (var writer = JournalWriter.Open(dir.Path, Journals.Inline))
        {
            writer.Append(5, [1]);
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(5, [2]));
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(4, [2]));
            writer.Append(9, [3]);
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(0, [4]));
        }
        using (var reopened = JournalWriter.Open(dir.Path, Journals.Inline))
        {
            Assert.Equal(9, reopened.Recovery.LastSequence);
            Assert.Throws<ArgumentOutOfRangeException>(() => reopened.Append(9, [5]));
            reopened.Append(10, [6]);
        }
        Assert.Equal([5L, 9L, 10L], Journals.ReadAll(dir.Path).Select(r => r.Sequence));
    }

    [Fact]
    public void The_writer_refuses_a_first_sequence_below_one_and_an_empty_payload()
    {
        using var dir = new TempDirectory();
        using var writer = JournalWriter.Open(dir.Path, Journals.Inline);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(0, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(1, []));
    }

    [Fact]
    public void A_reopened_writer_continues_in_the_last_segment_after_the_last_record()
    {
        using var dir = new TempDirectory();
        Journals.Write(dir.Path, Enumerable.Range(1, 10).Select(i => (long)i));
        using (var writer = JournalWriter.Open(dir.Path, Journals.Inline))
        {
            Assert.Equal(10, writer.Recovery.LastSequence);
            Assert.Equal(10, writer.DurableSequence);
            writer.Append(11, Journals.Payload(11));
        }
        Assert.Single(SegmentFiles.List(dir.Path));
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), Journals.ReadAll(dir.Path).Select(r => r.Sequence));
    }

    [Fact]
    public void A_record_larger_than_the_segment_size_gets_a_segment_of_its_own()
    {
        using var dir = new TempDirectory();
        var options = new JournalWriterOptions { BackgroundFlush = false, SegmentSizeBytes = 1024 };
        var big = new byte[5000];
        new Random(3).NextBytes(big);
        using (var writer = JournalWriter.Open(dir.Path, options))
        {
            writer.Append(1, [1, 2, 3]);
            writer.Append(2, big);
            writer.Append(3, [4]);
        }
        Assert.Equal([1L, 2L, 3L], SegmentFiles.List(dir.Path).Select(s => s.FirstSequence));
        Assert.Equal(big, Journals.ReadAll(dir.Path, from: 2, to: 2).Single().Payload);
    }

    [Fact]
    public void A_record_larger_than_the_read_buffer_is_read_whole()
    {
        using var dir = new TempDirectory();
        var big = new byte[3 * 1024 * 1024];
        new Random(5).NextBytes(big);
        using (var writer = JournalWriter.Open(dir.Path, Journals.Inline))
        {
            writer.Append(1, [9]);
            writer.Append(2, big);
            writer.Append(3, [8]);
        }
        var read = Journals.ReadAll(dir.Path);
        Assert.Equal(big, read[1].Payload);
        Assert.Equal([8], read[2].Payload);
        Assert.Equal(3, JournalReader.Recover(dir.Path).RecordCount);
    }

    [Fact]
    public void An_empty_directory_recovers_to_an_empty_journal()
    {
        using var dir = new TempDirectory();
        var report = JournalReader.Recover(dir.Path);
        Assert.True(report.IsEmpty);
        Assert.Equal(0, report.LastSequence);
        Assert.Null(report.TornTail);
        Assert.Empty(Journals.ReadAll(dir.Path));
    }

    [Fact]
    public void A_second_writer_cannot_open_a_journal_that_is_open_for_writing()
    {
        using var dir = new TempDirectory();
        using (var writer = JournalWriter.Open(dir.Path, Journals.Inline))
        {
            var error = Assert.Throws<IOException>(() => JournalWriter.Open(dir.Path, Journals.Inline));
            Assert.Contains("already open for writing", error.Message);
        }
        using var afterwards = JournalWriter.Open(dir.Path, Journals.Inline);
    }
}
