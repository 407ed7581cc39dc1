using Clearhouse.Core.Engine;
using Clearhouse.Core.Numerics;
using CsCheck;
using Clearhouse.Core.Serialization;
using Clearhouse.Core.Tests.Engine;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Serialization;

public class SnapshotAndCodecTests
{
    [Fact]
    public void Every_command_of_random_streams_survives_an_encode_decode_round_trip_byte_for_byte()
    {
        EngineProperties.StreamGen.Sample(steps =>
        {
            var driver = new EngineProperties.Driver();
            driver.Run(steps, checkEveryCommand: false);
            foreach (var command in driver.Applied)
            {
                byte[] bytes = CommandCodec.Encode(command);
                var decoded = CommandCodec.Decode(bytes);
                Assert.Equal(command.GetType(), decoded.GetType());
                Assert.Equal(bytes, CommandCodec.Encode(decoded));
                Assert.Equal(command.Sequence, decoded.Sequence);
                Assert.Equal(command.TimestampMicros, decoded.TimestampMicros);
            }
        }, iter: 5, threads: 1);
    }

    [Fact]
    public void Truncated_or_padded_command_bytes_are_refused()
    {
        byte[] bytes = CommandCodec.Encode(new Deposit(3, Money.FromWhole(10)) { Sequence = 1, TimestampMicros = 2 });
        Assert.Throws<FormatException>(() => CommandCodec.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<FormatException>(() => CommandCodec.Decode([.. bytes, 0]));
        Assert.Throws<FormatException>(() => CommandCodec.Decode([0xFF, .. bytes.AsSpan(1)]));
    }

    [Fact]
    public void Live_replay_from_genesis_and_snapshot_plus_tail_reach_the_same_state_three_ways()
    {
        EngineProperties.StreamGen.Sample(steps =>
        {
            var live = new EngineProperties.Driver();
            live.Run(steps, checkEveryCommand: false);
            var commands = live.Applied;
            int cut = commands.Count / 2;

            // 1. Replay from genesis.
            var replay = new CoreEngine(live.Fast.Config);
            foreach (var command in commands)
            {
                replay.Apply(command);
            }

            // 2. Snapshot at the cut, restore, replay the tail.
            var prefix = new CoreEngine(live.Fast.Config);
            foreach (var command in commands.Take(cut))
            {
                prefix.Apply(command);
            }

            byte[] snapshot = EngineSnapshot.Write(prefix);
            var restored = EngineSnapshot.Read(snapshot, live.Fast.Config);
            Assert.Equal(prefix.ComputeStateHashHex(), restored.ComputeStateHashHex());
            Assert.Equal(snapshot, EngineSnapshot.Write(restored));
            foreach (var command in commands.Skip(cut))
            {
                var expected = prefix.Apply(command);
                Assert.Equal(expected, restored.Apply(command));
                Assert.Equal(prefix.Events.ToArray(), restored.Events.ToArray());
            }

            string liveHash = live.Fast.ComputeStateHashHex();
            Assert.Equal(liveHash, replay.ComputeStateHashHex());
            Assert.Equal(liveHash, restored.ComputeStateHashHex());
            Assert.Equal(Core.Merkle.StateTree.ComputeFromScratch(live.Fast), Core.Merkle.StateTree.ComputeFromScratch(restored));
        }, iter: 8, threads: 1);
    }

    [Fact]
    public void A_snapshot_taken_under_other_venue_limits_is_refused()
    {
        var engine = new CoreEngine();
        byte[] snapshot = EngineSnapshot.Write(engine);
        var ex = Assert.Throws<FormatException>(() => EngineSnapshot.Read(snapshot, new EngineConfig { MaxOpenOrdersPerAccount = 7 }));
        Assert.Contains("limits", ex.Message);
    }

    [Fact]
    public void A_damaged_snapshot_is_refused_rather_than_half_loaded()
    {
        var venue = new Venue();
        venue.ListBtcPerpetual();
        venue.NewAccount(1_000m);
        byte[] snapshot = EngineSnapshot.Write(venue.Engine);
        Assert.Throws<FormatException>(() => EngineSnapshot.Read(snapshot.AsSpan(0, snapshot.Length - 3)));
        Assert.Throws<FormatException>(() => EngineSnapshot.Read([1, 2, 3]));
    }
}
