using System.Buffers;
using System.Security.Cryptography;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Merkle;

/// <summary>
/// A sealed block: a run of consecutive sequenced commands and the state they led to.
/// <see cref="CommandsRoot"/> is the Merkle root of the commands' canonical encodings (in sequence
/// order), <see cref="StateRoot"/> the state root after the last of them, and
/// <see cref="PreviousHash"/> chains each block to the one before (all zeros for height 1).
/// </summary>
public sealed record BlockHeader(
    long Height,
    byte[] PreviousHash,
    long FirstSequence,
    long LastSequence,
    int CommandCount,
    byte[] CommandsRoot,
    byte[] StateRoot,
    long TimestampMicros)
{
    private const string Tag = "clearhouse/block/v1";

    public static byte[] GenesisPreviousHash => new byte[MerkleTree.HashSize];

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(192);
        var w = new CanonicalWriter(buffer);
        w.String(Tag);
        w.Long(Height);
        w.Bytes(PreviousHash);
        w.Long(FirstSequence);
        w.Long(LastSequence);
        w.Int(CommandCount);
        w.Bytes(CommandsRoot);
        w.Bytes(StateRoot);
        w.Long(TimestampMicros);
        return buffer.WrittenSpan.ToArray();
    }

    public static BlockHeader Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes);
        if (r.String() != Tag)
        {
            throw new FormatException("Not a Clearhouse block header.");
        }

        var header = new BlockHeader(r.Long(), r.Bytes().ToArray(), r.Long(), r.Long(), r.Int(), r.Bytes().ToArray(), r.Bytes().ToArray(), r.Long());
        r.EnsureEnd();
        return header;
    }

    /// <summary>SHA-256 of the canonical encoding: what the next block's <see cref="PreviousHash"/> holds.</summary>
    public byte[] Hash() => SHA256.HashData(Encode());
}
