using System.Collections.Immutable;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// "Equity &lt; maintenance" at the exact boundary, to the micro: an account (or isolated position)
/// exactly at maintenance is not liquidated, and one micro less of equity is. BTC perpetual with
/// the LargeCap table (maintenance 1% to 1,000,000 USDC of notional, 2% above) and no fees; the
/// counterparty is a market maker with 10,000,000 USDC.
/// </summary>
public class LiquidationBoundaryTests
{
    /// <summary>One row: a position opened at 100,000 with <see cref="Collateral"/>, and the two index levels either side of the boundary.</summary>
    public sealed record Row(
        string Name,
        decimal Size,
        bool Isolated,
        decimal Collateral,
        decimal IndexAtMaintenance,
        decimal EquityAtMaintenance,
        decimal IndexBelow,
        decimal EquityBelow,
        decimal MaintenanceBelow,
        decimal FirstStep)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Row> Rows =>
    [
        // Long 1: equity = 2,980 + (p − 100,000), maintenance = ⌈1% × p⌉.
        new Row("Long 1 BTC, cross", 1m, false, 2_980m, 98_000m, 980m, 97_999.999999m, 979.999999m, 980m, 1m),

        // Short 1: equity = 3,020 + (100,000 − p); at 102,000.000001 maintenance ⌈1,020.00000001⌉ = 1,020.000001.
        // Worth more than 100,000 at the mark: closed 20% per step.
        new Row("Short 1 BTC, cross", -1m, false, 3_020m, 102_000m, 1_020m, 102_000.000001m, 1_019.999999m, 1_020.000001m, 0.2m),

        // Long 15 at 98,000: 1,470,000 of notional, second tier: 2% × 1,470,000 − 10,000 = 19,400 = 49,400 − 30,000.
        new Row("Long 15 BTC, cross, second tier", 15m, false, 49_400m, 98_000m, 19_400m, 97_999.999999m, 19_399.999985m, 19_400m, 3m),

        // Short 15 at 102,000: 2% × 1,530,000 − 10,000 = 20,600 = 50,600 − 30,000; a micro higher ⌈20,600.0000003⌉ = 20,600.000001.
        new Row("Short 15 BTC, cross, second tier", -15m, false, 50_600m, 102_000m, 20_600m, 102_000.000001m, 20_599.999985m, 20_600.000001m, 3m),

        // The same figures on an isolated position, in an account with 1,000,000 of cross cash that must not save it.
        new Row("Long 1 BTC, isolated", 1m, true, 2_980m, 98_000m, 980m, 97_999.999999m, 979.999999m, 980m, 1m),
        new Row("Short 1 BTC, isolated", -1m, true, 3_020m, 102_000m, 1_020m, 102_000.000001m, 1_019.999999m, 1_020.000001m, 0.2m),
    ];

