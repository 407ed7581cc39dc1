namespace Clearhouse.Journal.Framing;

/// <summary>
/// Why a frame (or the file around it) failed validation. Stable values: they appear in reports
/// and error messages, so new ones are only ever added at the end.
/// </summary>
public enum FrameDefect
{
    /// <summary>No defect.</summary>
    None = 0,

    /// <summary>Fewer than 16 bytes remain: the header itself is cut off.</summary>
    IncompleteHeader = 1,

    /// <summary>The length field is zero (the writer never writes empty payloads; zeroed pages read as this).</summary>
    ZeroLength = 2,

    /// <summary>The length field exceeds <see cref="RecordFormat.MaxPayloadLength"/>.</summary>
    LengthTooLarge = 3,

    /// <summary>The length field points past the end of the file.</summary>
    PastEndOfFile = 4,

    /// <summary>The stored CRC-32C does not match the length, sequence and payload.</summary>
    ChecksumMismatch = 5,

    /// <summary>A well-formed record whose sequence is not greater than the one before it.</summary>
    SequenceNotIncreasing = 6,

    /// <summary>A segment's first record does not carry the sequence its file name promises.</summary>
    SegmentNameMismatch = 7,

    /// <summary>A segment other than the last one is empty or holds no valid record.</summary>
    EmptySegment = 8,
}
