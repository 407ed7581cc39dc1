using System.Text.Json;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;

namespace Clearhouse.Server.Tests;

/// <summary>
/// A clean replay of a server's journal in the test process, from genesis, brought forward as the
/// journal grows: a fresh engine applies every record in order and a <see cref="BlockSealer"/> with
/// the server's settings seals the same blocks. What the server recovered or sealed must equal it.
/// </summary>
public sealed class JournalModel(string dataDirectory, long blockIntervalMicros = BlockSealer.DefaultIntervalMicros, int blockMaxCommands = BlockSealer.DefaultMaxCommands)
{
    private readonly string journalDirectory = DataLayout.JournalDirectory(dataDirectory);

    public Engine Engine { get; } = new();

    public BlockSealer Sealer { get; } = new(blockIntervalMicros, blockMaxCommands);

    /// <summary>Every block the replay sealed, from height 1.</summary>
    public List<BlockHeader> Blocks { get; } = [];

    /// <summary>Every command read, by sequence.</summary>
    public Dictionary<long, Command> Commands { get; } = [];

    /// <summary>The last sequence replayed.</summary>
    public long Sequence { get; private set; }

    public string StateHash => Engine.ComputeStateHashHex();

    public string StateRoot => Convert.ToHexStringLower(StateTree.ComputeFromScratch(Engine));

    /// <summary>Replays the records after <see cref="Sequence"/> up to <paramref name="toSequence"/> (which must be durable).</summary>
    public void CatchUp(long toSequence)
    {
        foreach (var record in JournalReader.Read(journalDirectory, Sequence + 1, toSequence))
        {
            Assert.Equal(Sequence + 1, record.Sequence);
            var command = CommandCodec.Decode(record.Payload);
            Assert.Equal(record.Sequence, command.Sequence);
            Engine.Apply(command);
            Commands[record.Sequence] = command;
            if (Sealer.Append(record.Sequence, command.TimestampMicros, record.Payload, Engine) is { } header)
            {
                Blocks.Add(header);
            }

            Sequence = record.Sequence;
        }

        Assert.Equal(toSequence, Sequence);
    }

    /// <summary>
    /// Checks a server's recovery report against this replay: same sequence, same state hash and
    /// state root (computed from scratch here).
    /// </summary>
    public void AssertSameState(JsonElement recovery)
    {
        Assert.Equal(Sequence, recovery.GetProperty("recoveredSequence").GetInt64());
        Assert.Equal(StateHash, recovery.GetProperty("stateHash").GetString());
        Assert.Equal(StateRoot, recovery.GetProperty("stateRoot").GetString());
    }

    /// <summary>
    /// Checks that served blocks (JSON from <c>/api/blocks</c>) chain from height 1 and are exactly the
    /// ones this replay sealed, over the heights both have. Either side may be ahead: a server keeps
    /// sealing after its list was fetched (ticks run until it stops), and after a restart it seals
    /// past the recovered sequence this replay stopped at.
    /// </summary>
    public void AssertSameBlocks(IReadOnlyList<JsonElement> served)
    {
        string previous = Convert.ToHexStringLower(BlockHeader.GenesisPreviousHash);
        for (int i = 0; i < served.Count; i++)
        {
            var block = served[i];
            Assert.Equal(i + 1, block.GetProperty("height").GetInt64());
            Assert.Equal(previous, block.GetProperty("previousHash").GetString());
            byte[] encoded = Convert.FromHexString(block.GetProperty("header").GetString()!);
            string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(encoded));
            Assert.Equal(hash, block.GetProperty("hash").GetString());
            if (i < Blocks.Count)
            {
                Assert.Equal(Convert.ToHexStringLower(Blocks[i].Encode()), block.GetProperty("header").GetString());
            }

            previous = hash;
        }
    }
}