    [Theory]
    [MemberData(nameof(Rows))]
    public void Equity_exactly_at_maintenance_is_not_liquidated_and_one_micro_below_is(Row row)
    {
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        int maker = venue.NewAccount(10_000_000m);
        int trader;
        var side = row.Size > 0 ? Side.Buy : Side.Sell;
        decimal amount = Math.Abs(row.Size);
        if (row.Isolated)
        {
            // The order moves its initial margin into the position; a transfer tops it up to the collateral.
            trader = venue.NewAccount(1_000_000m);
            venue.Accept(new SetIsolatedMargin(trader, btc, true));
            venue.Place(maker, btc, side == Side.Buy ? Side.Sell : Side.Buy, 100_000m, amount);
            venue.Place(trader, btc, side, 100_000m, amount, TimeInForce.ImmediateOrCancel);
            var topUp = Money.FromDecimal(row.Collateral) - venue.EventsOf(EventKind.IsolatedMarginTransferred).Single().Amount;
            venue.Accept(new TransferIsolatedMargin(trader, btc, topUp));
        }
        else
        {
            trader = venue.NewAccount(row.Collateral);
            venue.Place(maker, btc, side == Side.Buy ? Side.Sell : Side.Buy, 100_000m, amount);
            venue.Place(trader, btc, side, 100_000m, amount, TimeInForce.ImmediateOrCancel);
        }

        Assert.Equal(Quantity.FromDecimal(row.Size), venue.Position(trader, btc).Size);
        var crossCashBefore = venue.Account(trader).Cash - venue.Position(trader, btc).IsolatedCash;

        // At the boundary: equal, not liquidated.
        venue.SetIndex("BTC", row.IndexAtMaintenance);
        var scope = Scope(venue, trader, btc, row.Isolated);
        Assert.Equal(Money.FromDecimal(row.EquityAtMaintenance), scope.Equity);
        Assert.Equal(scope.Equity, scope.Maintenance);
        Assert.Empty(venue.Engine.LiquidationQueue);
        Assert.DoesNotContain(venue.Events, e => e.Kind is EventKind.LiquidationQueued or EventKind.LiquidationStep);
        var reducing = side == Side.Buy ? Side.Sell : Side.Buy;
        Assert.Equal(RejectReason.None, venue.TryPlace(trader, btc, reducing, reducing == Side.Sell ? 110_000m : 90_000m, 0.001m)); // not in liquidation: it may still trade
        venue.Accept(new CancelAllOrders(trader));

        // One micro of index further: one micro of equity less, and due.
        venue.SetIndex("BTC", row.IndexBelow);
        var queued = Assert.Single(venue.EventsOf(EventKind.LiquidationQueued));
        Assert.Equal(new LiquidationKey(trader, row.Isolated ? btc : 0), new LiquidationKey(queued.AccountId, queued.InstrumentId));
        var step = Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        var proof = venue.Proofs[step.ProofIndex];
        Assert.Equal(Money.FromDecimal(row.EquityBelow), proof.Equity);
        Assert.Equal(Money.FromDecimal(row.MaintenanceBelow), proof.Maintenance);
        Assert.Equal(row.Isolated ? btc : 0, proof.IsolatedInstrumentId);
        Assert.Equal(btc, proof.ChosenInstrumentId);
        var verdict = LiquidationVerifier.Verify(proof);
        Assert.True(verdict.Valid, verdict.Reason);

        // Nothing bids or offers at or beyond the bankruptcy price: the fund takes the step over at it, a gain for the
        // fund (the equity is positive). A position worth more than 100,000 goes 20% per step.
        Assert.Equal(Quantity.FromDecimal(row.FirstStep), step.Quantity);
        Assert.Equal(LiquidationRules.BankruptcyPrice(Quantity.FromDecimal(row.Size), Price.FromDecimal(row.IndexBelow), proof.Equity), step.Price);
        var takeover = Assert.Single(venue.EventsOf(EventKind.BackstopTakeover));
        Assert.Equal((step.Quantity, step.Price), (takeover.Quantity, takeover.Price));
        Assert.Equal(Quantity.FromDecimal(row.Size - (Math.Sign(row.Size) * row.FirstStep)), venue.Position(trader, btc).Size);

        // Whatever steps follow, nobody is left below zero and an isolated loss never reaches the cross balance.
        venue.DrainQueue();
        venue.AssertNoNegativeEquity();
        if (row.Isolated)
        {
            Assert.Equal(crossCashBefore, venue.Account(trader).Cash - venue.Position(trader, btc).IsolatedCash);
        }

        venue.AssertValueConserved();
        venue.AssertOpenInterestBalanced();
    }

    private static MarginSummary Scope(ClockedVenue venue, int account, int instrument, bool isolated) =>
        isolated
            ? venue.Engine.GetMarginReport(account)!.Isolated.Single(i => i.InstrumentId == instrument).Summary
            : venue.Engine.GetMarginSummary(account);

    // ------------------------------------------------------------------ portfolio margin

    private static readonly DateOnly Expiry = new(2026, 3, 27);

    /// <summary>SVI for the listed expiry with an at-the-money volatility of 60% × <paramref name="volScale"/> and a mild negative skew.</summary>
    internal static VolSurfaceParameters Surface(long publishedMicros, double volScale)
    {
        long expiry = InstrumentTerms.Future("BTC", Expiry).ExpiryMicros;
        double years = (expiry - publishedMicros) / (365.0 * 86_400_000_000);
        double variance = volScale * volScale;
        long a = (long)(0.34 * years * variance * 1e9);
        long b = (long)(0.1 * years * variance * 1e9);
        return new VolSurfaceParameters("BTC", publishedMicros, ImmutableArray.Create(new SviSliceParameters(expiry, a, b, -300_000_000, 0, 200_000_000)));
    }

