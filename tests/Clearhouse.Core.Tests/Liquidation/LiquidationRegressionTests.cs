using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// Defects the liquidation property tests found, each reduced to the smallest story that shows it.
/// </summary>
public class LiquidationRegressionTests
{
    /// <summary>
    /// A counterparty deleveraged at a bankruptcy price far beyond the mark can be left below zero
    /// with nothing to close. Before the fix no later mark move ever re-checked it (it is exposed to
    /// nothing), so its negative equity stayed forever. L is long 10 ETH and 0.29 BTC on 1,180 of
    /// collateral; BTC falls 90%: L is 24,920 under water, and ETH, the larger maintenance, is closed
    /// first at its bankruptcy price 3,000 + 24,920 / 10 = 5,492. With an empty fund the short S
    /// (600 of collateral) is deleveraged there and left at −24,320. It is queued in the same
    /// command, and at the next its deficit is covered.
    /// </summary>
    [Fact]
    public void A_counterparty_deleveraged_below_zero_is_queued_at_once_and_its_deficit_covered()
    {
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        int eth = venue.ListPerpetual("ETH", 0.05m, 0.01m, 3_000m);
        int maker = venue.NewAccount(10_000_000m);
        int s = venue.NewAccount(600m);
        int l = venue.NewAccount(1_180m);
        venue.Trade(l, s, eth, 3_000m, 10m);
        venue.Trade(l, maker, btc, 100_000m, 0.29m);

        venue.SetIndex("BTC", 10_000m);
        var step = Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        Assert.Equal((l, eth, Price.FromWhole(5_492)), (step.AccountId, step.InstrumentId, step.Price));
        var adl = Assert.Single(venue.EventsOf(EventKind.AutoDeleveraged));
        Assert.Equal(s, adl.MakerAccountId);
        Assert.Equal(Money.FromWhole(-24_320), venue.Engine.GetMarginSummary(s).Equity);
        Assert.Equal(0, venue.Account(s).ActiveCount);
        Assert.Contains(venue.Events, e => e.Kind == EventKind.LiquidationQueued && e.AccountId == s);

        venue.Accept(new Deposit(maker, Money.FromWhole(1)));
        var covered = Assert.Single(venue.EventsOf(EventKind.InsuranceDeficitCovered), e => e.AccountId == s);
        Assert.Equal(Money.FromWhole(24_320), covered.Amount);
        venue.DrainQueue();
        venue.AssertNoNegativeEquity();
        venue.AssertValueConserved();
        venue.AssertOpenInterestBalanced();
    }

    /// <summary>
    /// The same deleveraging against an isolated short that also has an order resting: the position
    /// is flat but not released (it has an order), its collateral −24,320. The queued entry found
    /// nothing to close and ended, leaving the order and the deficit in place for good; now the
    /// order is cancelled, the flat position released and its deficit covered by the fund. The
    /// account loses its isolated collateral (600), not a micro of its cross balance.
    /// </summary>
    [Fact]
    public void An_isolated_position_deleveraged_flat_below_zero_with_an_order_resting_is_released_and_covered()
    {
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        int eth = venue.ListPerpetual("ETH", 0.05m, 0.01m, 3_000m);
        int maker = venue.NewAccount(10_000_000m);
        int s = venue.NewAccount(1_000_000m);
        int l = venue.NewAccount(1_180m);
        venue.Accept(new SetIsolatedMargin(s, eth, true));
        venue.Trade(l, s, eth, 3_000m, 10m);
        venue.Place(s, eth, Side.Buy, 2_000m, 0.01m);
        venue.Trade(l, maker, btc, 100_000m, 0.29m);
        Assert.Equal(Money.FromWhole(600), venue.Position(s, eth).IsolatedCash - Money.FromWhole(30_000));

        venue.SetIndex("BTC", 10_000m);
        Assert.Equal(s, Assert.Single(venue.EventsOf(EventKind.AutoDeleveraged)).MakerAccountId);
        Assert.True(venue.Position(s, eth).Size.IsZero);
        Assert.Equal(Money.FromWhole(-24_320), venue.Position(s, eth).IsolatedCash);
        Assert.Contains(venue.Events, e => e.Kind == EventKind.LiquidationQueued && e.AccountId == s && e.InstrumentId == eth);

        venue.Accept(new Deposit(maker, Money.FromWhole(1)));
        Assert.Contains(venue.Events, e => e.Kind == EventKind.OrderCancelled && e.AccountId == s && e.CancelReason == CancelReason.Liquidation);
        var covered = Assert.Single(venue.EventsOf(EventKind.IsolatedDeficitCovered));
        Assert.Equal((s, eth, Money.FromWhole(24_320)), (covered.AccountId, covered.InstrumentId, covered.Amount));
        Assert.Equal(Money.FromWhole(999_400), venue.Account(s).Cash);
        venue.DrainQueue();
        venue.AssertNoNegativeEquity();
        venue.AssertValueConserved();
    }

