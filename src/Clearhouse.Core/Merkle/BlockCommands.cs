using System.Buffers.Binary;

namespace Clearhouse.Core.Merkle;

/// <summary>
/// The commands root of a block: a Merkle tree (<see cref="MerkleTree"/>'s hashing) whose leaves
/// are consecutive <em>chunks</em> of the block's commands — up to <see cref="CommandsPerLeaf"/>
/// canonical command encodings, each prefixed by its length as a little-endian u32, concatenated in
/// sequence order. Chunking keeps hashing off the critical path: one SHA-256 over a few kilobytes
/// per 64 commands instead of one call per command, which on this platform costs more than
/// applying the command. A proof that a command is in a block is its chunk plus the chunk's path.
/// This is the reference definition; <c>BlockSealer</c> computes the same root incrementally.
/// </summary>
public static class BlockCommands
{
    public const int CommandsPerLeaf = 64;

    /// <summary>The commands root of a block's encoded commands, in sequence order.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> encodedCommands)
    {
        var leaves = new List<byte[]>((encodedCommands.Count + CommandsPerLeaf - 1) / CommandsPerLeaf);
        for (int start = 0; start < encodedCommands.Count; start += CommandsPerLeaf)
        {
            int end = Math.Min(start + CommandsPerLeaf, encodedCommands.Count);
            leaves.Add(Chunk(encodedCommands, start, end));
        }

        return MerkleTree.RootOf(leaves);
    }

    /// <summary>The leaf bytes of commands [start, end): each as u32 length ‖ bytes.</summary>
    public static byte[] Chunk(IReadOnlyList<byte[]> encodedCommands, int start, int end)
    {
        int length = 0;
        for (int i = start; i < end; i++)
        {
            length += 4 + encodedCommands[i].Length;
        }

        var chunk = new byte[length];
        int at = 0;
        for (int i = start; i < end; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(at), (uint)encodedCommands[i].Length);
            encodedCommands[i].CopyTo(chunk, at + 4);
            at += 4 + encodedCommands[i].Length;
        }

        return chunk;
    }
}