    /// <summary>
    /// A portfolio-margin account short a BTC call and long some perpetual, holding exactly its
    /// initial requirement (it withdrew the rest), on a venue whose BTC index and surface come from
    /// one signed reporter. Returns the venue, the account, the reporter's key and id.
    /// </summary>
    internal static (ClockedVenue Venue, int Account, NSec.Cryptography.Key Key, int Reporter) PortfolioAccountShortACall()
    {
        var venue = new ClockedVenue();
        int perp = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", Expiry, Price.FromWhole(100_000), OptionRight.Call), Price.FromWhole(5), Quantity.FromDecimal(0.01m), 0, 0)));
        int call = venue.Events[0].InstrumentId;
        var key = PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)7, 32).ToArray());
        venue.Accept(new ConfigureOracle("BTC", new OracleParameters(1, 3_600_000_000, 1_000_000, 50_000)));
        venue.Accept(new RegisterReporter("BTC", PriceReport.PublicKeyOf(key)));
        int reporter = venue.Events[0].ReporterId;
        venue.Accept(new SubmitPriceReport(PriceReport.Sign(key, "BTC", Price.FromWhole(100_000), venue.Now, reporter)));
        venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(key, Surface(venue.Now, 1.0), reporter)));
        var callMark = venue.Engine.Instruments[call - 1].MarkPrice;
        Assert.InRange(callMark.ToDecimal(), 5_000m, 20_000m);
        decimal premium = callMark.RoundToTick(Price.FromWhole(5), Rounding.Floor).ToDecimal();

        int maker = venue.NewAccount(10_000_000m);
        int trader = venue.NewAccount(200_000m);
        venue.Accept(new SetMarginMode(trader, MarginMode.Portfolio));
        venue.Trade(maker, trader, call, premium, 2m);     // the trader sells 2 calls
        venue.Trade(trader, maker, perp, 100_000m, 0.5m);  // and buys half a BTC against them
        Assert.Equal(MarginMode.Portfolio, venue.Account(trader).MarginMode);

        // Keep exactly the initial requirement: withdraw everything available.
        var available = venue.Engine.GetMarginSummary(trader).Available;
        venue.Accept(new Withdraw(trader, available));
        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.True(summary.Equity >= summary.Maintenance && summary.Maintenance.IsPositive, $"{summary}");
        return (venue, trader, key, reporter);
    }

    [Fact]
    public void A_portfolio_margin_account_exactly_at_maintenance_is_not_liquidated_and_one_micro_below_is()
    {
        var (venue, trader, key, reporter) = PortfolioAccountShortACall();

        // The move: implied volatility up by half (60% → 90%), signed by the reporter. The requirement is a
        // worst loss over a scenario grid in binary64, so the boundary is found by probing a restored copy:
        // after a deposit of 1 micro and the move, how far is equity from maintenance? Every copy then
        // receives its deposit at the same sequence and time, so the grid is the same in all of them.
        var move = new SetVolatilitySurface(VolSurfaceUpdate.Sign(key, Surface(venue.Now + 1_000_000, 1.5), reporter));
        var probe = venue.Restore();
        probe.Accept(new Deposit(trader, new Money(1)));
        probe.Accept(move, 2_000_000);
        var probeStep = Assert.Single(probe.EventsOf(EventKind.LiquidationStep));
        var probeProof = probe.Proofs[probeStep.ProofIndex];
        var shortfall = probeProof.Maintenance - probeProof.Equity;
        Assert.True(shortfall.IsPositive);

        // Exactly at maintenance.
        var atMaintenance = venue.Restore();
        atMaintenance.Accept(new Deposit(trader, shortfall + new Money(1)));
        atMaintenance.Accept(move, 2_000_000);
        var summary = atMaintenance.Engine.GetMarginSummary(trader);
        Assert.Equal(probeProof.Maintenance, summary.Maintenance);
        Assert.Equal(summary.Maintenance, summary.Equity);
        Assert.Empty(atMaintenance.Engine.LiquidationQueue);
        Assert.DoesNotContain(atMaintenance.Events, e => e.Kind is EventKind.LiquidationQueued or EventKind.LiquidationStep);

        // One micro below.
        var below = venue.Restore();
        below.Accept(new Deposit(trader, shortfall));
        below.Accept(move, 2_000_000);
        Assert.Contains(below.Events, e => e.Kind == EventKind.LiquidationQueued && e.AccountId == trader);
        var step = below.EventsOf(EventKind.LiquidationStep).First();
        var proof = below.Proofs[step.ProofIndex];
        Assert.Equal(MarginMode.Portfolio, proof.Mode);
        Assert.Equal(proof.Maintenance - new Money(1), proof.Equity);
        Assert.Equal(probeProof.Maintenance, proof.Maintenance);
        Assert.Contains(proof.Positions, p => p.Spec.Terms.Kind == InstrumentKind.Option && !double.IsNaN(p.OptionVolatility));
        var verdict = LiquidationVerifier.Verify(proof);
        Assert.True(verdict.Valid, verdict.Reason);

        // The verifier recomputes the grid: one micro more cash in the proof and it is not due.
        var healthy = proof with { Cash = proof.Cash + new Money(1), Equity = proof.Equity + new Money(1) };
        var rejected = LiquidationVerifier.Verify(healthy);
        Assert.False(rejected.Valid);
        Assert.Contains("Not due", rejected.Reason);
        below.AssertValueConserved();
        below.AssertOpenInterestBalanced();
    }
}
