using Clearhouse.Core.Engine;
using Clearhouse.Core.Tests.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Xunit;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// The liquidation waterfall step by step, on a BTC perpetual with the LargeCap table
/// (maintenance 1% below 1,000,000 USDC of notional) and the default 0.05% taker fee.
/// </summary>
public class LiquidationTests
{
    private readonly Venue venue = new();
    private readonly int btc;
    private readonly int maker;

    public LiquidationTests()
    {
        btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        maker = venue.NewAccount(10_000_000m);
    }

    /// <summary>An account long 1 BTC at 100,000 with <paramref name="collateral"/> USDC.</summary>
    private int LongOneBtc(decimal collateral)
    {
        int trader = venue.NewAccount(collateral);
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m);
        return trader;
    }

    [Fact]
    public void Equity_equal_to_maintenance_is_not_liquidated_and_one_micro_below_is()
    {
        // Long 1 at 100,000 with 3,000: at index p, equity = 3,000 + (p − 100,000), maintenance = 1% × p.
        // Equal when 3,000 + p − 100,000 = 0.01 p → p = 97,000 / 0.99 = 97,979.797979… — not on the micro
        // grid, so take the boundary from the other side: set the index so that equity − maintenance is exactly 0.
        int trader = LongOneBtc(2_980m);
        venue.SetIndex("BTC", 98_000m); // equity 980, maintenance 980: equal
        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(summary.Maintenance, summary.Equity);
        Assert.Empty(venue.Engine.LiquidationQueue);
        Assert.DoesNotContain(venue.Events.ToArray(), e => e.Kind == EventKind.LiquidationStep);

        // One micro lower: equity 979.999999, maintenance rounds up to 980.000000: due.
        venue.SetIndex("BTC", 97_999.999999m);
        Assert.Contains(venue.Events.ToArray(), e => e.Kind == EventKind.LiquidationQueued && e.AccountId == trader);
        var proof = venue.Engine.Liquidations.Single();
        Assert.Equal(Money.FromDecimal(979.999999m), proof.Equity);
        Assert.Equal(Money.FromDecimal(980m), proof.Maintenance);
    }

    [Fact]
    public void A_liquidation_sells_through_the_book_never_below_the_bankruptcy_price_and_its_proof_verifies()
    {
        int trader = LongOneBtc(3_000m);
        venue.Buy(maker, btc, 96_500m, 0.4m);
        venue.Buy(maker, btc, 96_000m, 1m);
        venue.SetIndex("BTC", 97_500m); // equity 500 < maintenance 975

        var events = venue.Events.ToArray();
        var step = Assert.Single(events, e => e.Kind == EventKind.LiquidationStep);
        Assert.Equal(trader, step.AccountId);
        Assert.Equal(Quantity.FromDecimal(1m), step.Quantity); // 97,500 of notional: closed in one step
        Assert.Equal(Price.FromDecimal(97_000m), step.Price);  // 97,500 − 500 / 1

        // The bids at 96,500 and 96,000 are below the bankruptcy price: the book cannot take it, the fund does.
        Assert.DoesNotContain(events, e => e.Kind == EventKind.TradeExecuted && e.Liquidation);
        var takeover = Assert.Single(events, e => e.Kind == EventKind.BackstopTakeover);
        Assert.Equal(Price.FromDecimal(97_000m), takeover.Price);
        Assert.True(venue.Position(trader, btc).Size.IsZero);
        Assert.Equal(Money.Zero, venue.Engine.GetMarginSummary(trader).Equity);

        var proof = venue.Engine.Liquidations[step.ProofIndex];
        var verdict = LiquidationVerifier.Verify(proof);
        Assert.True(verdict.Valid, verdict.Reason);
        Assert.Equal(venue.TotalHeld(), venue.Engine.Ledger.TotalDeposited);
    }

    [Fact]
    public void A_forged_proof_of_a_healthy_account_is_rejected()
    {
        int trader = LongOneBtc(3_000m);
        venue.Buy(maker, btc, 97_400m, 1m);
        venue.SetIndex("BTC", 97_500m);
        var proof = venue.Engine.Liquidations.Single();
        Assert.True(LiquidationVerifier.Verify(proof).Valid);

        // Claim more collateral than it had: the figures no longer make it due.
        var forged = proof with { Cash = proof.Cash + Money.FromWhole(1_000), Equity = proof.Equity + Money.FromWhole(1_000) };
        var verdict = LiquidationVerifier.Verify(forged);
        Assert.False(verdict.Valid);
        Assert.Contains("Not due", verdict.Reason);

        // Or claim a different maintenance than the rules give.
        Assert.False(LiquidationVerifier.Verify(proof with { Maintenance = proof.Maintenance - Money.FromWhole(600) }).Valid);
        _ = trader;
    }

    [Fact]
    public void A_book_fill_at_or_above_the_bankruptcy_price_pays_the_liquidation_fee_to_the_insurance_fund()
    {
        int trader = LongOneBtc(3_000m);
        venue.Buy(maker, btc, 97_400m, 1m);
        var fundBefore = venue.Engine.Ledger.InsuranceFund;
        venue.SetIndex("BTC", 97_500m); // bankruptcy 97,000; the bid at 97,400 takes it

        var events = venue.Events.ToArray();
        var fill = Assert.Single(events, e => e.Kind == EventKind.TradeExecuted && e.Liquidation);
        Assert.Equal(Price.FromDecimal(97_400m), fill.Price);
        var fee = Assert.Single(events, e => e.Kind == EventKind.LiquidationFeeCharged);

        // 0.5% of 97,400 = 487, but only 400 of equity is left (3,000 − 2,600): the fee is capped at it.
        Assert.Equal(Money.FromWhole(400), fee.Amount);
        Assert.Equal(fundBefore + Money.FromWhole(400), venue.Engine.Ledger.InsuranceFund);
        Assert.Equal(Money.Zero, venue.Engine.GetMarginSummary(trader).Equity);
    }

    [Fact]
    public void An_isolated_position_closed_through_the_book_pays_the_same_fee_before_its_collateral_goes_back()
    {
        // The example above with the position isolated: 3,000 of collateral set aside for it (2,000
        // moved in by the order as initial margin, 1,000 more by hand), the rest of the account cross.
        int trader = venue.NewAccount(100_000m);
        venue.Accept(new SetIsolatedMargin(trader, btc, true));
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m);
        venue.Accept(new TransferIsolatedMargin(trader, btc, Money.FromWhole(1_000)));
        Assert.Equal(Money.FromWhole(3_000), Assert.Single(venue.Engine.GetMarginReport(trader)!.Isolated).Summary.Equity);
        venue.Buy(maker, btc, 97_400m, 1m);
        var fundBefore = venue.Engine.Ledger.InsuranceFund;
        var crossBefore = venue.Engine.GetMarginSummary(trader).Equity;

        venue.SetIndex("BTC", 97_500m); // bankruptcy 97,000; the bid at 97,400 takes it

        var events = venue.Events.ToArray();
        Assert.Equal(Price.FromDecimal(97_400m), Assert.Single(events, e => e.Kind == EventKind.TradeExecuted && e.Liquidation).Price);
        var fee = Assert.Single(events, e => e.Kind == EventKind.LiquidationFeeCharged);
        Assert.Equal(Money.FromWhole(400), fee.Amount); // min(0.5% of 97,400, the 400 of isolated equity left)
        Assert.Equal(fundBefore + Money.FromWhole(400), venue.Engine.Ledger.InsuranceFund);

        // Nothing of the position's collateral comes back to the cross balance (it lost 2,600 and paid
        // 400), and the flat position holds none.
        Assert.Equal(Money.FromWhole(97_000), crossBefore);
        Assert.Equal(crossBefore, venue.Engine.GetMarginSummary(trader).Equity);
        Assert.Equal(Money.Zero, venue.Position(trader, btc).IsolatedCash);
    }

    [Fact]
    public void Without_insurance_headroom_the_opposite_side_is_auto_deleveraged_at_the_bankruptcy_price()
    {
        // The long gaps through its bankruptcy price: equity −1,000, bankruptcy 98,000 > mark 97,000.
        int trader = LongOneBtc(2_000m);
        venue.SetIndex("BTC", 97_000m);

        var events = venue.Events.ToArray();
        Assert.DoesNotContain(events, e => e.Kind == EventKind.BackstopTakeover); // the fund is empty: a takeover above the mark would take it below its floor
        var adl = Assert.Single(events, e => e.Kind == EventKind.AutoDeleveraged);
        Assert.Equal(maker, adl.MakerAccountId);
        Assert.Equal(Price.FromDecimal(98_000m), adl.Price);
        Assert.True(venue.Position(trader, btc).Size.IsZero);
        Assert.True(venue.Position(maker, btc).Size.IsZero);
        Assert.Equal(venue.TotalHeld(), venue.Engine.Ledger.TotalDeposited);
        Assert.True(venue.Engine.GetMarginSummary(trader).Equity >= Money.Zero);
    }

    [Fact]
    public void With_an_insurance_fund_the_backstop_absorbs_the_gap_instead()
    {
        venue.Accept(new DepositInsuranceFund(Money.FromWhole(1_000_000)));
        int trader = LongOneBtc(2_000m);
        venue.SetIndex("BTC", 97_000m);

        var events = venue.Events.ToArray();
        var takeover = Assert.Single(events, e => e.Kind == EventKind.BackstopTakeover);
        Assert.Equal(Price.FromDecimal(98_000m), takeover.Price);
        Assert.DoesNotContain(events, e => e.Kind == EventKind.AutoDeleveraged);
        Assert.Equal(Quantity.FromDecimal(1m), venue.Engine.Ledger.Insurance.GetPosition(btc).Size);
        Assert.Equal(Quantity.FromDecimal(-1m), venue.Position(maker, btc).Size); // the maker keeps its position
        Assert.Equal(Money.Zero, venue.Engine.GetMarginSummary(trader).Equity);
    }

    [Fact]
    public void A_liquidated_account_cannot_trade_or_withdraw_while_queued_and_the_queue_survives_a_snapshot()
    {
        var config = EngineConfig.Default with { MaxLiquidationStepsPerCommand = 0 };
        var paused = new Venue(config);
        int perp = paused.ListBtcPerpetual(takerFeePpm: 0);
        int mm = paused.NewAccount(10_000_000m);
        int trader = paused.NewAccount(3_000m);
        paused.Sell(mm, perp, 100_000m, 1m);
        paused.Buy(trader, perp, 100_000m, 1m);
        paused.SetIndex("BTC", 97_500m);
        Assert.Single(paused.Engine.LiquidationQueue);
        Assert.Equal(RejectReason.AccountInLiquidation, paused.TryPlace(trader, perp, Side.Sell, 97_000m, 0.5m));
        Assert.Equal(RejectReason.AccountInLiquidation, paused.Apply(new Withdraw(trader, Money.FromWhole(1))));

        var restored = Clearhouse.Core.Serialization.EngineSnapshot.Read(Clearhouse.Core.Serialization.EngineSnapshot.Write(paused.Engine), config);
        Assert.Equal(paused.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        Assert.Single(restored.LiquidationQueue);
    }
}
