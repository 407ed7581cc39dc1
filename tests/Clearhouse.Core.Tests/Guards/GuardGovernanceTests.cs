using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>Guard parameters: venue defaults, the governance command, its encoding and snapshots.</summary>
public class GuardGovernanceTests
{
    public static TheoryData<GuardParameters> InvalidParameters => new()
    {
        new GuardParameters(PriceBandPpm: 1_000_000),
        new GuardParameters(PriceBandPpm: -1),
        new GuardParameters(OpenInterestCap: GuardVenue.Q(-1m)),
        new GuardParameters(OpenInterestSoftLower: GuardVenue.Q(20m), OpenInterestSoftUpper: GuardVenue.Q(20m)),
        new GuardParameters(OpenInterestSoftLower: GuardVenue.Q(5m)),
        new GuardParameters(PositionLimitFloor: GuardVenue.Q(1m), PositionLimitOpenInterestPpm: 1_000_001),
        new GuardParameters(BreakerMovePpm: 100_000, BreakerWindowMicros: 999_999, BreakerHaltMicros: GuardVenue.Minute),
        new GuardParameters(BreakerMovePpm: 100_000, BreakerWindowMicros: GuardVenue.Minute, BreakerHaltMicros: 25 * 60 * GuardVenue.Minute),
        new GuardParameters(BreakerWindowMicros: GuardVenue.Minute),
    };

    [Theory]
    [MemberData(nameof(InvalidParameters))]
    public void Invalid_guard_parameters_are_rejected_and_change_nothing(GuardParameters parameters)
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        v.Reject(new SetInstrumentGuards(btc, parameters), RejectReason.InvalidGuardParameters);
        v.Reject(new SetInstrumentGuards(99, GuardParameters.Recommended), RejectReason.UnknownInstrument);
    }

    [Fact]
    public void Venue_defaults_apply_to_every_new_listing_and_governance_overrides_one_instrument()
    {
        var v = new GuardVenue(new EngineConfig { Guards = GuardParameters.Recommended });
        int btc = v.ListPerpetual("BTC", 100_000m);
        int eth = v.ListPerpetual("ETH", 4_000m);
        Assert.Equal(GuardParameters.Recommended, v.Instrument(btc).Guard.Parameters);
        var tight = GuardParameters.Recommended with { PriceBandPpm = 10_000 };
        v.Accept(new SetInstrumentGuards(eth, tight));
        Assert.Equal(EventKind.GuardsSet, v.Events[0].Kind);
        Assert.Equal(tight, v.Instrument(eth).Guard.Parameters);
        Assert.Equal(GuardParameters.Recommended, v.Instrument(btc).Guard.Parameters);
    }

    [Fact]
    public void The_governance_command_round_trips_through_the_codec()
    {
        var command = new SetInstrumentGuards(3, new GuardParameters(50_000, GuardVenue.Q(1_000m), GuardVenue.Q(100m), GuardVenue.Q(900m), GuardVenue.Q(10m), 150_000, 100_000, GuardVenue.Minute, 2 * GuardVenue.Minute))
        {
            Sequence = 11,
            TimestampMicros = 12,
        };
        byte[] bytes = CommandCodec.Encode(command);
        Assert.Equal(41, bytes[0]);
        Assert.Equal(command, CommandCodec.Decode(bytes));
    }

    [Fact]
    public void With_every_guard_off_the_snapshot_has_no_guard_section()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int trader = v.NewAccount(1_000_000m);
        v.Place(trader, btc, Side.Buy, 99_000m, 0.1m);
        byte[] snapshot = EngineSnapshot.Write(v.Engine);
        Assert.DoesNotContain("guards/v1", System.Text.Encoding.UTF8.GetString(snapshot));

        v.Accept(new SetInstrumentGuards(btc, GuardParameters.Recommended));
        byte[] guarded = EngineSnapshot.Write(v.Engine);
        Assert.Contains("guards/v1", System.Text.Encoding.UTF8.GetString(guarded));
        var restored = EngineSnapshot.Read(guarded);
        Assert.Equal(v.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        Assert.True(restored.TryGetInstrument(btc, out var instrument));
        Assert.Equal(GuardParameters.Recommended, instrument.Guard.Parameters);
    }

    [Fact]
    public void A_snapshot_cannot_be_restored_under_different_venue_guard_defaults()
    {
        var v = new GuardVenue(new EngineConfig { Guards = GuardParameters.Recommended });
        v.ListPerpetual("BTC", 100_000m);
        byte[] snapshot = EngineSnapshot.Write(v.Engine);
        Assert.Throws<FormatException>(() => EngineSnapshot.Read(snapshot));
        Assert.Equal(v.Engine.ComputeStateHashHex(), EngineSnapshot.Read(snapshot, new EngineConfig { Guards = GuardParameters.Recommended }).ComputeStateHashHex());
    }
}
