using System.Security.Cryptography;
using Clearhouse.Core.Merkle;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Journal.Blocks;

/// <summary>
/// Cuts the sequenced command stream into blocks and seals each one: the single definition of the
/// block rule, shared by the sequencer (live), recovery and <c>clearhouse verify</c> (replay), so
/// that block boundaries — and with them every header — can be re-derived from the journal alone.
/// <para>
/// <b>The rule</b> (evaluated after each command, on the command stream only, never on a wall clock):
/// a block opens with its first command, at time <c>t0</c>; its deadline is the next multiple of
/// <see cref="IntervalMicros"/> strictly after <c>t0</c> (with the default 1 s: the next whole
/// second of sequencer time). The block is sealed right after the command that either brings it to
/// <see cref="MaxCommands"/> commands, or whose timestamp is at or past the deadline. That command
/// is the block's last. Blocks are never empty; an idle sequencer that wants a block closed on time
/// sequences a clock <c>Tick</c> at the deadline (<see cref="DeadlineMicros"/>).
/// </para>
/// <para>
/// <b>A header</b>: height (1, 2, ...), the previous header's hash (zeros for height 1), first and
/// last sequence, command count, the commands root (<see cref="BlockCommands.Root"/>: a Merkle tree
/// over chunks of 64 length-prefixed canonical command encodings, in sequence order), the state root after the last command
/// (<see cref="StateTree.Update"/>, incremental), and the last command's timestamp.
/// </para>
/// Use: after applying each command to the engine, call <see cref="Append"/> with its sequence,
/// timestamp and encoded bytes (rejected commands included: they are journaled too); it returns the
/// sealed header when the rule fires. Not thread-safe: the sequencer thread owns it.
/// </summary>
public sealed class BlockSealer
{
    /// <summary>Default block interval: 1 s of sequencer time.</summary>
    public const long DefaultIntervalMicros = 1_000_000;

    /// <summary>
    /// Default cap on commands per block. Large enough that the state-tree update at a seal (which
    /// rehashes every account the block touched) stays small next to processing the block.
    /// </summary>
    public const int DefaultMaxCommands = 100_000;

    // One reused SHA-256 context: on Linux each one-shot SHA256.HashData call pays OpenSSL's
    // context set-up, which costs more than hashing a 60-byte command (~0.95 vs ~0.56 µs measured).
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _leafHashes = new byte[256 * MerkleTree.HashSize];
    private byte[] _chunk = new byte[16 * 1024];
    private int _chunkLength;
    private int _chunkCommands;
    private int _leaves;
    private int _count;
    private long _firstSequence;
    private long _lastSequence;
    private long _lastTimestampMicros;
    private long _deadlineMicros = long.MaxValue;

    /// <summary>A sealer starting at genesis (the next block is height 1).</summary>
    /// <param name="intervalMicros">Block interval in microseconds of sequencer time (default 1 s), at least 1.</param>
    /// <param name="maxCommands">Most commands in one block (default 10,000), at least 1.</param>
    public BlockSealer(long intervalMicros = DefaultIntervalMicros, int maxCommands = DefaultMaxCommands)
        : this(null, intervalMicros, maxCommands)
    {
    }

