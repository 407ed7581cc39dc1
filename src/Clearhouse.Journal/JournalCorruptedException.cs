using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal;

/// <summary>
/// Thrown when a journal, block log or their files are damaged somewhere other than a torn tail:
/// the process must refuse to start rather than skip data. The message names the file and the
/// byte offset of the first bad frame so an operator can inspect it.
/// </summary>
public sealed class JournalCorruptedException : IOException
{
    public JournalCorruptedException(string filePath, long offset, FrameDefect defect, string detail)
        : base($"Journal corrupted: '{filePath}' at byte offset {offset}: {defect}. {detail}")
    {
        FilePath = filePath;
        Offset = offset;
        Defect = defect;
    }

    /// <summary>The damaged file.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset of the first bad frame in <see cref="FilePath"/>.</summary>
    public long Offset { get; }

    /// <summary>What was wrong there.</summary>
    public FrameDefect Defect { get; }
}
