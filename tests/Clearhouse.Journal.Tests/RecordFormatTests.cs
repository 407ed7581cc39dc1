using System.Buffers.Binary;
using System.IO.Hashing;
using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal.Tests;

public class RecordFormatTests
{
    [Fact]
    public void A_frame_is_length_then_sequence_then_crc32c_of_both_and_the_payload_then_the_payload()
    {
        using var dir = new TempDirectory();
        var payload = "hello journal"u8.ToArray();
        using (var writer = JournalWriter.Open(dir.Path, Journals.Inline))
        {
            writer.Append(42, payload);
            writer.Flush();
        }
        var bytes = File.ReadAllBytes(Path.Combine(dir.Path, "00000000000000000042.seg"));

        Assert.Equal(RecordFormat.HeaderSize + payload.Length, bytes.Length);
        Assert.Equal((uint)payload.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(42L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(4)));
        var covered = bytes.AsSpan(0, 12).ToArray().Concat(payload).ToArray();
        Assert.Equal(Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, covered), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(payload, bytes.AsSpan(16).ToArray());
    }

    [Fact]
    public void The_checksum_is_crc32c_whose_check_value_is_e3069283()
    {
        // CRC-32C (Castagnoli) check value for "123456789", RFC 3720 appendix B.4 / the CRC catalogue.
        Assert.Equal(0xE3069283u, Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, "123456789"u8));
    }

    [Theory]
    [InlineData(1L, "00000000000000000001.seg")]
    [InlineData(1234567890123L, "00000001234567890123.seg")]
    public void Segment_files_are_named_by_their_first_sequence_in_twenty_digits(long sequence, string name)
    {
        Assert.Equal(name, SegmentFiles.FileName(sequence));
        Assert.True(SegmentFiles.TryParse(SegmentFiles.FileName(sequence), out var parsed));
        Assert.Equal(sequence, parsed);
    }

    [Theory]
    [InlineData("1.seg")]
    [InlineData("0000000000000000000a.seg")]
    [InlineData("00000000000000000001.seg.tmp")]
    [InlineData("00000000000000000001.snap")]
    public void Other_file_names_are_not_segments(string name) => Assert.False(SegmentFiles.TryParse(name, out _));
}
