using Clearhouse.Journal.Framing;
using Clearhouse.Journal.IO;

namespace Clearhouse.Journal.Tests;

/// <summary>A fresh directory under the system temp folder, removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clearhouse-journal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A segment file whose writes or fsyncs can be made to fail or to wait, to test the failure policy and waiters.</summary>
internal sealed class FaultyFile(string path, FileMode mode) : StorageFile(path, mode)
{
    public Action? BeforeWrite { get; init; }

    public Action? BeforeFlush { get; init; }

    public override void Write(ReadOnlySpan<byte> data, long offset)
    {
        BeforeWrite?.Invoke();
        base.Write(data, offset);
    }

    public override void FlushToDisk()
    {
        BeforeFlush?.Invoke();
        base.FlushToDisk();
    }
}

/// <summary>One record as written by a test, with where it landed.</summary>
internal sealed record WrittenRecord(long Sequence, byte[] Payload, string SegmentPath, long Offset)
{
    public long End => Offset + RecordFormat.HeaderSize + Payload.Length;
}

internal static class Journals
{
    public static readonly JournalWriterOptions Inline = new() { BackgroundFlush = false };

    /// <summary>Deterministic payload of 1..maxLength bytes derived from the sequence.</summary>
    public static byte[] Payload(long sequence, int maxLength = 200)
    {
        var random = new Random(unchecked((int)sequence * 7919));
        var payload = new byte[1 + random.Next(maxLength)];
        random.NextBytes(payload);
        return payload;
    }

    /// <summary>
    /// Writes records with the given sequences (inline flush, so tests are deterministic) and
    /// returns them with the segment and offset each one landed at, derived from the frame sizes.
    /// </summary>
    public static List<WrittenRecord> Write(string directory, IEnumerable<long> sequences, long segmentSizeBytes = 64L * 1024 * 1024, int maxPayload = 200)
    {
        var options = new JournalWriterOptions { BackgroundFlush = false, SegmentSizeBytes = segmentSizeBytes };
        var records = new List<WrittenRecord>();
        using (var writer = JournalWriter.Open(directory, options))
        {
            foreach (var sequence in sequences)
            {
                var payload = Payload(sequence, maxPayload);
                writer.Append(sequence, payload);
                records.Add(new WrittenRecord(sequence, payload, "", 0));
            }
            writer.Flush();
        }
        return Locate(directory, records);
    }

    /// <summary>Fills in segment and offset of each record by reading the segment files' frames.</summary>
    public static List<WrittenRecord> Locate(string directory, List<WrittenRecord> records)
    {
        var located = new List<WrittenRecord>(records.Count);
        var index = 0;
        foreach (var segment in SegmentFiles.List(directory))
        {
            var bytes = File.ReadAllBytes(segment.Path);
            var offset = 0L;
            while (offset < bytes.Length)
            {
                var length = (int)RecordFormat.ReadLength(bytes.AsSpan((int)offset));
                located.Add(records[index++] with { SegmentPath = segment.Path, Offset = offset });
                offset += RecordFormat.HeaderSize + length;
            }
        }
        Assert.Equal(records.Count, index);
        return located;
    }

    public static List<(long Sequence, byte[] Payload)> ReadAll(string directory, long from = 1, long to = long.MaxValue)
    {
        var list = new List<(long, byte[])>();
        foreach (var record in JournalReader.Read(directory, from, to))
        {
            list.Add((record.Sequence, record.Payload.ToArray()));
        }
        return list;
    }

    /// <summary>A raw frame, for crafting files the writer would refuse to produce.</summary>
    public static byte[] Frame(long sequence, byte[] payload)
    {
        var frame = new byte[RecordFormat.HeaderSize + payload.Length];
        RecordFormat.WriteHeader(frame, payload.Length, sequence);
        payload.CopyTo(frame, RecordFormat.HeaderSize);
        RecordFormat.Seal(RecordFormat.CreateHasher(), frame);
        return frame;
    }

    public static void FlipBit(string path, long offset, int bit)
    {
        using var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ (1 << bit)));
    }

    public static void Zero(string path, long offset, int count)
    {
        using var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        file.Write(new byte[count]);
    }

    public static void Truncate(string path, long length)
    {
        using var file = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
        file.SetLength(length);
    }
}
