using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>Open-interest caps (docs/guards.md): the hard cap on orders, and the soft cap on initial margin (dYdX's OIMF).</summary>
public class OpenInterestCapTests
{
    [Fact]
    public void Order_that_could_take_open_interest_exactly_to_the_cap_is_accepted_and_one_lot_more_is_rejected()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, new GuardParameters(OpenInterestCap: GuardVenue.Q(10m)));
        int seller = v.NewAccount(10_000_000m);
        int buyer = v.NewAccount(10_000_000m);

        v.Place(seller, btc, Side.Sell, 100_000m, 6m);
        v.Reject(GuardVenue.Order(seller, btc, Side.Sell, 100_000m, 4.001m), RejectReason.OpenInterestCapExceeded);
        v.Place(seller, btc, Side.Sell, 100_000m, 4m); // its sells all filled: open interest 10, the cap
        v.Place(buyer, btc, Side.Buy, 100_000m, 10m);
        Assert.Equal(GuardVenue.Q(10m), v.OpenInterest(btc));

        v.Reject(GuardVenue.Order(buyer, btc, Side.Buy, 90_000m, 0.001m), RejectReason.OpenInterestCapExceeded);
        v.Reject(GuardVenue.Order(seller, btc, Side.Sell, 110_000m, 0.001m), RejectReason.OpenInterestCapExceeded);

        // Orders that reduce open interest are always accepted.
        v.Place(buyer, btc, Side.Sell, 100_500m, 3m);
        v.Place(seller, btc, Side.Buy, 100_500m, 3m);
        Assert.Equal(GuardVenue.Q(7m), v.OpenInterest(btc));
    }

    [Fact]
    public void Flipping_a_position_counts_only_the_new_side_against_the_cap()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, new GuardParameters(OpenInterestCap: GuardVenue.Q(10m)));
        int a = v.NewAccount(10_000_000m);
        int b = v.NewAccount(10_000_000m);
        v.Place(a, btc, Side.Sell, 100_000m, 8m);
        v.Place(b, btc, Side.Buy, 100_000m, 8m); // OI 8; b long 8

        // b sells 10: closes 8, opens 2 short; worst open interest 8 + 2 = 10.
        v.Place(b, btc, Side.Sell, 100_000m, 10m);
        v.Reject(GuardVenue.Order(b, btc, Side.Sell, 100_000m, 0.001m), RejectReason.OpenInterestCapExceeded);
    }

    /// <summary>IMF_eff = min(IMF + max(0, (OI − lower)/(upper − lower)) × (1 − IMF), 1), dYdX's open-interest margin fraction.</summary>
    [Theory]
    [InlineData(10.0, 2_000.0)] // OI at the lower bound: the tiered 2%
    [InlineData(15.0, 51_000.0)] // halfway: 2,000 + 0.5 × (100,000 − 2,000)
    [InlineData(20.0, 100_000.0)] // at the upper bound: 100% of the notional
    [InlineData(25.0, 100_000.0)] // above: still 100%
    public void Soft_cap_raises_the_initial_requirement_linearly_between_lower_and_upper(double openInterest, double expectedInitial)
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, new GuardParameters(OpenInterestSoftLower: GuardVenue.Q(10m), OpenInterestSoftUpper: GuardVenue.Q(20m)));
        int maker = v.NewAccount(100_000_000m);
        int whale = v.NewAccount(100_000_000m);
        int small = v.NewAccount(1_000_000m);
        v.Place(maker, btc, Side.Sell, 100_000m, 1m);
        v.Place(small, btc, Side.Buy, 100_000m, 1m); // 1 contract, 100,000 notional
        v.Place(maker, btc, Side.Sell, 100_000m, (decimal)openInterest - 1m);
        v.Place(whale, btc, Side.Buy, 100_000m, (decimal)openInterest - 1m);
        Assert.Equal(GuardVenue.Q((decimal)openInterest), v.OpenInterest(btc));

        var summary = v.Engine.GetMarginSummary(small);
        Assert.Equal(Money.FromDecimal((decimal)expectedInitial), summary.Initial);
        Assert.Equal(Money.FromDecimal(1_000m), summary.Maintenance); // maintenance is not scaled
    }

    [Fact]
    public void Soft_cap_applies_to_isolated_positions_and_as_an_add_on_under_portfolio_margin()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, new GuardParameters(OpenInterestSoftLower: GuardVenue.Q(10m), OpenInterestSoftUpper: GuardVenue.Q(20m)));
        int maker = v.NewAccount(100_000_000m);
        int isolated = v.NewAccount(1_000_000m);
        int portfolio = v.NewAccount(1_000_000m);
        v.Accept(new SetIsolatedMargin(isolated, btc, true));
        v.Accept(new SetMarginMode(portfolio, Clearhouse.Core.Margin.MarginMode.Portfolio));
        v.Place(maker, btc, Side.Sell, 100_000m, 2m);
        v.Place(isolated, btc, Side.Buy, 100_000m, 1m);
        v.Place(portfolio, btc, Side.Buy, 100_000m, 1m);
        var portfolioBefore = v.Engine.GetMarginSummary(portfolio).Initial;
        var isolatedBefore = v.Engine.GetMarginReport(isolated)!.Isolated[0].Summary.Initial;
        Assert.Equal(Money.FromDecimal(2_000m), isolatedBefore);

        int whale = v.NewAccount(100_000_000m);
        v.Place(maker, btc, Side.Sell, 100_000m, 13m);
        v.Place(whale, btc, Side.Buy, 100_000m, 13m); // OI 15: scale 50%

        Assert.Equal(Money.FromDecimal(51_000m), v.Engine.GetMarginReport(isolated)!.Isolated[0].Summary.Initial);
        Assert.Equal(portfolioBefore + Money.FromDecimal(49_000m), v.Engine.GetMarginSummary(portfolio).Initial);
    }

    [Fact]
    public void Soft_cap_refuses_an_order_the_plain_tiers_would_have_accepted()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, new GuardParameters(OpenInterestSoftLower: GuardVenue.Q(10m), OpenInterestSoftUpper: GuardVenue.Q(20m)));
        int maker = v.NewAccount(100_000_000m);
        int whale = v.NewAccount(100_000_000m);
        v.Place(maker, btc, Side.Sell, 100_000m, 15m);
        v.Place(whale, btc, Side.Buy, 100_000m, 15m); // OI 15
        int trader = v.NewAccount(50_000m); // covers 2% of 100,000, not 51%
        v.Reject(GuardVenue.Order(trader, btc, Side.Buy, 100_000m, 1m), RejectReason.InsufficientMargin);
        v.Accept(new Deposit(trader, Money.FromDecimal(1_000m)));
        v.Place(trader, btc, Side.Buy, 100_000m, 1m);
    }
}
