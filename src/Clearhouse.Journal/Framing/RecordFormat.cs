using System.Buffers.Binary;
using System.IO.Hashing;

namespace Clearhouse.Journal.Framing;

/// <summary>
/// The frame shared by journal segments and the block header log: a 16-byte little-endian header
/// (u32 payload length, i64 sequence, u32 CRC-32C) followed by the payload. The checksum covers the
/// length and sequence fields (header bytes 0..11) and then the payload, so a torn header, a torn
/// payload and a misdirected write are all caught. See docs/durability.md, "Journal format".
/// </summary>
public static class RecordFormat
{
    /// <summary>Bytes before the payload: length (4) + sequence (8) + checksum (4).</summary>
    public const int HeaderSize = 16;

    /// <summary>
    /// Largest payload a frame may carry (16 MiB). A length field above it is treated as damage,
    /// which keeps a corrupted length from making a reader allocate gigabytes.
    /// </summary>
    public const int MaxPayloadLength = 16 * 1024 * 1024;

    internal const int LengthOffset = 0;
    internal const int SequenceOffset = 4;
    internal const int ChecksumOffset = 12;

    /// <summary>A CRC-32C (Castagnoli) hasher; each writer and reader owns one, so hashing allocates nothing.</summary>
    internal static Crc32 CreateHasher() => new(Crc32ParameterSet.Crc32C);

    /// <summary>Writes the length and sequence fields and a zero checksum; <see cref="Seal"/> fills the checksum.</summary>
    internal static void WriteHeader(Span<byte> header, int payloadLength, long sequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(header[SequenceOffset..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ChecksumOffset..], 0);
    }

    /// <summary>Computes the checksum of the complete frame at the start of <paramref name="frame"/> and stores it.</summary>
    internal static void Seal(Crc32 hasher, Span<byte> frame)
    {
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(frame);
        var checksum = Checksum(hasher, frame[..ChecksumOffset], frame.Slice(HeaderSize, length));
        BinaryPrimitives.WriteUInt32LittleEndian(frame[ChecksumOffset..], checksum);
    }

    /// <summary>CRC-32C over the 12 bytes of length and sequence, then the payload.</summary>
    internal static uint Checksum(Crc32 hasher, ReadOnlySpan<byte> lengthAndSequence, ReadOnlySpan<byte> payload)
    {
        hasher.Reset();
        hasher.Append(lengthAndSequence);
        hasher.Append(payload);
        return hasher.GetCurrentHashAsUInt32();
    }

    internal static uint ReadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header);

    internal static long ReadSequence(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt64LittleEndian(header[SequenceOffset..]);

    internal static uint ReadChecksum(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[ChecksumOffset..]);

    /// <summary>
    /// Checks a length field against the format limit and the bytes left in the file.
    /// Returns <see cref="FrameDefect.None"/> when a frame of that length fits.
    /// </summary>
    internal static FrameDefect CheckLength(uint length, long bytesAfterHeader)
    {
        if (length == 0)
        {
            return FrameDefect.ZeroLength;
        }
        if (length > MaxPayloadLength)
        {
            return FrameDefect.LengthTooLarge;
        }
        return length > bytesAfterHeader ? FrameDefect.PastEndOfFile : FrameDefect.None;
    }
}
