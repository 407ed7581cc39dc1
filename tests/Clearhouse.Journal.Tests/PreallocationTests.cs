using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal.Tests;

/// <summary>
/// Preallocation (docs/durability.md, "Preallocation"): the writer keeps zeros written ahead of its
/// data so that commits overwrite existing blocks; a closed segment ends with its last record; after
/// a crash the zeros are read as the end of the data, while damage before them is still a torn tail
/// and a valid record after them is still corruption.
/// </summary>
public class PreallocationTests
{
    private const int Preallocate = 64 * 1024;

    private static JournalWriterOptions Options(long segmentSize = 64L * 1024 * 1024) =>
        new() { BackgroundFlush = false, PreallocateBytes = Preallocate, SegmentSizeBytes = segmentSize };

    /// <summary>
    /// Appends <paramref name="count"/> records, flushes, and copies the journal directory while the
    /// writer is still open: what the disk holds if the process dies right after that commit.
    /// Returns the bytes of data written.
    /// </summary>
    private static long WriteAndCopyWhileOpen(string directory, string crashImage, int count)
    {
        using var writer = JournalWriter.Open(directory, Options());
        for (long sequence = 1; sequence <= count; sequence++)
        {
            writer.Append(sequence, Journals.Payload(sequence));
        }
        writer.Flush();
        Directory.CreateDirectory(crashImage);
        foreach (var segment in SegmentFiles.List(directory))
        {
            File.Copy(segment.Path, Path.Combine(crashImage, Path.GetFileName(segment.Path)));
        }
        return writer.BytesWritten;
    }

    private static string OnlySegment(string directory) => Assert.Single(SegmentFiles.List(directory)).Path;

    /// <summary>A crash image of a journal of <paramref name="records"/> records in one segment: its directory, segment and data length.</summary>
    private static (string Directory, string Segment, long Data) CrashImage(TempDirectory dir, int records)
    {
        var image = Path.Combine(dir.Path, "image");
        var data = WriteAndCopyWhileOpen(Path.Combine(dir.Path, "live"), image, records);
        return (image, OnlySegment(image), data);
    }

    private static void WriteAt(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        file.Write(bytes);
    }

