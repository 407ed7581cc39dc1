using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Merkle;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>The state root commits to the guards: setting them, breaker samples and a halt all change it, and the incremental tree agrees with the one built from scratch.</summary>
public class GuardStateRootTests
{
    [Fact]
    public void Guard_parameters_samples_and_halts_are_in_the_state_root()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int maker = v.NewAccount(10_000_000m);
        v.Place(maker, btc, Side.Buy, 99_000m, 1m);
        var tree = new StateTree();
        byte[] before = tree.Update(v.Engine);

        v.Accept(new SetInstrumentGuards(btc, new GuardParameters(PriceBandPpm: 100_000, BreakerMovePpm: 50_000, BreakerWindowMicros: 5 * GuardVenue.Minute, BreakerHaltMicros: GuardVenue.Minute)));
        byte[] guarded = tree.Update(v.Engine);
        Assert.NotEqual(before, guarded);
        Assert.Equal(StateTree.ComputeFromScratch(v.Engine), guarded);

        v.TickAfter(GuardVenue.Second); // a breaker sample
        v.TickAfter(GuardVenue.Second);
        byte[] sampled = tree.Update(v.Engine);
        Assert.Equal(StateTree.ComputeFromScratch(v.Engine), sampled);

        v.SetIndex("BTC", 90_000m); // −10%: the breaker trips on the next sample
        v.TickAfter(GuardVenue.Second);
        Assert.Contains(v.Events, e => e.Kind == EventKind.TradingHalted);
        byte[] halted = tree.Update(v.Engine);
        Assert.NotEqual(sampled, halted);
        Assert.Equal(StateTree.ComputeFromScratch(v.Engine), halted);
    }
}