    /// <summary>
    /// The backstop's floor check divided the fund's headroom (in micros × 1e8) by the loss per
    /// contract in 64 bits: a 1,000,000 fund and a bankruptcy price one micro beyond the mark made
    /// the engine throw in the middle of a command. Long 1 BTC at 100,000 with 2,000; at
    /// 97,999.999999 its equity is −0.000001 and its bankruptcy price 98,000.
    /// </summary>
    [Fact]
    public void A_bankruptcy_price_one_micro_beyond_the_mark_with_a_large_fund_is_taken_over()
    {
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        venue.Accept(new DepositInsuranceFund(Money.FromWhole(1_000_000)));
        int maker = venue.NewAccount(10_000_000m);
        int trader = venue.NewAccount(2_000m);
        venue.Trade(trader, maker, btc, 100_000m, 1m);

        venue.SetIndex("BTC", 97_999.999999m);
        var step = Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        Assert.Equal(new Money(-1), step.Amount);
        Assert.Equal(Price.FromWhole(98_000), step.Price);
        var takeover = Assert.Single(venue.EventsOf(EventKind.BackstopTakeover));
        Assert.Equal(Quantity.FromWhole(1), takeover.Quantity);
        Assert.Equal(Money.FromWhole(1_000_000) - new Money(1), venue.FundEquity());
        venue.AssertValueConserved();
    }

    /// <summary>
    /// A takeover at no loss per contract (bankruptcy price = mark, the account at exactly zero
    /// equity) can still cost the fund a micro: it pays the notional rounded up and values the
    /// position rounded down. With the fund exactly at its floor, that micro would take it below;
    /// the rest goes to auto-deleveraging instead. Long 0.003 BTC at 100,000 with 6.000001: at
    /// 97,999.999999 the position is worth 293.999999(997), the equity exactly 0.
    /// </summary>
    [Fact]
    public void A_takeover_whose_rounding_would_take_the_fund_a_micro_below_its_floor_is_deleveraged_instead()
    {
        var floor = Money.FromWhole(1_000_000);
        var venue = new ClockedVenue(EngineConfig.Default with { InsuranceFloorMicros = floor.Micros });
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        venue.Accept(new DepositInsuranceFund(floor));
        int maker = venue.NewAccount(10_000_000m);
        int trader = venue.NewAccount(6.000001m);
        venue.Trade(trader, maker, btc, 100_000m, 0.003m);

        venue.SetIndex("BTC", 97_999.999999m);
        var step = Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        Assert.Equal(Money.Zero, step.Amount);
        Assert.Equal(Price.FromDecimal(97_999.999999m), step.Price); // the mark: nothing to share
        Assert.DoesNotContain(venue.Events, e => e.Kind == EventKind.BackstopTakeover);
        Assert.Equal(maker, Assert.Single(venue.EventsOf(EventKind.AutoDeleveraged)).MakerAccountId);
        Assert.Equal(floor, venue.FundEquity());
        Assert.Equal(Money.Zero, venue.Account(trader).Cash);
        venue.AssertValueConserved();
        venue.AssertNoNegativeEquity();
    }

    /// <summary>
    /// A short whose bankruptcy price is under one tick — here 1 micro: the cross deficit of a
    /// crashed BTC long falls on the short ETH position the rules close first — used to send a
    /// buy limited to one tick (0.05) to the book, where it bought from an ask at 0.05: worse than
    /// its bankruptcy price. Now no tick is on the safe side, so the book is skipped.
    /// </summary>
    [Fact]
    public void A_short_bankrupt_below_one_tick_does_not_buy_from_the_book_above_its_bankruptcy_price()
    {
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        var riskier = MarginTiers.Create([new MarginTier(new Money(long.MaxValue), 500_000, 250_000)]);
        int eth = venue.ListPerpetual("ETH", 0.05m, 0.01m, 3_000m, tiers: riskier);
        int maker = venue.NewAccount(10_000_000m);
        int trader = venue.NewAccount(2_500m); // initial: 50% of 3,000 + 2% of 50,000
        venue.Trade(maker, trader, eth, 3_000m, 1m);
        venue.Trade(trader, maker, btc, 100_000m, 0.5m);
        venue.Place(maker, eth, Side.Sell, 0.05m, 1m); // an ask one tick above zero

        venue.SetIndex("BTC", 85_000m); // equity 2,500 − 7,500 = −5,000 > the short's 3,000 of notional
        var step = Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        Assert.Equal((eth, Side.Buy, new Price(1)), (step.InstrumentId, step.Side, step.Price));
        Assert.DoesNotContain(venue.Events, e => e.Kind == EventKind.TradeExecuted && e.Liquidation);
        var adl = Assert.Single(venue.EventsOf(EventKind.AutoDeleveraged));
        Assert.Equal((maker, new Price(1)), (adl.MakerAccountId, adl.Price));
        Assert.Single(venue.Engine.GetOpenOrders(maker, eth)); // the ask is still there
        venue.AssertValueConserved();
        venue.AssertOpenInterestBalanced();
    }

    /// <summary>
    /// Streams of <see cref="LiquidationProperties"/> that failed before their fix, by CsCheck seed
    /// (valid as long as the stream generator is unchanged): a 64-bit overflow in the backstop's
    /// capacity; a counterparty left below zero by auto-deleveraging; a takeover whose rounding took
    /// the fund a micro below its floor; and a step decided before the account's own orders were
    /// cancelled — those orders were part of a perpetual's mark (the book's median), so the step it
    /// went on to take was no longer due and its proof did not verify; an isolated position left
    /// flat below zero by auto-deleveraging, with an order resting, never released; and (with
    /// options) a short option bankrupt under one tick that bought from the book above it.
    /// </summary>
    [Theory]
    [InlineData("6FMwEGUDFOg1", false)]
    [InlineData("7FxBnnkkt9e1", false)]
    [InlineData("aPzSVzUKnDO1", false)]
    [InlineData("f--6INQbuEe1", false)]
    [InlineData("6d4p6v26_I31", false)]
    [InlineData("1ivi-BPtwFB1", true)]
    public void Streams_that_once_failed_pass(string seed, bool options) => LiquidationProperties.RunSeed(seed, options);
}