    [Fact]
    public void An_open_segment_holds_zeros_past_its_data_and_a_closed_one_ends_with_its_last_record()
    {
        using var dir = new TempDirectory();
        long data;
        using (var writer = JournalWriter.Open(dir.Path, Options()))
        {
            for (long sequence = 1; sequence <= 100; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence));
            }
            writer.Flush();
            data = writer.BytesWritten;
            var length = new FileInfo(OnlySegment(dir.Path)).Length;
            Assert.Equal(data + Preallocate, length);
        }
        Assert.Equal(data, new FileInfo(OnlySegment(dir.Path)).Length);
        Assert.Equal(100, Journals.ReadAll(dir.Path).Count);
    }

    [Fact]
    public void Without_preallocation_the_segment_is_exactly_its_data_while_open()
    {
        using var dir = new TempDirectory();
        using var writer = JournalWriter.Open(dir.Path, new JournalWriterOptions { BackgroundFlush = false, PreallocateBytes = 0 });
        writer.Append(1, Journals.Payload(1));
        writer.Flush();
        Assert.Equal(writer.BytesWritten, new FileInfo(OnlySegment(dir.Path)).Length);
    }

    [Fact]
    public void After_a_crash_the_zeros_are_the_end_of_the_data_not_a_torn_tail_and_appends_continue_over_them()
    {
        using var dir = new TempDirectory();
        var (image, segment, data) = CrashImage(dir, 300);
        Assert.True(new FileInfo(segment).Length > data, "the crash image holds preallocated zeros");

        var readOnly = JournalReader.Recover(image, truncateTornTail: false);
        Assert.Null(readOnly.TornTail);
        Assert.Equal(300, readOnly.LastSequence);
        Assert.Equal(300, Journals.ReadAll(image).Count); // an unbounded read stops at the zeros

        using (var writer = JournalWriter.Open(image, Options()))
        {
            Assert.Null(writer.Recovery.TornTail);
            Assert.Equal(300, writer.Recovery.LastSequence);
            Assert.Equal(data, writer.Recovery.LastFileLength);
            for (long sequence = 301; sequence <= 400; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence));
            }
        }
        var read = Journals.ReadAll(image);
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), read.Select(r => r.Sequence));
        Assert.All(read, r => Assert.Equal(Journals.Payload(r.Sequence), r.Payload));
        Assert.Equal(Journals.Locate(image, read.Select(r => new WrittenRecord(r.Sequence, r.Payload, "", 0)).ToList())[^1].End,
            new FileInfo(segment).Length);
    }

    [Fact]
    public void A_zero_tail_shorter_than_a_header_is_the_end_of_the_data()
    {
        using var dir = new TempDirectory();
        var (image, segment, data) = CrashImage(dir, 50);
        Journals.Truncate(segment, data + RecordFormat.HeaderSize - 1);

        var report = JournalReader.Recover(image);

        Assert.Null(report.TornTail);
        Assert.Equal(50, report.LastSequence);
    }

    [Fact]
    public void A_record_torn_before_the_zeros_is_still_a_torn_tail_and_is_cut_off()
    {
        using var dir = new TempDirectory();
        var (image, segment, data) = CrashImage(dir, 50);
        var frame = Journals.Frame(51, Journals.Payload(51));
        WriteAt(segment, data, frame.AsSpan(0, frame.Length / 2)); // the header and half the payload reached the disk

        var report = JournalReader.Recover(image);

        Assert.NotNull(report.TornTail);
        Assert.Equal(data, report.TornTail.Offset);
        Assert.Equal(FrameDefect.ChecksumMismatch, report.TornTail.Defect);
        Assert.Equal(data, new FileInfo(segment).Length);
        Assert.Equal(50, report.LastSequence);
    }

    [Fact]
    public void A_valid_record_after_the_zeros_is_corruption_not_an_end()
    {
        using var dir = new TempDirectory();
        var (image, segment, data) = CrashImage(dir, 50);
        WriteAt(segment, data + 4096, Journals.Frame(60, Journals.Payload(60)));

        var error = Assert.Throws<JournalCorruptedException>(() => JournalReader.Recover(image));
        Assert.Equal(data, error.Offset);
        Assert.Throws<JournalCorruptedException>(() => Journals.ReadAll(image));
    }

    [Fact]
    public void Rolled_segments_end_with_their_last_record_and_the_zeros_never_pass_the_segment_size()
    {
        using var dir = new TempDirectory();
        const long segmentSize = 8 * 1024;
        using (var writer = JournalWriter.Open(dir.Path, Options(segmentSize)))
        {
            for (long sequence = 1; sequence <= 500; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence));
                if (sequence % 7 == 0)
                {
                    writer.Flush(); // many small commits, each one extending or overwriting
                }
            }
            writer.Flush();
            var open = SegmentFiles.List(dir.Path);
            Assert.True(open.Count > 3);
            Assert.All(open, segment => Assert.True(new FileInfo(segment.Path).Length <= segmentSize));
        }
        // Locate walks each file to its end, so it needs every segment to end with its last record:
        // the earlier ones were cut when the writer rolled past them, the last one when it closed.
        var records = Journals.ReadAll(dir.Path).Select(r => new WrittenRecord(r.Sequence, r.Payload, "", 0)).ToList();
        var located = Journals.Locate(dir.Path, records);
        foreach (var segment in SegmentFiles.List(dir.Path))
        {
            Assert.Equal(located.Last(r => r.SegmentPath == segment.Path).End, new FileInfo(segment.Path).Length);
        }
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), Journals.ReadAll(dir.Path).Select(r => r.Sequence));
    }
}