    private BlockSealer(BlockHeader? lastSealed, long intervalMicros, int maxCommands)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intervalMicros, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCommands, 1);
        IntervalMicros = intervalMicros;
        MaxCommands = maxCommands;
        LastSealed = lastSealed;
        PreviousHash = lastSealed?.Hash() ?? BlockHeader.GenesisPreviousHash;
    }

    /// <summary>
    /// A sealer that continues after <paramref name="lastSealed"/>, for an engine restored (e.g. from
    /// a snapshot taken right after sealing) to exactly that block's last sequence. Its
    /// <see cref="StateTree"/> is empty: the first seal hashes every leaf (a restored engine marks
    /// everything changed), later seals are incremental again.
    /// </summary>
    public static BlockSealer ResumeAfter(BlockHeader lastSealed, long intervalMicros = DefaultIntervalMicros, int maxCommands = DefaultMaxCommands)
    {
        ArgumentNullException.ThrowIfNull(lastSealed);
        return new BlockSealer(lastSealed, intervalMicros, maxCommands);
    }

    /// <summary>Block interval in microseconds of sequencer time.</summary>
    public long IntervalMicros { get; }

    /// <summary>Most commands in one block.</summary>
    public int MaxCommands { get; }

    /// <summary>The incremental state tree kept up to date at each seal; prove accounts against the last sealed block with it.</summary>
    public StateTree StateTree { get; } = new();

    /// <summary>The last header sealed (or resumed after); null at genesis.</summary>
    public BlockHeader? LastSealed { get; private set; }

    /// <summary>Hash of <see cref="LastSealed"/>, which the next header carries (zeros at genesis).</summary>
    public byte[] PreviousHash { get; private set; }

    /// <summary>Height the next sealed block will have.</summary>
    public long NextHeight => (LastSealed?.Height ?? 0) + 1;

    /// <summary>Commands in the open block.</summary>
    public int PendingCount => _count;

    /// <summary>Sequence of the open block's first command; 0 when none is open.</summary>
    public long PendingFirstSequence => _count == 0 ? 0 : _firstSequence;

    /// <summary>Sequence of the last command added (in the open block or the last sealed one); 0 before any.</summary>
    public long LastSequence => _lastSequence == 0 ? LastSealed?.LastSequence ?? 0 : _lastSequence;

    /// <summary>
    /// Sequencer time at or after which the next command seals the open block (the next multiple of
    /// <see cref="IntervalMicros"/> after its first command); <see cref="long.MaxValue"/> when no block is open.
    /// </summary>
    public long DeadlineMicros => _count == 0 ? long.MaxValue : _deadlineMicros;

    /// <summary>
    /// Adds one applied command and, when the rule fires, seals the block against
    /// <paramref name="engine"/> (which must already have applied it) and returns its header;
    /// otherwise null. Equivalent to <see cref="Add"/> followed by <see cref="Seal"/> when it returns true.
    /// </summary>
    public BlockHeader? Append(long sequence, long timestampMicros, ReadOnlySpan<byte> encodedCommand, CoreEngine engine) =>
        Add(sequence, timestampMicros, encodedCommand) ? Seal(engine) : null;

    /// <summary>
    /// Adds one command to the open block (hashing its bytes as a commands-root leaf) and says
    /// whether the rule now requires sealing. Sequences must increase and timestamps must not go
    /// back. Without an engine at hand (e.g. feeding the commands between the last sealed block and
    /// a snapshot) a true answer means the state root at that command is needed and not available.
    /// </summary>
    public bool Add(long sequence, long timestampMicros, ReadOnlySpan<byte> encodedCommand)
    {
        if (sequence <= LastSequence)
        {
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence,
                $"Block commands must have increasing sequences: {sequence} is not greater than {LastSequence}.");
        }
        if (_count > 0 && timestampMicros < _lastTimestampMicros)
        {
            throw new ArgumentOutOfRangeException(nameof(timestampMicros), timestampMicros,
                $"Block command timestamps must not go back: {timestampMicros} is before {_lastTimestampMicros}.");
        }
        if (_count == 0)
        {
            _firstSequence = sequence;
            _deadlineMicros = NextBoundary(timestampMicros, IntervalMicros);
        }
        AddToChunk(encodedCommand);
        _count++;
        _lastSequence = sequence;
        _lastTimestampMicros = timestampMicros;
        return IsDue;
    }

    /// <summary>True when the open block must be sealed now (the rule has fired).</summary>
    public bool IsDue => _count > 0 && (_count >= MaxCommands || _lastTimestampMicros >= _deadlineMicros);

    /// <summary>
    /// Seals the open block now, whatever the rule says (the rule decides when the sequencer calls
    /// this; use it directly only to force a block, e.g. in tests). <paramref name="engine"/> must be
    /// at the block's last command. Throws when no command is pending.
    /// </summary>
    public BlockHeader Seal(CoreEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (_count == 0)
        {
            throw new InvalidOperationException("There is no open block to seal: blocks are never empty.");
        }
        if (engine.LastSequence > _lastSequence)
        {
            throw new InvalidOperationException(
                $"The engine is at sequence {engine.LastSequence}, past the block's last command {_lastSequence}.");
        }
        var stateRoot = StateTree.Update(engine);
        if (_chunkCommands > 0)
        {
            CloseChunk();
        }

        var header = new BlockHeader(NextHeight, PreviousHash, _firstSequence, _lastSequence, _count,
            CommandsRoot(_leafHashes.AsSpan(0, _leaves * MerkleTree.HashSize), _sha256), stateRoot, _lastTimestampMicros);
        LastSealed = header;
        PreviousHash = header.Hash();
        _count = 0;
        _leaves = 0;
        _deadlineMicros = long.MaxValue;
        return header;
    }

    /// <summary>The first multiple of <paramref name="intervalMicros"/> strictly after <paramref name="timestampMicros"/>.</summary>
    public static long NextBoundary(long timestampMicros, long intervalMicros)
    {
        var floor = timestampMicros - (((timestampMicros % intervalMicros) + intervalMicros) % intervalMicros);
        return floor > long.MaxValue - intervalMicros ? long.MaxValue : floor + intervalMicros;
    }

    /// <summary>Appends one command (u32 length ‖ bytes) to the open chunk, hashing the chunk into a leaf when it is full.</summary>
    private void AddToChunk(ReadOnlySpan<byte> encodedCommand)
    {
        int needed = _chunkLength + 4 + encodedCommand.Length;
        if (needed > _chunk.Length)
        {
            Array.Resize(ref _chunk, Math.Max(needed, _chunk.Length * 2));
        }

        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(_chunk.AsSpan(_chunkLength), (uint)encodedCommand.Length);
        encodedCommand.CopyTo(_chunk.AsSpan(_chunkLength + 4));
        _chunkLength = needed;
        if (++_chunkCommands == BlockCommands.CommandsPerLeaf)
        {
            CloseChunk();
        }
    }

    private void CloseChunk()
    {
        if ((_leaves + 1) * MerkleTree.HashSize > _leafHashes.Length)
        {
            Array.Resize(ref _leafHashes, _leafHashes.Length * 2);
        }

        HashLeaf(_chunk.AsSpan(0, _chunkLength), _leafHashes.AsSpan(_leaves * MerkleTree.HashSize, MerkleTree.HashSize));
        _leaves++;
        _chunkLength = 0;
        _chunkCommands = 0;
    }

    /// <summary>
    /// The commands root from leaf hashes, equal to <see cref="MerkleTree.RootOf"/> over the
    /// leaves: a tree of the smallest power-of-two capacity ≥ max(2, count), unused slots 32 zero
    /// bytes, inner nodes SHA-256(0x01 ‖ left ‖ right). Folded in place level by level; a subtree
    /// made only of unused slots has a fixed hash per level, so only about <c>count</c> inner nodes
    /// are hashed instead of <c>capacity − 1</c>.
    /// </summary>
    internal static byte[] CommandsRoot(ReadOnlySpan<byte> leafHashes, IncrementalHash sha256)
    {
        const int H = MerkleTree.HashSize;
        var count = leafHashes.Length / H;
        var capacity = 2;
        while (capacity < count)
        {
            capacity <<= 1;
        }
        var level = new byte[Math.Max(count, 1) * H];
        leafHashes.CopyTo(level);
        Span<byte> empty = stackalloc byte[H]; // hash of an all-unused subtree at the current level
        empty.Clear();
        Span<byte> nextEmpty = stackalloc byte[H];
        ReadOnlySpan<byte> nodePrefix = [0x01];
        var nodes = count;
        for (var width = capacity; width > 1; width >>= 1)
        {
            var parents = (nodes + 1) / 2;
            for (var parent = 0; parent < parents; parent++)
            {
                // Reads children 2p and 2p+1 before writing parent p (p ≤ 2p): safe in place.
                sha256.AppendData(nodePrefix);
                if ((2 * parent) + 1 < nodes)
                {
                    sha256.AppendData(level, parent * 2 * H, 2 * H);
                }
                else
                {
                    sha256.AppendData(level, parent * 2 * H, H);
                    sha256.AppendData(empty);
                }
                sha256.GetHashAndReset(level.AsSpan(parent * H, H));
            }
            sha256.AppendData(nodePrefix);
            sha256.AppendData(empty);
            sha256.AppendData(empty);
            sha256.GetHashAndReset(nextEmpty);
            nextEmpty.CopyTo(empty);
            nodes = parents;
        }
        return level.AsSpan(0, H).ToArray();
    }

    /// <summary>SHA-256(0x00 ‖ bytes), as <see cref="MerkleTree.HashLeaf(ReadOnlySpan{byte})"/>.</summary>
    private void HashLeaf(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        ReadOnlySpan<byte> leafPrefix = [0x00];
        _sha256.AppendData(leafPrefix);
        _sha256.AppendData(bytes);
        _sha256.GetHashAndReset(destination);
    }
}
