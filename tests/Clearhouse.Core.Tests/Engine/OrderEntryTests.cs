using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Engine;

public class OrderEntryTests
{
    private readonly Venue venue = new();
    private readonly int btc;
    private readonly int alice;
    private readonly int bob;

    public OrderEntryTests()
    {
        btc = venue.ListBtcPerpetual();
        alice = venue.NewAccount(1_000_000m);
        bob = venue.NewAccount(1_000_000m);
    }

    private string Hash => venue.Engine.ComputeStateHashHex();

    private void AssertRejectedAndUnchanged(RejectReason expected, Func<RejectReason> act)
    {
        string before = Hash;
        Assert.Equal(expected, act());
        Assert.Equal(before, Hash);
        var e = Assert.Single(venue.Events);
        Assert.Equal(EventKind.CommandRejected, e.Kind);
        Assert.Equal(expected, e.Reason);
    }

    [Fact]
    public void A_crossing_sell_trades_with_the_resting_buy_at_the_resting_price()
    {
        long bid = venue.Buy(alice, btc, 100_000m, 1m);
        venue.Sell(bob, btc, 99_000m, 0.4m);

        var trade = Assert.Single(venue.Trades);
        Assert.Equal(Price.FromWhole(100_000), trade.Price);
        Assert.Equal(Quantity.FromDecimal(0.4m), trade.Quantity);
        Assert.Equal(bid, trade.MakerOrderId);
        Assert.Equal(Side.Sell, trade.Side);
        Assert.Equal(Quantity.FromDecimal(0.6m), trade.MakerRemaining);
        Assert.Equal(Quantity.FromDecimal(0.4m), venue.Position(alice, btc).Size);
        Assert.Equal(Quantity.FromDecimal(-0.4m), venue.Position(bob, btc).Size);
    }

    [Fact]
    public void The_taker_pays_the_taker_fee_to_the_fee_account_and_value_is_conserved()
    {
        venue.Buy(alice, btc, 100_000m, 1m);
        venue.Sell(bob, btc, 100_000m, 1m);

        // 0.05% of 100,000 = 50 USDC; maker fee is zero.
        var trade = Assert.Single(venue.Trades);
        Assert.Equal(Money.FromWhole(50), trade.Amount);
        Assert.Equal(Money.FromWhole(50), venue.Engine.Ledger.FeeAccount);
        Assert.Equal(Money.FromDecimal(1_000_000m - 100_000m), venue.Cash(alice));
        Assert.Equal(Money.FromDecimal(1_000_000m + 100_000m - 50m), venue.Cash(bob));
        Assert.Equal(venue.Engine.Ledger.TotalDeposited, venue.TotalHeld());
    }

    [Fact]
    public void A_maker_rebate_is_paid_out_of_the_fee_account()
    {
        var rebates = new Venue();
        int perp = rebates.ListBtcPerpetual(makerFeePpm: -100, takerFeePpm: 500);
        int maker = rebates.NewAccount(100_000m);
        int taker = rebates.NewAccount(100_000m);
        rebates.Buy(maker, perp, 100_000m, 0.1m);
        rebates.Sell(taker, perp, 100_000m, 0.1m);

        var trade = Assert.Single(rebates.Trades);
        Assert.Equal(Money.FromDecimal(-1m), trade.MakerFee);   // 0.01% of 10,000 back to the maker
        Assert.Equal(Money.FromDecimal(5m), trade.Amount);      // 0.05% of 10,000 from the taker
        Assert.Equal(Money.FromDecimal(4m), rebates.Engine.Ledger.FeeAccount);
        Assert.Equal(rebates.Engine.Ledger.TotalDeposited, rebates.TotalHeld());
    }

    [Fact]
    public void A_price_off_the_tick_is_rejected_and_changes_nothing() =>
        AssertRejectedAndUnchanged(RejectReason.PriceNotOnTick, () => venue.TryPlace(alice, btc, Side.Buy, 100_000.25m, 1m));

    [Fact]
    public void An_amount_off_the_lot_is_rejected_and_changes_nothing() =>
        AssertRejectedAndUnchanged(RejectReason.AmountNotOnLot, () => venue.TryPlace(alice, btc, Side.Buy, 100_000m, 0.0015m));

    [Fact]
    public void A_zero_amount_is_rejected() =>
        AssertRejectedAndUnchanged(RejectReason.OrderAmountNotPositive, () => venue.TryPlace(alice, btc, Side.Buy, 100_000m, 0m));

    [Fact]
    public void A_zero_price_is_rejected() =>
        AssertRejectedAndUnchanged(RejectReason.PriceNotPositive, () => venue.TryPlace(alice, btc, Side.Buy, 0m, 1m));

