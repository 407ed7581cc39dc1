using System.Security.Cryptography;

namespace Clearhouse.Core.Merkle;

/// <summary>
/// A binary SHA-256 Merkle tree over a growable array of leaves, updated incrementally: setting
/// a leaf only marks its path, and <see cref="ComputeRoot"/> rehashes just the marked nodes, so a
/// block that touched k of n leaves costs about k·log2(n) hashes, not n.
/// <para>
/// Domain separation (RFC 6962 style): a leaf hash is <c>SHA-256(0x00 ‖ leaf bytes)</c>, an inner
/// node <c>SHA-256(0x01 ‖ left ‖ right)</c>, and an unused leaf slot is 32 zero bytes. Capacity
/// is a power of two; when it grows the tree is rebuilt once (amortized).
/// </para>
/// </summary>
public sealed class MerkleTree
{
    public const int HashSize = 32;

    private byte[][] levels;
    private readonly List<int> dirtyLeaves = [];
    private bool[] dirtyFlags;

    public MerkleTree(int initialCapacity = 16)
    {
        int capacity = 1;
        while (capacity < Math.Max(2, initialCapacity))
        {
            capacity <<= 1;
        }

        levels = Allocate(capacity);
        dirtyFlags = new bool[capacity];
        RebuildAll();
    }

    /// <summary>Number of leaf slots (a power of two); proofs have log2(capacity) siblings.</summary>
    public int Capacity => levels[0].Length / HashSize;

    /// <summary>Sets leaf <paramref name="index"/> to the hash of <paramref name="leafBytes"/>.</summary>
    public void SetLeaf(int index, ReadOnlySpan<byte> leafBytes)
    {
        Span<byte> hash = stackalloc byte[HashSize];
        HashLeaf(leafBytes, hash);
        SetLeafHash(index, hash);
    }

    public void SetLeafHash(int index, ReadOnlySpan<byte> leafHash)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index >= Capacity)
        {
            Grow(index + 1);
        }

        leafHash.CopyTo(levels[0].AsSpan(index * HashSize, HashSize));
        if (!dirtyFlags[index])
        {
            dirtyFlags[index] = true;
            dirtyLeaves.Add(index);
        }
    }

    /// <summary>Rehashes the paths of the leaves set since the last call and returns the root.</summary>
    public byte[] ComputeRoot()
    {
        if (dirtyLeaves.Count > 0)
        {
            var current = dirtyLeaves;
            var parents = new List<int>(current.Count);
            for (int level = 0; level < levels.Length - 1; level++)
            {
                parents.Clear();
                int last = -1;
                current.Sort();
                foreach (int index in current)
                {
                    int parent = index >> 1;
                    if (parent == last)
                    {
                        continue;
                    }

                    last = parent;
                    parents.Add(parent);
                    HashNode(levels[level].AsSpan(parent * 2 * HashSize, HashSize), levels[level].AsSpan(((parent * 2) + 1) * HashSize, HashSize), levels[level + 1].AsSpan(parent * HashSize, HashSize));
                }

                current = [.. parents];
            }

            foreach (int index in dirtyLeaves)
            {
                dirtyFlags[index] = false;
            }

            dirtyLeaves.Clear();
        }

        return levels[^1].ToArray();
    }

    /// <summary>Sibling hashes from the leaf up to (not including) the root. Call after <see cref="ComputeRoot"/>.</summary>
    public byte[][] Proof(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Capacity);
        var siblings = new byte[levels.Length - 1][];
        for (int level = 0; level < levels.Length - 1; level++)
        {
            siblings[level] = levels[level].AsSpan((index ^ 1) * HashSize, HashSize).ToArray();
            index >>= 1;
        }

        return siblings;
    }

    /// <summary>Folds a leaf hash with its siblings; the result must equal the root for the proof to hold.</summary>
    public static byte[] RootFromProof(ReadOnlySpan<byte> leafHash, long index, IReadOnlyList<byte[]> siblings)
    {
        var node = leafHash.ToArray();
        foreach (var sibling in siblings)
        {
            if (sibling.Length != HashSize)
            {
                throw new FormatException("A proof node must be 32 bytes.");
            }

            var parent = new byte[HashSize];
            if ((index & 1) == 0)
            {
                HashNode(node, sibling, parent);
            }
            else
            {
                HashNode(sibling, node, parent);
            }

            node = parent;
            index >>= 1;
        }

        if (index != 0)
        {
            throw new FormatException("The leaf index is outside the tree that the proof describes.");
        }

        return node;
    }

    /// <summary>Root of a one-off list of leaves (e.g. a block's commands).</summary>
    public static byte[] RootOf(IReadOnlyList<byte[]> leaves)
    {
        var tree = new MerkleTree(leaves.Count);
        for (int i = 0; i < leaves.Count; i++)
        {
            tree.SetLeaf(i, leaves[i]);
        }

        return tree.ComputeRoot();
    }

    public static void HashLeaf(ReadOnlySpan<byte> leafBytes, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ReadOnlySpan<byte> prefix = [0x00];
        hash.AppendData(prefix);
        hash.AppendData(leafBytes);
        hash.GetHashAndReset(destination);
    }

    public static byte[] HashLeaf(ReadOnlySpan<byte> leafBytes)
    {
        var result = new byte[HashSize];
        HashLeaf(leafBytes, result);
        return result;
    }

    public static void HashNode(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[1 + (2 * HashSize)];
        input[0] = 0x01;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + HashSize)..]);
        SHA256.HashData(input, destination);
    }

    private static byte[][] Allocate(int capacity)
    {
        int depth = 0;
        while ((1 << depth) < capacity)
        {
            depth++;
        }

        var result = new byte[depth + 1][];
        for (int level = 0; level <= depth; level++)
        {
            result[level] = new byte[(capacity >> level) * HashSize];
        }

        return result;
    }

    private void Grow(int needed)
    {
        int capacity = Capacity;
        while (capacity < needed)
        {
            capacity <<= 1;
        }

        var grown = Allocate(capacity);
        levels[0].CopyTo(grown[0], 0);
        levels = grown;
        Array.Resize(ref dirtyFlags, capacity);
        RebuildAll();
    }

    private void RebuildAll()
    {
        for (int level = 0; level < levels.Length - 1; level++)
        {
            int parents = levels[level + 1].Length / HashSize;
            for (int parent = 0; parent < parents; parent++)
            {
                HashNode(levels[level].AsSpan(parent * 2 * HashSize, HashSize), levels[level].AsSpan(((parent * 2) + 1) * HashSize, HashSize), levels[level + 1].AsSpan(parent * HashSize, HashSize));
            }
        }
    }
}
