using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>Standard option margin through the engine: the pre-trade check at its exact boundary.</summary>
public class OptionOrderMarginTests
{
    [Fact]
    public void Selling_a_call_is_accepted_with_exactly_deribits_initial_margin_plus_the_taker_fee_and_refused_one_micro_short()
    {
        var o = new OptionsVenue();
        int call = o.ListOption(110_000m, OptionRight.Call);
        decimal mark = o[call].MarkPrice.ToDecimal();
        decimal index = o.Btc.IndexPrice.ToDecimal();
        Assert.Equal(100_000m, index);
        decimal price = o.TickAtOrAboveMark(call); // sold at or above the mark: no loss through the mark
        o.Venue.Place(o.Bank, call, Side.Buy, price, 1m, flags: OrderFlags.PostOnly);

        // Deribit: max(15% × 100,000 − (110,000 − 100,000), 10% × 100,000) + mark, for one contract;
        // the check also holds back the 0.05% taker fee the order could pay, on its limit price.
        decimal initial = Math.Max((0.15m * index) - (110_000m - index), 0.10m * index) + mark;
        decimal fee = Math.Ceiling(price * 0.0005m * 1_000_000m) / 1_000_000m;
        Assert.Equal(10_000m + mark, initial);

        int exact = o.Venue.NewAccount(initial + fee);
        int oneMicroShort = o.Venue.NewAccount(initial + fee - 0.000001m);

        string before = o.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, o.Venue.TryPlace(oneMicroShort, call, Side.Sell, price, 1m));
        Assert.Equal(before, o.Engine.ComputeStateHashHex());

        Assert.Equal(RejectReason.None, o.Venue.TryPlace(exact, call, Side.Sell, price, 1m));
        Assert.Single(o.Venue.Trades);
        var summary = o.Engine.GetMarginSummary(exact);
        Assert.Equal(Money.FromDecimal(initial), summary.Initial);
        Assert.Equal(Money.FromDecimal(7_500m + mark), summary.Maintenance);
        // The premium was received and the fee paid: equity = initial + fee + price − fee − mark ≥ initial.
        Assert.Equal(Money.FromDecimal(initial + price - mark), summary.Equity);
    }

    [Fact]
    public void Selling_a_put_through_the_mark_also_needs_the_loss_it_locks_in()
    {
        var o = new OptionsVenue();
        int put = o.ListOption(95_000m, OptionRight.Put, takerFeePpm: 0);
        decimal mark = o[put].MarkPrice.ToDecimal();
        decimal price = o.TickAtOrAboveMark(put) - 50m; // below the mark
        Assert.True(price < mark);
        o.Venue.Place(o.Bank, put, Side.Buy, price, 2m, flags: OrderFlags.PostOnly);

        // Put 5% out of the money: max(15,000 − 5,000, 10,000) + mark per contract, two contracts,
        // plus (mark − price) × 2 given away by selling below the mark.
        decimal initial = (2m * (10_000m + mark)) + (2m * (mark - price));
        int exact = o.Venue.NewAccount(initial);
        int oneMicroShort = o.Venue.NewAccount(initial - 0.000001m);

        string before = o.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, o.Venue.TryPlace(oneMicroShort, put, Side.Sell, price, 2m));
        Assert.Equal(before, o.Engine.ComputeStateHashHex());
        Assert.Equal(RejectReason.None, o.Venue.TryPlace(exact, put, Side.Sell, price, 2m));
        Assert.Equal(Quantity.FromWhole(-2), o.Venue.Position(exact, put).Size);
    }

    [Fact]
    public void Buying_an_option_needs_the_full_premium_plus_the_taker_fee()
    {
        var o = new OptionsVenue();
        int call = o.ListOption(100_000m, OptionRight.Call);
        decimal price = o.TickAtOrAboveMark(call) + 10m;
        o.Venue.Place(o.Bank, call, Side.Sell, price, 0.5m, flags: OrderFlags.PostOnly);

        // Half a contract: premium = 0.5 × price (no leverage on a long option), fee = 0.05% of it rounded up.
        decimal premium = 0.5m * price;
        decimal fee = Math.Ceiling(premium * 0.0005m * 1_000_000m) / 1_000_000m;
        int exact = o.Venue.NewAccount(premium + fee);
        int oneMicroShort = o.Venue.NewAccount(premium + fee - 0.000001m);

        string before = o.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, o.Venue.TryPlace(oneMicroShort, call, Side.Buy, price, 0.5m));
        Assert.Equal(before, o.Engine.ComputeStateHashHex());
        Assert.Equal(RejectReason.None, o.Venue.TryPlace(exact, call, Side.Buy, price, 0.5m));

        // Everything was spent; the option's value at the mark is both equity and requirement, so
        // nothing is free and nothing more can be bought or withdrawn.
        var summary = o.Engine.GetMarginSummary(exact);
        Assert.Equal(Money.Zero, o.Venue.Cash(exact));
        Assert.Equal(summary.Initial, summary.Equity);
        Assert.Equal(Money.Zero, summary.Available);
        Assert.Equal(Money.Zero, summary.Maintenance);
        Assert.Equal(RejectReason.InsufficientFreeCollateral, o.Venue.Apply(new Withdraw(exact, new Money(1))));
    }

    [Fact]
    public void Long_option_value_does_not_fund_other_positions_in_standard_margin()
    {
        var o = new OptionsVenue();
        int call = o.ListOption(100_000m, OptionRight.Call, takerFeePpm: 0);
        decimal price = o.TickAtOrAboveMark(call);
        int trader = o.Venue.NewAccount(price);
        o.Trade(trader, call, 1m, price);
        o.SetIndex(150_000m);
        o.Remark(); // the call is now worth far more than was paid

        var summary = o.Engine.GetMarginSummary(trader);
        Assert.True(summary.Equity > Money.FromDecimal(price * 2));
        Assert.Equal(summary.Equity, summary.Initial);
        Assert.Equal(RejectReason.InsufficientMargin, o.Venue.TryPlace(trader, o.Future, Side.Buy, 150_000m, 0.001m));
    }
}
