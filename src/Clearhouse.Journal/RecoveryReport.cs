using System.Text;
using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal;

/// <summary>
/// What recovery found in a journal directory (or the block log): the valid records, and the torn
/// tail it cut off, if any. For the block log, "sequence" means block height.
/// </summary>
public sealed class RecoveryReport
{
    internal RecoveryReport(string location, int fileCount, long firstSequence, long lastSequence, long recordCount,
        long byteCount, TornTail? tornTail, string? lastFilePath, long lastFileLength)
    {
        Location = location;
        FileCount = fileCount;
        FirstSequence = firstSequence;
        LastSequence = lastSequence;
        RecordCount = recordCount;
        ByteCount = byteCount;
        TornTail = tornTail;
        LastFilePath = lastFilePath;
        LastFileLength = lastFileLength;
    }

    /// <summary>The directory (journal) or file (block log) that was recovered.</summary>
    public string Location { get; }

    /// <summary>Segment files left after recovery (a torn segment cut to nothing is removed and not counted).</summary>
    public int FileCount { get; }

    /// <summary>Sequence of the first valid record; 0 when there is none.</summary>
    public long FirstSequence { get; }

    /// <summary>Sequence of the last valid record (the last good sequence); 0 when there is none (-1 for an empty block log).</summary>
    public long LastSequence { get; }

    /// <summary>Valid records found.</summary>
    public long RecordCount { get; }

    /// <summary>Bytes of valid frames (headers included) found.</summary>
    public long ByteCount { get; }

    /// <summary>The torn tail that was found (and, unless recovery ran read-only, truncated); null when the log ended cleanly.</summary>
    public TornTail? TornTail { get; }

    /// <summary>The file appends continue in, after recovery; null when there is none.</summary>
    public string? LastFilePath { get; }

    /// <summary>Length of <see cref="LastFilePath"/> after recovery (the end of its last good record).</summary>
    public long LastFileLength { get; }

    public bool IsEmpty => RecordCount == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"{Location}: {RecordCount} records, {ByteCount} bytes in {FileCount} file(s)");
        if (RecordCount > 0)
        {
            text.Append($", sequences {FirstSequence}..{LastSequence}");
        }
        if (TornTail is { } tail)
        {
            text.Append("; ").Append(tail);
        }
        return text.ToString();
    }
}

/// <summary>
/// A torn final record: damage at the end of the last file with no valid record after it, the mark
/// of a write cut short by a crash. Everything from <see cref="Offset"/> on was never acknowledged.
/// </summary>
/// <param name="FilePath">The file that ended in the torn record.</param>
/// <param name="Offset">Byte offset where the torn record began (the end of the last good record).</param>
/// <param name="DiscardedBytes">Bytes from <paramref name="Offset"/> to the old end of the file.</param>
/// <param name="Defect">What was wrong with the torn record.</param>
/// <param name="Truncated">Whether the file was cut back to <paramref name="Offset"/> and fsynced.</param>
/// <param name="FileRemoved">Whether the file held nothing valid and was deleted.</param>
public sealed record TornTail(string FilePath, long Offset, long DiscardedBytes, FrameDefect Defect, bool Truncated, bool FileRemoved)
{
    public override string ToString() =>
        $"torn tail ({Defect}) in '{FilePath}' at byte offset {Offset}: {DiscardedBytes} bytes "
        + (FileRemoved ? "discarded and the empty file removed" : Truncated ? "truncated" : "not truncated (read-only scan)");
}
