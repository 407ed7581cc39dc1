using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Tests.Engine;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>
/// Isolated positions: their own collateral, topped up from the cross funds when an order needs it,
/// handed back when the position closes, and a loss beyond it borne by the insurance fund, never by
/// the rest of the account. BTC perpetual at 100,000: 2% initial, 1% maintenance, 0.05% taker fee.
/// </summary>
public class IsolatedMarginTests
{
    /// <summary>Liquidation queued but never run: what isolation alone guarantees, before the waterfall acts.</summary>
    private static readonly EngineConfig LiquidationPaused = EngineConfig.Default with { MaxLiquidationStepsPerCommand = 0 };

    private static (Venue Venue, int Btc, int Maker, int Trader) IsolatedLongAt100k(EngineConfig? config = null)
    {
        var venue = new Venue(config);
        int btc = venue.ListBtcPerpetual();
        int maker = venue.NewAccount(10_000_000m);
        int trader = venue.NewAccount(100_000m);
        venue.Accept(new SetIsolatedMargin(trader, btc, true));
        venue.Sell(maker, btc, 100_000m, 1m);
        venue.Buy(trader, btc, 100_000m, 1m);

        // The order needed 2,000 initial + 50 taker fee of its own; it was moved in from the cross balance.
        var moved = Assert.Single(venue.Events, e => e.Kind == EventKind.IsolatedMarginTransferred);
        Assert.Equal(Money.FromWhole(2_050), moved.Amount);
        Assert.Equal(Money.FromWhole(-98_000), venue.Position(trader, btc).IsolatedCash); // 2,050 − 100,000 − 50
        return (venue, btc, maker, trader);
    }

    private static void AssertValueConserved(Venue venue)
    {
        var ledger = venue.Engine.Ledger;
        var total = ledger.FeeAccount + ledger.InsuranceFund + ledger.External;
        for (int id = 1; id <= venue.Engine.AccountCount; id++)
        {
            total += venue.Cash(id);
        }

        Assert.Equal(Money.Zero, total); // Σ account cash + fee account + insurance fund + external = 0
        Assert.Equal(ledger.TotalDeposited - ledger.TotalWithdrawn, venue.TotalHeld());
    }

    [Fact]
    public void A_crash_in_an_isolated_position_leaves_the_cross_funds_untouched()
    {
        var (venue, btc, _, trader) = IsolatedLongAt100k(LiquidationPaused);
        var cross = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(97_950), cross.Equity);
        Assert.Equal(Money.FromWhole(97_950), cross.Available);
        Assert.Equal(Money.Zero, cross.Initial);

        venue.SetIndex("BTC", 50_000m); // −50%: the position has lost 50,000 on 2,050 of collateral

        Assert.Equal(cross, venue.Engine.GetMarginSummary(trader));
        var report = venue.Engine.GetMarginReport(trader)!;
        var isolated = Assert.Single(report.Isolated);
        Assert.Equal(btc, isolated.InstrumentId);
        Assert.Equal(Money.FromWhole(-98_000), isolated.Collateral);
        Assert.Equal(Money.FromWhole(-48_000), isolated.Summary.Equity);
        Assert.Equal(Money.FromWhole(1_000), isolated.Summary.Initial);
        Assert.Equal(Money.FromWhole(500), isolated.Summary.Maintenance);
        Assert.Equal(cross, report.Cross);
        Assert.True(Assert.Single(report.Positions).Isolated);

        // The same account, same trade, cross instead: the crash takes 50,000 of its equity.
        var venue2 = new Venue();
        int btc2 = venue2.ListBtcPerpetual();
        int maker2 = venue2.NewAccount(10_000_000m);
        int trader2 = venue2.NewAccount(100_000m);
        venue2.Sell(maker2, btc2, 100_000m, 1m);
        venue2.Buy(trader2, btc2, 100_000m, 1m);
        venue2.SetIndex("BTC", 50_000m);
        Assert.Equal(Money.FromWhole(49_950), venue2.Engine.GetMarginSummary(trader2).Equity);

