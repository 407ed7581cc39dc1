using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>The volatility circuit breaker (docs/guards.md): a mark move of more than Y within Z halts trading for a cooling period.</summary>
public class CircuitBreakerTests
{
    private static readonly GuardParameters Breaker10PctIn5MinHalt5Min = new(
        BreakerMovePpm: 100_000, BreakerWindowMicros: 5 * GuardVenue.Minute, BreakerHaltMicros: 5 * GuardVenue.Minute);

    private static (GuardVenue Venue, int Btc, int Trader) Start()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, Breaker10PctIn5MinHalt5Min);
        int trader = v.NewAccount(1_000_000m);
        v.TickAfter(GuardVenue.Second); // sets the schedule and takes the first sample: 100,000
        v.TickAfter(GuardVenue.Second); // the next basis boundary: another
        Assert.Equal(2, v.Instrument(btc).Guard.Samples.Count);
        return (v, btc, trader);
    }

    [Fact]
    public void A_move_of_exactly_the_threshold_does_not_halt()
    {
        var (v, btc, _) = Start();
        v.SetIndex("BTC", 110_000m); // the mark follows the index (no book)
        v.TickAfter(GuardVenue.Second);
        Assert.Equal(InstrumentState.Active, v.Instrument(btc).State);
    }

    [Fact]
    public void A_move_beyond_the_threshold_halts_orders_are_rejected_cancels_accepted_and_trading_resumes_after_the_cooling_period()
    {
        var (v, btc, trader) = Start();
        long resting = v.Place(trader, btc, Side.Buy, 95_000m, 0.1m);
        v.SetIndex("BTC", 110_000.5m);
        v.TickAfter(GuardVenue.Second);

        var halted = Assert.Single(v.Events, e => e.Kind == EventKind.TradingHalted);
        Assert.Equal(btc, halted.InstrumentId);
        Assert.Equal(Price.FromDecimal(110_000.5m), halted.Price);
        Assert.Equal(100_005, halted.RatePpb); // the move in ppm, rounded toward zero
        Assert.Equal(InstrumentState.Halted, v.Instrument(btc).State);
        long haltedAt = v.Now;

        v.Reject(GuardVenue.Order(trader, btc, Side.Buy, 100_000m, 0.1m), RejectReason.TradingHalted);
        v.Reject(new AmendOrder(trader, resting, Price.FromDecimal(96_000m), Quantity.FromDecimal(0.1m)), RejectReason.TradingHalted);
        v.Accept(new CancelOrder(trader, resting));

        v.Advance(haltedAt + (5 * GuardVenue.Minute) - v.Now - 2_000);
        v.Accept(new Tick()); // 1 ms before the end of the halt
        Assert.Equal(InstrumentState.Halted, v.Instrument(btc).State);
        v.Accept(new Tick()); // exactly at the end
        Assert.Contains(v.Events, e => e.Kind == EventKind.TradingResumed && e.InstrumentId == btc);
        Assert.Equal(InstrumentState.Active, v.Instrument(btc).State);
        v.Place(trader, btc, Side.Buy, 105_000m, 0.1m);
    }

    [Fact]
    public void Moves_further_apart_than_the_window_do_not_add_up()
    {
        var (v, btc, _) = Start();
        v.SetIndex("BTC", 106_000m);
        v.TickAfter(3 * GuardVenue.Minute);
        v.TickAfter(3 * GuardVenue.Minute); // the 100,000 sample is now older than 5 minutes
        v.SetIndex("BTC", 112_000m); // +12% on 100,000, +5.7% on 106,000
        v.TickAfter(GuardVenue.Second);
        Assert.Equal(InstrumentState.Active, v.Instrument(btc).State);
        v.SetIndex("BTC", 117_000m); // +10.4% on 106,000, which is still in the window
        v.TickAfter(GuardVenue.Second);
        Assert.Equal(InstrumentState.Halted, v.Instrument(btc).State);
    }

    [Fact]
    public void Halt_and_samples_survive_a_snapshot()
    {
        var (v, btc, _) = Start();
        v.SetIndex("BTC", 120_000m);
        v.TickAfter(GuardVenue.Second);
        var restored = Clearhouse.Core.Serialization.EngineSnapshot.Read(Clearhouse.Core.Serialization.EngineSnapshot.Write(v.Engine));
        Assert.Equal(v.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        Assert.True(restored.TryGetInstrument(btc, out var instrument));
        Assert.Equal(InstrumentState.Halted, instrument.State);
        Assert.Equal(v.Instrument(btc).Guard.HaltedUntilMicros, instrument.Guard.HaltedUntilMicros);
    }
}
