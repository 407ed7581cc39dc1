using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;
using Clearhouse.Core.Tests.Engine;
using CsCheck;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>
/// A snapshot stores the inputs of each option's last mark, not its scenario grid; restoring rebuilds
/// the grids from them. The restored engine must have the same state hash, the same grids to the
/// bit, the same margin report for every account, and behave identically afterwards.
/// </summary>
public class MarginSnapshotTests
{
    private static void AssertSameMargin(CoreEngine expected, CoreEngine actual)
    {
        Assert.Equal(expected.ComputeStateHashHex(), actual.ComputeStateHashHex());
        Assert.Equal(expected.Instruments.Count, actual.Instruments.Count);
        for (int i = 0; i < expected.Instruments.Count; i++)
        {
            var bitsExpected = expected.Instruments[i].RiskGrid.ToArray().Select(BitConverter.DoubleToInt64Bits);
            var bitsActual = actual.Instruments[i].RiskGrid.ToArray().Select(BitConverter.DoubleToInt64Bits);
            Assert.Equal(bitsExpected, bitsActual);
            Assert.Equal(expected.Instruments[i].MarkPrice, actual.Instruments[i].MarkPrice);
        }

        for (int a = 1; a <= expected.AccountCount; a++)
        {
            var mine = expected.GetMarginReport(a)!;
            var theirs = actual.GetMarginReport(a)!;
            Assert.Equal(mine.Mode, theirs.Mode);
            Assert.Equal(mine.Cross, theirs.Cross);
            Assert.Equal(mine.Positions, theirs.Positions);
            Assert.Equal(mine.Portfolio, theirs.Portfolio);
            Assert.Equal(mine.Isolated, theirs.Isolated);
        }
    }

    [Fact]
    public void A_restored_engine_with_portfolio_accounts_isolated_positions_and_options_has_the_same_grids_and_margin_and_behaves_the_same()
    {
        var o = new OptionsVenue();
        int call = o.ListOption(110_000m, OptionRight.Call);
        int put = o.ListOption(90_000m, OptionRight.Put);
        int portfolio = o.Venue.NewAccount(200_000m);
        int isolated = o.Venue.NewAccount(50_000m);
        o.Venue.Accept(new SetMarginMode(portfolio, MarginMode.Portfolio));
        o.Trade(portfolio, call, -2m, o.TickAtOrAboveMark(call));
        o.Trade(portfolio, put, 1m, o.TickAtOrAboveMark(put));
        o.Trade(portfolio, o.Future, 0.5m, 100_000m);
        o.Venue.Accept(new SetIsolatedMargin(isolated, o.Future, true));
        o.Trade(isolated, o.Future, -1m, 100_000m);
        o.Venue.Place(portfolio, call, Side.Sell, o.TickAtOrAboveMark(call) + 100m, 1m); // an open order on the worse side
        o.Venue.Place(o.Bank, call, Side.Buy, o.TickAtOrAboveMark(call) - 50m, 1m, flags: OrderFlags.PostOnly);
        o.SetIndex(104_000m); // the future's mark moves; the options keep the marks (and grids) of their last re-mark

        var restored = EngineSnapshot.Read(EngineSnapshot.Write(o.Engine));
        AssertSameMargin(o.Engine, restored);
        Assert.Equal(MarginMode.Portfolio, restored.GetMarginReport(portfolio)!.Mode);
        Assert.Single(restored.GetMarginReport(isolated)!.Isolated);
        Assert.NotEmpty(restored.Instruments[call - 1].RiskGrid.ToArray());

        // Both go on the same way: a re-mark, a trade, a transfer, a mode change.
        long time = o.Now;
        long sequence = o.Engine.LastSequence;
        Command[] tail =
        [
            new PlaceOrder(portfolio, call, Side.Sell, OrderType.Market, TimeInForce.ImmediateOrCancel, default, Quantity.FromDecimal(0.5m)),
            new TransferIsolatedMargin(isolated, o.Future, Money.FromWhole(1_000)),
            new SetMarginMode(portfolio, MarginMode.Standard),
            new Withdraw(portfolio, Money.FromWhole(1_000)),
        ];
        foreach (var command in tail)
        {
            var stamped = command with { Sequence = ++sequence, TimestampMicros = time += 1_000 };
            Assert.Equal(o.Engine.Apply(stamped), restored.Apply(stamped));
            Assert.Equal(o.Engine.Events.ToArray(), restored.Events.ToArray());
            AssertSameMargin(o.Engine, restored);
        }
    }

    [Fact]
    public void Over_random_streams_a_snapshot_at_any_point_restores_the_same_margin_and_grids_and_the_same_future()
    {
        int withPortfolio = 0;
        int withIsolated = 0;
        int withOptions = 0;
        Gen.Select(EngineProperties.StreamGen, Gen.Int[200, 1_900]).Sample(t =>
        {
            var (steps, cut) = t;
            var live = new EngineProperties.Driver();
            live.Run(steps, checkEveryCommand: false, requireActivity: false);
            var prefix = new CoreEngine(live.Fast.Config);
            foreach (var command in live.Applied.Take(cut))
            {
                prefix.Apply(command);
            }

            var restored = EngineSnapshot.Read(EngineSnapshot.Write(prefix), live.Fast.Config);
            AssertSameMargin(prefix, restored);
            for (int a = 1; a <= prefix.AccountCount; a++)
            {
                var report = prefix.GetMarginReport(a)!;
                withPortfolio += report.Mode == MarginMode.Portfolio && report.Positions.Count > 0 ? 1 : 0;
                withIsolated += report.Isolated.Count;
                withOptions += report.Positions.Count(p => prefix.Instruments[p.InstrumentId - 1].Kind == InstrumentKind.Option);
            }

            foreach (var command in live.Applied.Skip(cut))
            {
                Assert.Equal(prefix.Apply(command), restored.Apply(command));
                Assert.Equal(prefix.Events.ToArray(), restored.Events.ToArray());
            }

            AssertSameMargin(prefix, restored);
            Assert.Equal(live.Fast.ComputeStateHashHex(), restored.ComputeStateHashHex());
        }, iter: 8, threads: 1);

        // The snapshots really held what this is about.
        Assert.True(withPortfolio > 0 && withIsolated > 0 && withOptions > 0, $"portfolio {withPortfolio}, isolated {withIsolated}, options {withOptions}");
    }
}
