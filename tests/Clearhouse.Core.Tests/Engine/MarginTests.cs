using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Engine;

/// <summary>Standard margin, pre-trade checks and withdrawals at their exact boundaries.</summary>
public class MarginTests
{
    [Fact]
    public void An_order_is_accepted_when_equity_exactly_covers_initial_margin_and_the_taker_fee()
    {
        // Buy 1 BTC at the 100,000 mark: 2% initial = 2,000 USDC, plus the 0.05% taker fee it could pay = 50.
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual();
        int exact = venue.NewAccount(2_050m);
        int short1 = venue.NewAccount(2_049.999999m);

        Assert.Equal(RejectReason.None, venue.TryPlace(exact, btc, Side.Buy, 100_000m, 1m));
        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, venue.TryPlace(short1, btc, Side.Buy, 100_000m, 1m));
        Assert.Equal(before, venue.Engine.ComputeStateHashHex());
    }

    [Fact]
    public void Post_only_orders_are_not_charged_the_taker_fee_in_the_check()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual();
        int trader = venue.NewAccount(2_000m);
        Assert.Equal(RejectReason.None, venue.TryPlace(trader, btc, Side.Buy, 100_000m, 1m, flags: OrderFlags.PostOnly));
    }

    [Fact]
    public void Open_orders_are_margined_on_the_worse_side_not_the_sum_of_both()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int trader = venue.NewAccount(2_000m);
        venue.Buy(trader, btc, 99_000m, 1m);
        venue.Sell(trader, btc, 101_000m, 1m); // the other side needs no more: worst side is still 1 BTC
        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(2_000), summary.Initial);
        Assert.Equal(RejectReason.InsufficientMargin, venue.TryPlace(trader, btc, Side.Sell, 101_000m, 1m));
    }

    [Fact]
    public void A_buy_above_the_mark_also_needs_the_loss_it_would_lock_in()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int trader = venue.NewAccount(1_000_000m);
        venue.Buy(trader, btc, 101_000m, 1m);
        // 2% of 100,000 at the mark + (101,000 − 100,000) paid over the mark.
        Assert.Equal(Money.FromWhole(3_000), venue.Engine.GetMarginSummary(trader).Initial);
    }

    [Fact]
    public void Larger_positions_pay_the_higher_tier_rate_on_the_notional_above_each_bound()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int trader = venue.NewAccount(10_000_000m);
        venue.Buy(trader, btc, 100_000m, 20m); // 2,000,000 notional: 2% of 1M + 4% of 1M
        Assert.Equal(Money.FromWhole(60_000), venue.Engine.GetMarginSummary(trader).Initial);
    }

    [Fact]
    public void Equity_is_balance_plus_unrealized_pnl_at_the_mark()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int maker = venue.NewAccount(1_000_000m);
        int trader = venue.NewAccount(10_000m);
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m);
        venue.SetIndex("BTC", 103_000m);

        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(10_000), summary.Balance);
        Assert.Equal(Money.FromWhole(3_000), summary.UnrealizedPnl);
        Assert.Equal(Money.FromWhole(13_000), summary.Equity);
        Assert.Equal(Money.FromWhole(2_060), summary.Initial);      // 2% of 103,000
        Assert.Equal(Money.FromWhole(1_030), summary.Maintenance);  // 1% of 103,000
    }

    [Fact]
    public void Unrealized_profit_cannot_be_withdrawn_but_free_collateral_can_to_the_micro()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual();
        int maker = venue.NewAccount(1_000_000m);
        int trader = venue.NewAccount(10_000m);
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m); // pays 50 taker fee: balance 9,950
        venue.SetIndex("BTC", 110_000m);       // +10,000 unrealized; initial 2,200

        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(7_750), summary.Available);
        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new Withdraw(trader, Money.FromDecimal(7_750.000001m))));
        Assert.Equal(before, venue.Engine.ComputeStateHashHex());
        venue.Accept(new Withdraw(trader, Money.FromWhole(7_750)));
        Assert.Equal(venue.Engine.Ledger.TotalDeposited - venue.Engine.Ledger.TotalWithdrawn, venue.TotalHeld());
    }

    [Fact]
    public void An_unrealized_loss_reduces_what_can_be_withdrawn()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int maker = venue.NewAccount(1_000_000m);
        int trader = venue.NewAccount(10_000m);
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m);
        venue.SetIndex("BTC", 95_000m); // −5,000; initial 1,900

        Assert.Equal(Money.FromWhole(3_100), venue.Engine.GetMarginSummary(trader).Available);
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new Withdraw(trader, Money.FromDecimal(3_100.000001m))));
    }

    [Fact]
    public void An_under_margined_account_may_still_place_an_order_that_reduces_its_risk()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int maker = venue.NewAccount(1_000_000m);
        int trader = venue.NewAccount(2_500m);
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m);
        venue.SetIndex("BTC", 99_000m); // equity 1,500 < initial 1,980

        Assert.Equal(RejectReason.InsufficientMargin, venue.TryPlace(trader, btc, Side.Buy, 98_000m, 0.1m));
        Assert.Equal(RejectReason.None, venue.TryPlace(trader, btc, Side.Sell, 99_000m, 0.5m));
    }

    [Fact]
    public void Withdrawing_more_than_the_balance_of_an_idle_account_is_refused()
    {
        var venue = new Venue();
        int trader = venue.NewAccount(100m);
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new Withdraw(trader, Money.FromDecimal(100.000001m))));
        Assert.Equal(RejectReason.AmountNotPositive, venue.Apply(new Withdraw(trader, Money.Zero)));
        Assert.Equal(RejectReason.AmountNotPositive, venue.Apply(new Deposit(trader, new Money(-1))));
        venue.Accept(new Withdraw(trader, Money.FromWhole(100)));
    }
}
