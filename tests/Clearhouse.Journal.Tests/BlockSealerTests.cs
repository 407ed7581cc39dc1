using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal.Blocks;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Journal.Tests;

public class BlockSealerTests
{
    private const long Second = 1_000_000;
    private const long Genesis = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z, a whole second

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(1000)]
    [InlineData(10_000)]
    public void The_commands_root_equals_the_merkle_root_over_chunks_of_64_encoded_commands(int count)
    {
        var commands = Enumerable.Range(1, count).Select(i => Journals.Payload(i, 90)).ToList();
        var sealer = new BlockSealer(maxCommands: count);
        var engine = new CoreEngine();
        BlockHeader? header = null;
        for (var i = 0; i < count; i++)
        {
            header = sealer.Append(i + 1, Genesis, commands[i], engine);
        }

        Assert.NotNull(header);
        Assert.Equal(BlockCommands.Root(commands), header.CommandsRoot);

        // The reference definition, spelled out: leaves are chunks of ≤ 64 commands, each u32 length ‖ bytes.
        var chunks = commands.Chunk(BlockCommands.CommandsPerLeaf)
            .Select(chunk => chunk.SelectMany(c => BitConverter.GetBytes((uint)c.Length).Concat(c)).ToArray())
            .ToList();
        Assert.Equal(MerkleTree.RootOf(chunks), header.CommandsRoot);
    }

    [Fact]
    public void A_block_is_sealed_after_the_command_that_reaches_the_command_cap()
    {
        var sealer = new BlockSealer(intervalMicros: 60 * Second, maxCommands: 5);
        var engine = new CoreEngine();
        var sealedAfter = new List<long>();
        for (long sequence = 1; sequence <= 12; sequence++)
        {
            if (sealer.Append(sequence, Genesis + sequence, [(byte)sequence], engine) is { } header)
            {
                sealedAfter.Add(header.LastSequence);
                Assert.Equal(5, header.CommandCount);
                Assert.Equal(sequence - 4, header.FirstSequence);
            }
        }

        Assert.Equal([5L, 10L], sealedAfter);
        Assert.Equal(2, sealer.PendingCount);
        Assert.Equal(11, sealer.PendingFirstSequence);
        Assert.Equal(3, sealer.NextHeight);
    }

    [Fact]
    public void A_block_is_sealed_after_the_first_command_at_or_past_the_next_whole_interval()
    {
        var sealer = new BlockSealer();
        var engine = new CoreEngine();
        long[] times = [Genesis + 200_000, Genesis + 500_000, Genesis + 999_999, Genesis + Second, Genesis + Second + 300_000, Genesis + 3 * Second + 700_000, Genesis + 3 * Second + 800_000];
        var headers = new List<BlockHeader>();
        for (var i = 0; i < times.Length; i++)
        {
            if (sealer.Append(i + 1, times[i], [(byte)i], engine) is { } header)
            {
                headers.Add(header);
            }
            if (i == 4)
            {
                Assert.Equal(Genesis + 2 * Second, sealer.DeadlineMicros);
            }
        }

        // Block 1: 0.2 s .. 1.0 s (the command at exactly 1.0 s closes it). Block 2 opens at 1.3 s with
        // deadline 2.0 s; nothing arrives until 3.7 s, which joins it and seals it. 3.8 s stays open.
        Assert.Equal(2, headers.Count);
        Assert.Equal((1L, 4L, 4, Genesis + Second), (headers[0].FirstSequence, headers[0].LastSequence, headers[0].CommandCount, headers[0].TimestampMicros));
        Assert.Equal((5L, 6L, 2, Genesis + 3 * Second + 700_000), (headers[1].FirstSequence, headers[1].LastSequence, headers[1].CommandCount, headers[1].TimestampMicros));
        Assert.Equal(1, sealer.PendingCount);
        Assert.Equal(Genesis + 4 * Second, sealer.DeadlineMicros);
    }

    [Fact]
    public void The_deadline_is_the_next_multiple_of_the_interval_strictly_after_the_first_command()
    {
        Assert.Equal(2 * Second, BlockSealer.NextBoundary(Second, Second));
        Assert.Equal(2 * Second, BlockSealer.NextBoundary(Second + 1, Second));
        Assert.Equal(2 * Second, BlockSealer.NextBoundary((2 * Second) - 1, Second));
        Assert.Equal(0, BlockSealer.NextBoundary(-1, Second));
        Assert.Equal(250, BlockSealer.NextBoundary(200, 250));

        var sealer = new BlockSealer();
        Assert.Equal(long.MaxValue, sealer.DeadlineMicros);
        sealer.Add(1, Genesis + 400_000, [1]);
        Assert.Equal(Genesis + Second, sealer.DeadlineMicros);
    }

    [Fact]
    public void Headers_chain_and_carry_the_state_root_of_the_engine_after_their_last_command()
    {
        var commands = SampleStream.Generate(seed: 11, count: 3_000);
        var engine = new CoreEngine();
        var sealer = new BlockSealer(intervalMicros: 100_000, maxCommands: 6);
        var headers = new List<BlockHeader>();
        foreach (var command in commands)
        {
            engine.Apply(command);
            if (sealer.Append(command.Sequence, command.TimestampMicros, CommandCodec.Encode(command), engine) is { } header)
            {
                Assert.Equal(StateTree.ComputeFromScratch(engine), header.StateRoot);
                headers.Add(header);
            }
        }

        Assert.True(headers.Count > 10, $"only {headers.Count} blocks");
        Assert.Contains(headers, h => h.CommandCount == 6);
        Assert.Contains(headers, h => h.CommandCount < 6);
        Assert.Equal(BlockHeader.GenesisPreviousHash, headers[0].PreviousHash);
        Assert.Equal(1, headers[0].FirstSequence);
        for (var i = 1; i < headers.Count; i++)
        {
            Assert.Equal(i + 1, headers[i].Height);
            Assert.Equal(headers[i - 1].Hash(), headers[i].PreviousHash);
            Assert.Equal(headers[i - 1].LastSequence + 1, headers[i].FirstSequence);
            Assert.Equal(headers[i].LastSequence - headers[i].FirstSequence + 1, headers[i].CommandCount);
        }
    }

    [Fact]
    public void Replaying_the_encoded_stream_re_derives_every_header_byte_for_byte()
    {
        var commands = SampleStream.Generate(seed: 5, count: 2_000);
        var live = Seal(commands.Select(c => (c, CommandCodec.Encode(c))));
        var replayed = Seal(commands.Select(c => CommandCodec.Encode(c)).Select(bytes => (CommandCodec.Decode(bytes), bytes)));

        Assert.Equal(live.Select(h => h.Encode()), replayed.Select(h => h.Encode()));
    }

    [Fact]
    public void A_sealer_resumed_after_a_block_with_an_engine_restored_there_continues_the_same_chain()
    {
        var commands = SampleStream.Generate(seed: 8, count: 2_000);
        var encoded = commands.Select(CommandCodec.Encode).ToArray();
        var all = Seal(commands.Zip(encoded));
        var cut = all[all.Count / 2];

        var prefix = new CoreEngine();
        foreach (var command in commands.TakeWhile(c => c.Sequence <= cut.LastSequence))
        {
            prefix.Apply(command);
        }

        var restored = EngineSnapshot.Read(EngineSnapshot.Write(prefix));
        var sealer = BlockSealer.ResumeAfter(cut, 100_000, 250);
        var tail = new List<BlockHeader>();
        for (var i = 0; i < commands.Count; i++)
        {
            if (commands[i].Sequence <= cut.LastSequence)
            {
                continue;
            }
            restored.Apply(commands[i]);
            if (sealer.Append(commands[i].Sequence, commands[i].TimestampMicros, encoded[i], restored) is { } header)
            {
                tail.Add(header);
            }
        }

        Assert.Equal(all.Skip(all.Count / 2 + 1).Select(h => h.Encode()), tail.Select(h => h.Encode()));
    }

    [Fact]
    public void Out_of_order_commands_and_empty_blocks_are_refused()
    {
        var sealer = new BlockSealer();
        Assert.Throws<InvalidOperationException>(() => sealer.Seal(new CoreEngine()));
        sealer.Add(5, Genesis, [1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => sealer.Add(5, Genesis, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sealer.Add(6, Genesis - 1, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockSealer(intervalMicros: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockSealer(maxCommands: 0));
    }

    private static List<BlockHeader> Seal(IEnumerable<(Command Command, byte[] Bytes)> stream)
    {
        var engine = new CoreEngine();
        var sealer = new BlockSealer(intervalMicros: 100_000, maxCommands: 250);
        var headers = new List<BlockHeader>();
        foreach (var (command, bytes) in stream)
        {
            engine.Apply(command);
            if (sealer.Append(command.Sequence, command.TimestampMicros, bytes, engine) is { } header)
            {
                headers.Add(header);
            }
        }
        return headers;
    }
}