        // Remargin reports both: the cross health and the isolated position's own.
        var health = new List<AccountHealth>();
        Assert.True(venue.Engine.TryGetUnderlying("BTC", out var underlying));
        venue.Engine.Remargin(underlying, health);
        Assert.Contains(new AccountHealth(trader, 0, cross.Equity, cross.Maintenance), health);
        Assert.Contains(new AccountHealth(trader, btc, Money.FromWhole(-48_000), Money.FromWhole(500)), health);
        Assert.Equal([new Clearhouse.Core.Liquidation.LiquidationKey(trader, btc)], venue.Engine.LiquidationQueue); // the isolated position, not the account
    }

    [Fact]
    public void When_the_waterfall_closes_a_bankrupt_isolated_position_the_cross_funds_are_still_untouched()
    {
        var (venue, btc, maker, trader) = IsolatedLongAt100k();
        var cross = venue.Engine.GetMarginSummary(trader);
        venue.SetIndex("BTC", 50_000m); // bankruptcy price of the isolated long: 50,000 + 48,000 = 98,000

        // No bid at or above 98,000 and an empty insurance fund: the short on the other side is deleveraged at 98,000.
        var adl = Assert.Single(venue.Events, e => e.Kind == EventKind.AutoDeleveraged);
        Assert.Equal(maker, adl.MakerAccountId);
        Assert.Equal(Price.FromWhole(98_000), adl.Price);
        Assert.True(venue.Position(trader, btc).Size.IsZero);
        Assert.Equal(cross, venue.Engine.GetMarginSummary(trader)); // the account lost the 2,050 it isolated, nothing more
        Assert.Equal(Money.FromWhole(97_950), venue.Cash(trader));
        AssertValueConserved(venue);
    }

    [Fact]
    public void Closing_an_isolated_position_hands_its_collateral_and_profit_back_to_the_cross_balance()
    {
        var (venue, btc, maker, trader) = IsolatedLongAt100k();
        venue.SetIndex("BTC", 110_000m);
        venue.Buy(maker, btc, 110_000m, 1m);
        venue.Sell(trader, btc, 110_000m, 1m); // receives 110,000, pays a 55 fee

        // 2,050 − 100,050 + 110,000 − 55 = 11,945 goes back to the cross balance.
        var returned = Assert.Single(venue.Events, e => e.Kind == EventKind.IsolatedMarginTransferred);
        Assert.Equal(Money.FromWhole(-11_945), returned.Amount);
        var position = venue.Position(trader, btc);
        Assert.Equal(Money.Zero, position.IsolatedCash);
        Assert.True(position.Isolated); // still isolated for the next trade
        var summary = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(109_895), venue.Cash(trader)); // 100,000 + 10,000 − 105 fees
        Assert.Equal(Money.FromWhole(109_895), summary.Available);
        Assert.Empty(venue.Engine.GetMarginReport(trader)!.Isolated);
        venue.Accept(new Withdraw(trader, Money.FromWhole(109_895)));
        AssertValueConserved(venue);
    }

    [Fact]
    public void A_loss_beyond_the_isolated_collateral_falls_on_the_insurance_fund_and_value_is_conserved()
    {
        var (venue, btc, maker, trader) = IsolatedLongAt100k();
        venue.Accept(new DepositInsuranceFund(Money.FromWhole(1_000_000)));
        venue.SetIndex("BTC", 50_000m);

        // The fund takes the bankrupt position over at its bankruptcy price, 98,000, worth 50,000 at the mark:
        // it bears the 48,000 that the position lost beyond its collateral.
        var takeover = Assert.Single(venue.Events, e => e.Kind == EventKind.BackstopTakeover);
        Assert.Equal(trader, takeover.AccountId);
        Assert.Equal(Price.FromWhole(98_000), takeover.Price);
        Assert.Equal(Quantity.FromDecimal(1m), venue.Engine.Ledger.Insurance.GetPosition(btc).Size);
        Assert.Equal(Quantity.FromDecimal(-1m), venue.Position(maker, btc).Size); // the maker is untouched

        // The account lost exactly the 2,050 it had put in the position: 100,000 − 2,050.
        Assert.Equal(Money.FromWhole(97_950), venue.Cash(trader));
        Assert.Equal(Money.Zero, venue.Position(trader, btc).IsolatedCash);
        Assert.Equal(Money.FromWhole(97_950), venue.Engine.GetMarginSummary(trader).Available);
        AssertValueConserved(venue);
    }

    [Fact]
    public void Collateral_moves_in_up_to_the_cross_funds_available_and_out_up_to_what_the_position_has_free()
    {
        var (venue, btc, _, trader) = IsolatedLongAt100k();
        venue.SetIndex("BTC", 110_000m);
        // Isolated: balance 2,000 (collateral + cost), equity 12,000, initial 2,200: nothing free;
        // its 10,000 of unrealized profit can never be taken out.
        var isolated = Assert.Single(venue.Engine.GetMarginReport(trader)!.Isolated).Summary;
        Assert.Equal(Money.FromWhole(-200), isolated.Available);
        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new TransferIsolatedMargin(trader, btc, new Money(-1))));

        venue.Accept(new TransferIsolatedMargin(trader, btc, Money.FromWhole(1_000)));
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new TransferIsolatedMargin(trader, btc, Money.FromDecimal(-800.000001m))));
        venue.Accept(new TransferIsolatedMargin(trader, btc, Money.FromWhole(-800)));
        Assert.Equal(Money.Zero, Assert.Single(venue.Engine.GetMarginReport(trader)!.Isolated).Summary.Available);

        // In: at most the cross available (97,950 − 200 net moved in).
        var cross = venue.Engine.GetMarginSummary(trader);
        Assert.Equal(Money.FromWhole(97_750), cross.Available);
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new TransferIsolatedMargin(trader, btc, cross.Available + new Money(1))));
        venue.Accept(new TransferIsolatedMargin(trader, btc, cross.Available));
        Assert.Equal(Money.Zero, venue.Engine.GetMarginSummary(trader).Available);
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new Withdraw(trader, new Money(1))));
        AssertValueConserved(venue);
        Assert.NotEqual(before, venue.Engine.ComputeStateHashHex());
    }

    [Fact]
    public void An_isolated_order_is_refused_when_the_cross_funds_cannot_top_it_up_and_nothing_moves()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual();
        int maker = venue.NewAccount(10_000_000m);
        int exact = venue.NewAccount(2_050m);
        int oneMicroShort = venue.NewAccount(2_049.999999m);
        venue.Accept(new SetIsolatedMargin(exact, btc, true));
        venue.Accept(new SetIsolatedMargin(oneMicroShort, btc, true));
        venue.Sell(maker, btc, 100_000m, 1m);

        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, venue.TryPlace(oneMicroShort, btc, Side.Buy, 100_000m, 1m));
        Assert.Equal(before, venue.Engine.ComputeStateHashHex());
        Assert.Equal(RejectReason.None, venue.TryPlace(exact, btc, Side.Buy, 100_000m, 1m));
        Assert.Equal(Money.Zero, venue.Engine.GetMarginSummary(exact).Equity);
        var isolated = Assert.Single(venue.Engine.GetMarginReport(exact)!.Isolated).Summary;
        Assert.Equal(Money.FromWhole(2_000), isolated.Equity);
        Assert.Equal(Money.FromWhole(2_000), isolated.Initial);
    }

    [Fact]
    public void Isolation_is_refused_for_options_while_a_position_or_order_exists_and_transfers_need_an_isolated_position()
    {
        var o = new OptionsVenue();
        int call = o.ListOption(100_000m, OptionRight.Call);
        int trader = o.Venue.NewAccount(1_000_000m);
        Assert.Equal(RejectReason.IsolatedNotForOptions, o.Venue.Apply(new SetIsolatedMargin(trader, call, true)));
        Assert.Equal(RejectReason.PositionNotIsolated, o.Venue.Apply(new TransferIsolatedMargin(trader, o.Future, Money.FromWhole(1))));
        o.Venue.Accept(new SetIsolatedMargin(trader, o.Future, true));
        Assert.Equal(RejectReason.NoIsolatedPosition, o.Venue.Apply(new TransferIsolatedMargin(trader, o.Future, Money.FromWhole(1))));
        o.Venue.Place(trader, o.Future, Side.Buy, 90_000m, 0.1m);
        Assert.Equal(RejectReason.MarginModeLockedByPosition, o.Venue.Apply(new SetIsolatedMargin(trader, o.Future, false)));
        Assert.Equal(RejectReason.InvalidMarginMode, o.Venue.Apply(new SetMarginMode(trader, (MarginMode)7)));

        // Cancelling the only order frees the position: its top-up comes back and it may be made cross again.
        o.Venue.Accept(new CancelAllOrders(trader));
        Assert.Equal(Money.Zero, o.Venue.Position(trader, o.Future).IsolatedCash);
        Assert.Equal(Money.FromWhole(1_000_000), o.Engine.GetMarginSummary(trader).Available);
        o.Venue.Accept(new SetIsolatedMargin(trader, o.Future, false));
    }
}
