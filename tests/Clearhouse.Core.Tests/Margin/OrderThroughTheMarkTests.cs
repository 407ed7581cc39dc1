using Clearhouse.Core.Engine;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Tests.Engine;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>
/// Resting orders' loss through the mark is kept per side on aggregates, so an account's orders
/// priced better than the mark would net against a new order priced through it. The new order can
/// fill at once, though, and lock its loss in: the pre-trade check charges it in full. (Found by the
/// margin invariant of <c>EngineProperties</c>: before, the account below was accepted with 4,000 and
/// left with −1,000 of equity.)
/// </summary>
public class OrderThroughTheMarkTests
{
    private static (Venue Venue, int Btc, int Trader, int Short) SellerWithAFarAsk(decimal deposit, bool isolated = false, MarginMode mode = MarginMode.Standard)
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int maker = venue.NewAccount(10_000_000m);
        int trader = venue.NewAccount(deposit);
        int oneMicroShort = venue.NewAccount(deposit - 0.000001m);
        foreach (int account in new[] { trader, oneMicroShort })
        {
            venue.Accept(new SetMarginMode(account, mode));
            if (isolated)
            {
                venue.Accept(new SetIsolatedMargin(account, btc, true));
            }

            venue.Sell(account, btc, 110_000m, 1m); // 10,000 above the 100,000 mark: never a loss if it fills
        }

        venue.Buy(maker, btc, 95_000m, 1m); // the only bid: 5,000 below the mark
        return (venue, btc, trader, oneMicroShort);
    }

    [Fact]
    public void A_sell_through_the_mark_is_charged_its_own_loss_even_with_a_resting_sell_above_the_mark()
    {
        // Worst side short 2: 2% × 200,000 = 4,000; the sale at 95,000 gives away 5,000 at once. 9,000 in all.
        var (venue, btc, trader, oneMicroShort) = SellerWithAFarAsk(9_000m);
        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, venue.TryPlace(oneMicroShort, btc, Side.Sell, 95_000m, 1m, TimeInForce.ImmediateOrCancel));
        Assert.Equal(before, venue.Engine.ComputeStateHashHex());

        Assert.Equal(RejectReason.None, venue.TryPlace(trader, btc, Side.Sell, 95_000m, 1m, TimeInForce.ImmediateOrCancel));
        Assert.Single(venue.Trades);
        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(4_000), summary.Equity);  // 9,000 + 95,000 − 100,000
        Assert.Equal(Money.FromWhole(4_000), summary.Initial); // short 1 and the 110,000 ask: worst side short 2
    }

    [Fact]
    public void In_portfolio_margin_too()
    {
        // Worst side short 2: the +16% scenario costs 32,000; plus the 5,000 given away.
        var (venue, btc, trader, oneMicroShort) = SellerWithAFarAsk(37_000m, mode: MarginMode.Portfolio);
        Assert.Equal(RejectReason.InsufficientMargin, venue.TryPlace(oneMicroShort, btc, Side.Sell, 95_000m, 1m, TimeInForce.ImmediateOrCancel));
        Assert.Equal(RejectReason.None, venue.TryPlace(trader, btc, Side.Sell, 95_000m, 1m, TimeInForce.ImmediateOrCancel));
        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(summary.Initial, summary.Equity);
    }

    [Fact]
    public void An_isolated_position_is_topped_up_for_the_loss_so_that_it_never_lands_on_the_insurance_fund()
    {
        var (venue, btc, trader, _) = SellerWithAFarAsk(100_000m, isolated: true);
        Assert.Equal(RejectReason.None, venue.TryPlace(trader, btc, Side.Sell, 95_000m, 1m, TimeInForce.ImmediateOrCancel));
        var isolated = Assert.Single(venue.Engine.GetMarginReport(trader)!.Isolated).Summary;
        Assert.True(isolated.Initial <= isolated.Equity, $"isolated initial {isolated.Initial} > equity {isolated.Equity}");
        Assert.Equal(Money.FromWhole(4_000), isolated.Equity);
        Assert.Equal(Money.Zero, venue.Engine.Ledger.InsuranceFund);
    }
}
