using Clearhouse.Journal.Framing;
using Clearhouse.Journal.IO;

namespace Clearhouse.Journal;

/// <summary>Receives one journal record; the payload span is only valid during the call.</summary>
public delegate void JournalRecordHandler(long sequence, ReadOnlySpan<byte> payload);

/// <summary>
/// Reads a journal directory: <see cref="Recover"/> validates every segment and cuts off a torn tail
/// (run it before appending or replaying after a crash); <see cref="Read"/> streams records from a
/// sequence on without allocating per record.
/// </summary>
public static class JournalReader
{
    /// <summary>
    /// Scans all segments in order and validates every record. A torn final record at the end of
    /// the last segment is truncated (unless <paramref name="truncateTornTail"/> is false) and
    /// reported; a last segment left empty is removed; the last segment and the directory are
    /// fsynced, so what recovery returns is durable. Damage anywhere else throws
    /// <see cref="JournalCorruptedException"/> naming the file and byte offset.
    /// </summary>
    public static RecoveryReport Recover(string directory, bool truncateTornTail = true)
    {
        var segments = SegmentFiles.List(directory);
        long first = 0, last = 0, records = 0, bytes = 0;
        TornTail? tail = null;
        string? lastPath = null;
        long lastLength = 0;
        var fileCount = segments.Count;
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var isLast = i == segments.Count - 1;
            var result = LogFileRecovery.Scan(segment.Path, last, segment.FirstSequence, isLast, truncateTornTail);
            if (result.RecordCount > 0 && records == 0)
            {
                first = result.FirstSequence;
            }
            last = result.LastSequence;
            records += result.RecordCount;
            bytes += result.ValidLength;
            tail = result.Tail;
            lastPath = segment.Path;
            lastLength = result.ValidLength;

            if (isLast && result.RecordCount == 0 && truncateTornTail)
            {
                // A segment created just before a crash, holding nothing valid: remove it so the writer
                // starts a fresh segment named by its next sequence.
                File.Delete(segment.Path);
                DirectorySync.Flush(directory);
                fileCount--;
                lastPath = i > 0 ? segments[i - 1].Path : null;
                lastLength = lastPath is null ? 0 : new FileInfo(lastPath).Length;
                if (tail is not null)
                {
                    tail = tail with { FileRemoved = true };
                }
            }
        }
        if (truncateTornTail && segments.Count > 0)
        {
            // Segment creations that had not reached the directory's disk copy before a crash.
            DirectorySync.Flush(directory);
        }
        return new RecoveryReport(Path.GetFullPath(directory), fileCount, first, last, records, bytes, tail, lastPath, lastLength);
    }

    /// <summary>
    /// Streams the records with <paramref name="fromSequence"/> ≤ sequence ≤ <paramref name="toSequence"/>,
    /// skipping whole segments below <paramref name="fromSequence"/> by their names. Any bad frame
    /// throws <see cref="JournalCorruptedException"/> (run <see cref="Recover"/> first after a crash;
    /// while a writer is live, bound <paramref name="toSequence"/> by its durable sequence).
    /// Use with <c>foreach (var record in JournalReader.Read(dir, from))</c>; dispose the cursor if
    /// you stop early.
    /// </summary>
    public static JournalCursor Read(string directory, long fromSequence = 1, long toSequence = long.MaxValue) =>
        new(SegmentFiles.List(directory), fromSequence, toSequence);

    /// <summary>Calls <paramref name="handler"/> for each record as <see cref="Read"/> would return it; returns how many.</summary>
    public static long ForEach(string directory, long fromSequence, JournalRecordHandler handler, long toSequence = long.MaxValue)
    {
        long count = 0;
        using var cursor = Read(directory, fromSequence, toSequence);
        while (cursor.MoveNext())
        {
            handler(cursor.Sequence, cursor.Payload);
            count++;
        }
        return count;
    }
}