    [Fact]
    public void An_unknown_instrument_or_account_is_rejected()
    {
        AssertRejectedAndUnchanged(RejectReason.UnknownInstrument, () => venue.TryPlace(alice, 99, Side.Buy, 100_000m, 1m));
        AssertRejectedAndUnchanged(RejectReason.UnknownAccount, () => venue.TryPlace(99, btc, Side.Buy, 100_000m, 1m));
    }

    [Fact]
    public void An_option_without_a_mark_from_a_volatility_surface_cannot_be_traded()
    {
        venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentName.Parse("BTC_USDC-25DEC26-100000-C"), Price.FromWhole(5), Quantity.FromDecimal(0.01m))));
        int option = venue.Events[0].InstrumentId;
        AssertRejectedAndUnchanged(RejectReason.NoMarkPrice, () => venue.TryPlace(alice, option, Side.Buy, 100m, 1m));
    }

    [Fact]
    public void An_instrument_without_a_mark_price_cannot_be_traded()
    {
        int eth = venue.ListFuture("ETH", new DateOnly(2026, 3, 27), tick: 0.05m, lot: 0.01m);
        AssertRejectedAndUnchanged(RejectReason.NoMarkPrice, () => venue.TryPlace(alice, eth, Side.Buy, 3_000m, 1m));
    }

    [Fact]
    public void A_post_only_order_that_would_cross_is_rejected()
    {
        venue.Sell(bob, btc, 100_000m, 1m);
        AssertRejectedAndUnchanged(RejectReason.PostOnlyWouldCross, () => venue.TryPlace(alice, btc, Side.Buy, 100_000m, 1m, flags: OrderFlags.PostOnly));
        venue.Place(alice, btc, Side.Buy, 99_999.5m, 1m, flags: OrderFlags.PostOnly);
        Assert.Equal(2, venue.Engine.Instruments[btc - 1].Book.OrderCount);
    }

    [Fact]
    public void Post_only_with_immediate_or_cancel_makes_no_sense_and_is_rejected() =>
        AssertRejectedAndUnchanged(RejectReason.InvalidOrderOptions, () => venue.TryPlace(alice, btc, Side.Buy, 90_000m, 1m, TimeInForce.ImmediateOrCancel, OrderFlags.PostOnly));

    [Fact]
    public void A_fill_or_kill_order_that_cannot_fill_in_full_is_rejected_and_changes_nothing()
    {
        venue.Sell(bob, btc, 100_000m, 0.5m);
        AssertRejectedAndUnchanged(RejectReason.FillOrKillNotFillable, () => venue.TryPlace(alice, btc, Side.Buy, 100_000m, 1m, TimeInForce.FillOrKill));
    }

    [Fact]
    public void A_fill_or_kill_order_that_can_fill_fills_in_full()
    {
        venue.Sell(bob, btc, 100_000m, 0.5m);
        venue.Sell(bob, btc, 100_001m, 0.5m);
        venue.Place(alice, btc, Side.Buy, 100_001m, 1m, TimeInForce.FillOrKill);
        Assert.Equal(2, venue.Trades.Count());
        Assert.Equal(Quantity.FromWhole(1), venue.Position(alice, btc).Size);
    }

    [Fact]
    public void The_unfilled_part_of_an_immediate_or_cancel_order_is_cancelled()
    {
        venue.Sell(bob, btc, 100_000m, 0.3m);
        long id = venue.Place(alice, btc, Side.Buy, 100_000m, 1m, TimeInForce.ImmediateOrCancel);
        var cancel = Assert.Single(venue.Events, e => e.Kind == EventKind.OrderCancelled);
        Assert.Equal(id, cancel.OrderId);
        Assert.Equal(CancelReason.ImmediateOrCancelRemainder, cancel.CancelReason);
        Assert.Equal(Quantity.FromDecimal(0.7m), cancel.Remaining);
        Assert.Equal(0, venue.Engine.Instruments[btc - 1].Book.OrderCount);
    }

    [Fact]
    public void A_market_order_never_fills_beyond_its_protection_band_around_the_mark()
    {
        venue.Sell(bob, btc, 100_000m, 0.1m);
        venue.Sell(bob, btc, 1_000_000m, 10m); // a far-away ask: 10× the mark
        venue.Place(alice, btc, Side.Buy, 0m, 1m, TimeInForce.ImmediateOrCancel, type: OrderType.Market);

        var trade = Assert.Single(venue.Trades);
        Assert.Equal(Price.FromWhole(100_000), trade.Price);
        Assert.Equal(Quantity.FromDecimal(0.1m), venue.Position(alice, btc).Size);
        Assert.Equal(EventKind.OrderCancelled, venue.Events[^1].Kind);
    }

    [Fact]
    public void Self_trade_prevention_cancels_the_resting_order_by_default()
    {
        long own = venue.Sell(alice, btc, 100_000m, 1m);
        venue.Sell(bob, btc, 100_000m, 1m);
        venue.Buy(alice, btc, 100_000m, 1m);

        var cancel = Assert.Single(venue.Events, e => e.Kind == EventKind.OrderCancelled);
        Assert.Equal(own, cancel.OrderId);
        Assert.Equal(CancelReason.SelfTradePrevention, cancel.CancelReason);
        var trade = Assert.Single(venue.Trades);
        Assert.Equal(bob, trade.MakerAccountId);
    }

    [Fact]
    public void A_reduce_only_order_without_a_position_is_rejected() =>
        AssertRejectedAndUnchanged(RejectReason.ReduceOnlyWouldIncrease, () => venue.TryPlace(alice, btc, Side.Sell, 100_000m, 1m, flags: OrderFlags.ReduceOnly));

    [Fact]
    public void A_reduce_only_order_is_cut_to_the_position_it_reduces()
    {
        venue.Sell(bob, btc, 100_000m, 1m);
        venue.Buy(alice, btc, 100_000m, 1m);
        long id = venue.Place(alice, btc, Side.Sell, 101_000m, 3m, flags: OrderFlags.ReduceOnly);
        Assert.True(venue.Engine.TryGetOpenOrder(id, out var order, out _));
        Assert.Equal(Quantity.FromWhole(1), order.Amount);
        AssertRejectedAndUnchanged(RejectReason.ReduceOnlyWouldIncrease, () => venue.TryPlace(alice, btc, Side.Sell, 101_000m, 1m, flags: OrderFlags.ReduceOnly));
    }

    [Fact]
    public void A_resting_reduce_only_order_goes_when_its_position_is_closed_by_another_order()
    {
        venue.Sell(bob, btc, 100_000m, 1m);
        venue.Buy(alice, btc, 100_000m, 1m);
        long reduceOnly = venue.Place(alice, btc, Side.Sell, 105_000m, 1m, flags: OrderFlags.ReduceOnly);
        venue.Buy(bob, btc, 100_000m, 1m);
        venue.Sell(alice, btc, 100_000m, 1m); // closes the position

        Assert.True(venue.Position(alice, btc).Size.IsZero);
        Assert.False(venue.Engine.TryGetOpenOrder(reduceOnly, out _, out _));
        Assert.Contains(venue.Events, e => e.Kind == EventKind.OrderCancelled && e.OrderId == reduceOnly && e.CancelReason == CancelReason.ReduceOnlyTrimmed);
    }

    [Fact]
    public void A_client_order_id_is_unique_per_account_while_the_order_is_open()
    {
        long first = venue.Place(alice, btc, Side.Buy, 90_000m, 1m, clientOrderId: "grid-1");
        AssertRejectedAndUnchanged(RejectReason.DuplicateClientOrderId, () => venue.TryPlace(alice, btc, Side.Buy, 89_000m, 1m, clientOrderId: "grid-1"));
        venue.Place(bob, btc, Side.Buy, 89_000m, 1m, clientOrderId: "grid-1"); // another account may use it
        venue.Accept(new CancelOrder(alice, first));
        venue.Place(alice, btc, Side.Buy, 89_000m, 1m, clientOrderId: "grid-1"); // free again once closed
    }

    [Fact]
    public void An_account_cannot_exceed_its_open_order_limit()
    {
        var small = new Venue(new EngineConfig { MaxOpenOrdersPerAccount = 3 });
        int perp = small.ListBtcPerpetual();
        int trader = small.NewAccount(1_000_000m);
        for (int i = 0; i < 3; i++)
        {
            small.Buy(trader, perp, 90_000m - i, 0.01m);
        }

        string before = small.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.TooManyOpenOrders, small.TryPlace(trader, perp, Side.Buy, 80_000m, 0.01m));
        Assert.Equal(before, small.Engine.ComputeStateHashHex());
        small.Place(trader, perp, Side.Buy, 80_000m, 0.01m, TimeInForce.ImmediateOrCancel); // never rests, so allowed
    }

    [Fact]
    public void Cancelling_someone_elses_order_is_refused_as_unknown()
    {
        long id = venue.Buy(alice, btc, 90_000m, 1m);
        AssertRejectedAndUnchanged(RejectReason.UnknownOrder, () => venue.Apply(new CancelOrder(bob, id)));
    }

    [Fact]
    public void Cancel_all_can_target_one_instrument_or_every_instrument()
    {
        int future = venue.ListFuture("BTC", new DateOnly(2026, 3, 27));
        venue.Buy(alice, btc, 90_000m, 1m);
        venue.Buy(alice, future, 90_000m, 1m);
        venue.Buy(bob, btc, 90_000m, 1m);

        venue.Accept(new CancelAllOrders(alice, btc));
        Assert.Single(venue.Events);
        Assert.Equal(1, venue.Engine.Instruments[btc - 1].Book.OrderCount);
        Assert.Equal(1, venue.Engine.Instruments[future - 1].Book.OrderCount);

        venue.Accept(new CancelAllOrders(alice));
        Assert.Equal(0, venue.Engine.Instruments[future - 1].Book.OrderCount);
        Assert.True(venue.Engine.TryGetAccount(alice, out var a));
        Assert.Equal(0, a.OpenOrderCount);
    }

    [Fact]
    public void An_accounts_open_orders_are_listed_by_instrument_then_priority()
    {
        int future = venue.ListFuture("BTC", new DateOnly(2026, 3, 27));
        long a = venue.Buy(alice, future, 90_000m, 1m);
        long b = venue.Buy(alice, btc, 90_000m, 1m);
        long c = venue.Buy(alice, btc, 91_000m, 1m);
        venue.Buy(bob, btc, 92_000m, 1m);

        Assert.Equal([(btc, c), (btc, b), (future, a)], venue.Engine.GetOpenOrders(alice).Select(o => (o.InstrumentId, o.Order.OrderId)));
        Assert.Equal([a], venue.Engine.GetOpenOrders(alice, future).Select(o => o.Order.OrderId));
        Assert.Empty(venue.Engine.GetOpenOrders(99));
    }

    [Fact]
    public void An_index_update_says_which_underlying_moved()
    {
        venue.ListFuture("ETH", new DateOnly(2026, 3, 27), tick: 0.05m, lot: 0.01m);
        venue.SetIndex("ETH", 3_000m);
        var e = Assert.Single(venue.Events);
        Assert.Equal(EventKind.IndexPriceSet, e.Kind);
        Assert.True(venue.Engine.TryGetUnderlying("ETH", out var eth));
        Assert.Equal(eth.Id, e.UnderlyingId);
        Assert.Equal(2, eth.Id);
    }

    [Fact]
    public void Commands_must_arrive_in_sequence_and_time_order()
    {
        var engine = new Core.Engine.Engine();
        Assert.Equal(RejectReason.None, engine.Apply(new CreateAccount { Sequence = 5, TimestampMicros = 100 }));
        Assert.Equal(RejectReason.SequenceNotIncreasing, engine.Apply(new CreateAccount { Sequence = 5, TimestampMicros = 200 }));
        Assert.Equal(RejectReason.TimestampWentBackwards, engine.Apply(new CreateAccount { Sequence = 6, TimestampMicros = 99 }));
        Assert.Equal(RejectReason.None, engine.Apply(new CreateAccount { Sequence = 9, TimestampMicros = 100 }));
        Assert.Equal(2, engine.AccountCount);
    }

    [Fact]
    public void Open_interest_is_the_same_on_both_sides()
    {
        int carol = venue.NewAccount(1_000_000m);
        venue.Buy(alice, btc, 100_000m, 2m);
        venue.Sell(bob, btc, 100_000m, 1.5m);
        venue.Sell(carol, btc, 100_000m, 0.5m);
        venue.Buy(bob, btc, 100_500m, 1m);
        venue.Sell(alice, btc, 100_500m, 1m);

        var instrument = venue.Engine.Instruments[btc - 1];
        Assert.Equal(instrument.LongOpenInterest, instrument.ShortOpenInterest);
        Assert.Equal(Quantity.FromWhole(1), instrument.LongOpenInterest);
    }

    [Fact]
    public void Listing_the_same_name_twice_is_rejected() =>
        AssertRejectedAndUnchanged(RejectReason.InstrumentAlreadyListed, () => venue.Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromWhole(1), Quantity.FromDecimal(0.001m)))));

    [Fact]
    public void A_future_that_has_already_expired_cannot_be_listed() =>
        AssertRejectedAndUnchanged(RejectReason.ExpiryInPast, () => venue.Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Future("BTC", new DateOnly(2025, 12, 26)), Price.FromWhole(1), Quantity.FromDecimal(0.001m)))));

    [Fact]
    public void A_maker_rebate_larger_than_the_taker_fee_is_an_invalid_spec() =>
        AssertRejectedAndUnchanged(RejectReason.InvalidInstrumentSpec, () => venue.Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("SOL"), Price.FromWhole(1), Quantity.FromWhole(1), makerFeePpm: -600, takerFeePpm: 500))));
}
