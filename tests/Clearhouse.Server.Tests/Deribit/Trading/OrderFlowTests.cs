using System.Text.Json;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Deribit.Auth;
using static Clearhouse.Server.Tests.Deribit.Trading.TradingVenue;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// Placing, filling, editing and cancelling through the Deribit methods, against the real engine:
/// a maker rests orders through the sequencer, a taker trades through <c>private/buy</c> and
/// <c>private/sell</c>, and both read their orders and fills back. Field names and values follow
/// Deribit's API v2 (docs.deribit.com: private/buy "order" and "trades" objects,
/// private/get_user_trades_by_instrument); BTC_USDC-PERPETUAL has tick 0.5, lot 0.001, maker fee 0,
/// taker fee 0.05% (genesis).
/// </summary>
public sealed class OrderFlowTests(TradingVenue venue) : IClassFixture<TradingVenue>
{
    [Fact]
    public async Task A_crossing_buy_fills_against_two_resting_sells_and_both_sides_see_their_fills()
    {
        var maker = await venue.OpenAccountAsync();
        var taker = await venue.OpenAccountAsync();
        long first = await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000m, 0.010m);
        long second = await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_010m, 0.005m);

        var placed = await venue.OkAsync(taker, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.012m, type = "limit", price = 95_010m, time_in_force = "immediate_or_cancel", label = "t1" });

        var order = placed.GetProperty("order");
        string orderId = order.GetProperty("order_id").GetString()!;
        Assert.True(long.TryParse(orderId, out _), orderId);
        Assert.Equal((BtcPerpetual, "buy", "limit", "filled", "immediate_or_cancel", "t1"), (Str(order, "instrument_name"), Str(order, "direction"), Str(order, "order_type"), Str(order, "order_state"), Str(order, "time_in_force"), Str(order, "label")));
        Assert.Equal((95_010m, 0.012m, 0.012m), (Dec(order, "price"), Dec(order, "amount"), Dec(order, "filled_amount")));

        // (0.010 × 95,000 + 0.002 × 95,010) / 0.012 = 1,140.02 / 0.012 = 95,001.666…
        Assert.Equal(95_001.66666667m, Dec(order, "average_price"));

        // Taker fee 0.05% of each fill's notional: 950 × 0.0005 + 190.02 × 0.0005.
        Assert.Equal(0.57001m, Dec(order, "commission"));
        Assert.False(order.GetProperty("post_only").GetBoolean());
        Assert.False(order.GetProperty("is_liquidation").GetBoolean());
        Assert.True(order.GetProperty("creation_timestamp").GetInt64() > 1_600_000_000_000); // milliseconds

        var trades = placed.GetProperty("trades").EnumerateArray().ToArray();
        Assert.Equal(2, trades.Length);
        Assert.Equal((95_000m, 0.010m, 0.475m, "T", "buy", "open"), (Dec(trades[0], "price"), Dec(trades[0], "amount"), Dec(trades[0], "fee"), Str(trades[0], "liquidity"), Str(trades[0], "direction"), Str(trades[0], "state")));
        Assert.Equal((95_010m, 0.002m, 0.09501m, "T", "buy", "filled"), (Dec(trades[1], "price"), Dec(trades[1], "amount"), Dec(trades[1], "fee"), Str(trades[1], "liquidity"), Str(trades[1], "direction"), Str(trades[1], "state")));
        foreach (var trade in trades)
        {
            Assert.Equal((orderId, "USDC", "t1", BtcPerpetual), (Str(trade, "order_id"), Str(trade, "fee_currency"), Str(trade, "label"), Str(trade, "instrument_name")));
            Assert.Equal(95_000m, Dec(trade, "index_price"));
        }

        // The taker reads the same order and fills back.
        var state = await venue.OkAsync(taker, "private/get_order_state", new { order_id = orderId });
        Assert.Equal(("filled", 0.012m, 95_001.66666667m, "t1"), (Str(state, "order_state"), Dec(state, "filled_amount"), Dec(state, "average_price"), Str(state, "label")));
        var mine = await venue.OkAsync(taker, "private/get_user_trades_by_instrument", new { instrument_name = BtcPerpetual, sorting = "asc" });
        Assert.Equal([Str(trades[0], "trade_id"), Str(trades[1], "trade_id")], mine.GetProperty("trades").EnumerateArray().Select(t => Str(t, "trade_id")));
        Assert.False(mine.GetProperty("has_more").GetBoolean());

        // The maker: the first order filled, the second partly (0.002 of 0.005) and still open; its fills are maker fills without fee.
        var makerFirst = await venue.OkAsync(maker, "private/get_order_state", new { order_id = first.ToString() });
        Assert.Equal(("filled", "sell", true, 95_000m), (Str(makerFirst, "order_state"), Str(makerFirst, "direction"), makerFirst.GetProperty("post_only").GetBoolean(), Dec(makerFirst, "average_price")));
        var open = (await venue.OkAsync(maker, "private/get_open_orders_by_instrument", new { instrument_name = BtcPerpetual })).EnumerateArray().ToArray();
        var rest = Assert.Single(open);
        Assert.Equal((second.ToString(), "open", 0.005m, 0.002m, 95_010m), (Str(rest, "order_id"), Str(rest, "order_state"), Dec(rest, "amount"), Dec(rest, "filled_amount"), Dec(rest, "average_price")));
        var makerTrades = (await venue.OkAsync(maker, "private/get_user_trades_by_currency", new { currency = "BTC", sorting = "asc" })).GetProperty("trades").EnumerateArray().ToArray();
        Assert.Equal(2, makerTrades.Length);
        Assert.All(makerTrades, t => Assert.Equal(("M", "sell", 0m), (Str(t, "liquidity"), Str(t, "direction"), Dec(t, "fee"))));
        Assert.Equal([first.ToString(), second.ToString()], makerTrades.Select(t => Str(t, "order_id")));
    }

    [Fact]
    public async Task A_fill_has_the_same_trade_seq_in_the_callers_trades_as_on_the_public_tape_and_start_seq_pages_by_it()
    {
        // Deribit's trade_seq numbers an instrument's trades; the trade id numbers the venue's. Trades
        // on another instrument first, so that the two numberings differ here.
        var maker = await venue.OpenAccountAsync();
        var taker = await venue.OpenAccountAsync();
        await venue.RestAsync(maker, venue.EthId, Side.Sell, 3_500m, 0.1m);
        await venue.OkAsync(taker, "private/buy", new { instrument_name = EthPerpetual, amount = 0.1m, type = "market" });
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000m, 0.002m);
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000.5m, 0.002m);
        await venue.OkAsync(taker, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.004m, type = "market" });

        var tape = (await venue.OkAsync(taker, "public/get_last_trades_by_instrument", new { instrument_name = BtcPerpetual, count = 1_000 }))
            .GetProperty("trades").EnumerateArray().ToDictionary(t => Str(t, "trade_id"), t => t.GetProperty("trade_seq").GetInt64());
        var mine = (await venue.OkAsync(taker, "private/get_user_trades_by_instrument", new { instrument_name = BtcPerpetual, sorting = "asc" })).GetProperty("trades").EnumerateArray().ToArray();
        Assert.Equal(2, mine.Length);
        foreach (var trade in mine)
        {
            Assert.Equal(tape[Str(trade, "trade_id")], trade.GetProperty("trade_seq").GetInt64());
        }

        Assert.NotEqual(Str(mine[1], "trade_id"), mine[1].GetProperty("trade_seq").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        long lastSeq = mine[1].GetProperty("trade_seq").GetInt64();
        var paged = (await venue.OkAsync(taker, "private/get_user_trades_by_instrument", new { instrument_name = BtcPerpetual, start_seq = lastSeq, end_seq = lastSeq })).GetProperty("trades").EnumerateArray();
        Assert.Equal([Str(mine[1], "trade_id")], paged.Select(t => Str(t, "trade_id")));
    }

    [Fact]
    public async Task A_resting_order_is_listed_by_currency_and_instrument_then_cancelled_by_its_owner()
    {
        var trader = await venue.OpenAccountAsync();
        var placed = await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m });
        var order = placed.GetProperty("order");
        string orderId = Str(order, "order_id");
        Assert.Equal(("open", "good_til_cancelled", 0m, 0m, ""), (Str(order, "order_state"), Str(order, "time_in_force"), Dec(order, "filled_amount"), Dec(order, "average_price"), Str(order, "label")));
        Assert.Empty(placed.GetProperty("trades").EnumerateArray());

        Assert.Equal([orderId], (await venue.OkAsync(trader, "private/get_open_orders_by_currency", new { currency = "BTC" })).EnumerateArray().Select(o => Str(o, "order_id")));
        Assert.Equal([orderId], (await venue.OkAsync(trader, "private/get_open_orders_by_currency", new { currency = "USDC", kind = "future" })).EnumerateArray().Select(o => Str(o, "order_id")));
        Assert.Empty((await venue.OkAsync(trader, "private/get_open_orders_by_currency", new { currency = "ETH" })).EnumerateArray());
        Assert.Empty((await venue.OkAsync(trader, "private/get_open_orders_by_currency", new { currency = "BTC", kind = "option" })).EnumerateArray());
        Assert.Empty((await venue.OkAsync(trader, "private/get_open_orders_by_instrument", new { instrument_name = BtcPerpetual, type = "stop_all" })).EnumerateArray());

        var cancelled = await venue.OkAsync(trader, "private/cancel", new { order_id = orderId });
        Assert.Equal((orderId, "cancelled", "user_request", 0.01m), (Str(cancelled, "order_id"), Str(cancelled, "order_state"), Str(cancelled, "cancel_reason"), Dec(cancelled, "amount")));
        Assert.Equal("cancelled", Str(await venue.OkAsync(trader, "private/get_order_state", new { order_id = orderId }), "order_state"));
        Assert.Empty((await venue.OkAsync(trader, "private/get_open_orders_by_currency", new { currency = "any" })).EnumerateArray());

        // Deribit's order history leaves fully unfilled orders out unless asked.
        Assert.Empty((await venue.OkAsync(trader, "private/get_order_history_by_instrument", new { instrument_name = BtcPerpetual })).EnumerateArray());
        Assert.Equal([orderId], (await venue.OkAsync(trader, "private/get_order_history_by_currency", new { currency = "BTC", include_unfilled = true })).EnumerateArray().Select(o => Str(o, "order_id")));

        // A second cancel: the order is no longer open.
        Assert.Equal(10004, (await venue.FailAsync(trader, "private/cancel", new { order_id = orderId })).Code);
    }

    [Fact]
    public async Task Edit_moves_the_price_and_amount_and_keeps_the_price_when_only_the_amount_is_given()
    {
        var trader = await venue.OpenAccountAsync();
        string orderId = Str((await venue.OkAsync(trader, "private/sell", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 96_000m, label = "quote" })).GetProperty("order"), "order_id");

        var edited = await venue.OkAsync(trader, "private/edit", new { order_id = orderId, amount = 0.02m, price = 96_500m });
        var order = edited.GetProperty("order");
        Assert.Equal((orderId, "open", 96_500m, 0.02m, true, "quote", "sell"), (Str(order, "order_id"), Str(order, "order_state"), Dec(order, "price"), Dec(order, "amount"), order.GetProperty("replaced").GetBoolean(), Str(order, "label"), Str(order, "direction")));
        Assert.Empty(edited.GetProperty("trades").EnumerateArray());

        var amountOnly = (await venue.OkAsync(trader, "private/edit", new { order_id = orderId, amount = 0.03m })).GetProperty("order");
        Assert.Equal((96_500m, 0.03m), (Dec(amountOnly, "price"), Dec(amountOnly, "amount")));
        Assert.Equal(0.03m, Dec(await venue.OkAsync(trader, "private/get_order_state", new { order_id = orderId }), "amount"));
    }

    [Fact]
    public async Task An_edit_that_crosses_trades_at_once_and_reports_its_fill()
    {
        var maker = await venue.OpenAccountAsync();
        var trader = await venue.OpenAccountAsync();
        await venue.RestAsync(maker, venue.EthId, Side.Sell, 3_510m, 0.5m);
        string orderId = Str((await venue.OkAsync(trader, "private/buy", new { instrument_name = EthPerpetual, amount = 0.2m, price = 3_490m })).GetProperty("order"), "order_id");

        var edited = await venue.OkAsync(trader, "private/edit", new { order_id = orderId, amount = 0.2m, price = 3_510m });
        var order = edited.GetProperty("order");
        Assert.Equal(("filled", 0.2m, 3_510m), (Str(order, "order_state"), Dec(order, "filled_amount"), Dec(order, "average_price")));
        var trade = Assert.Single(edited.GetProperty("trades").EnumerateArray());
        Assert.Equal((orderId, "T", 0.2m, 3_510m), (Str(trade, "order_id"), Str(trade, "liquidity"), Dec(trade, "amount"), Dec(trade, "price")));
    }

    [Fact]
    public async Task A_market_order_takes_what_rests_and_is_reported_as_market_and_immediate_or_cancel()
    {
        var maker = await venue.OpenAccountAsync();
        var taker = await venue.OpenAccountAsync();
        await venue.RestAsync(maker, venue.EthId, Side.Buy, 3_495m, 1m);

        var sold = await venue.OkAsync(taker, "private/sell", new { instrument_name = EthPerpetual, amount = 0.3m, type = "market" });
        var order = sold.GetProperty("order");
        Assert.Equal(("market", "immediate_or_cancel", "filled", "sell", 0.3m, 3_495m), (Str(order, "order_type"), Str(order, "time_in_force"), Str(order, "order_state"), Str(order, "direction"), Dec(order, "filled_amount"), Dec(order, "average_price")));
        var trade = Assert.Single(sold.GetProperty("trades").EnumerateArray());
        Assert.Equal(("market", "T"), (Str(trade, "order_type"), Str(trade, "liquidity")));
    }

    [Fact]
    public async Task An_immediate_or_cancel_order_that_fills_in_part_ends_cancelled_with_its_fill()
    {
        var maker = await venue.OpenAccountAsync();
        var taker = await venue.OpenAccountAsync();
        await venue.RestAsync(maker, venue.EthId, Side.Sell, 3_505m, 0.1m);

        var placed = await venue.OkAsync(taker, "private/buy", new { instrument_name = EthPerpetual, amount = 0.3m, price = 3_505m, time_in_force = "immediate_or_cancel" });
        var order = placed.GetProperty("order");
        Assert.Equal(("cancelled", 0.1m, 0.3m, "immediate_or_cancel"), (Str(order, "order_state"), Dec(order, "filled_amount"), Dec(order, "amount"), Str(order, "cancel_reason")));
        Assert.Single(placed.GetProperty("trades").EnumerateArray());
    }

    [Fact]
    public async Task Cancel_all_counts_what_it_cancelled_by_account_instrument_and_currency()
    {
        var trader = await venue.OpenAccountAsync();
        var other = await venue.OpenAccountAsync();
        await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m });
        await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_100m });
        await venue.OkAsync(trader, "private/buy", new { instrument_name = EthPerpetual, amount = 0.1m, price = 3_450m });
        await venue.OkAsync(other, "private/buy", new { instrument_name = EthPerpetual, amount = 0.1m, price = 3_450m });

        Assert.Equal(1, (await venue.OkAsync(trader, "private/cancel_all_by_currency", new { currency = "ETH" })).GetInt32());
        Assert.Equal(2, (await venue.OkAsync(trader, "private/cancel_all_by_instrument", new { instrument_name = BtcPerpetual })).GetInt32());
        Assert.Equal(0, (await venue.OkAsync(trader, "private/cancel_all", new { })).GetInt32());

        // The other account's order is untouched, and cancel_all takes it when its owner asks.
        Assert.Single((await venue.OkAsync(other, "private/get_open_orders_by_currency", new { currency = "ETH" })).EnumerateArray());
        Assert.Equal(1, (await venue.OkAsync(other, "private/cancel_all", new { })).GetInt32());
    }

    [Fact]
    public async Task Labels_need_not_be_unique_and_stay_with_their_orders()
    {
        var trader = await venue.OpenAccountAsync();
        var one = await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, label = "same" });
        var two = await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, label = "same" });
        var three = await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, label = "other" });
        var labels = (await venue.OkAsync(trader, "private/get_open_orders_by_instrument", new { instrument_name = BtcPerpetual })).EnumerateArray()
            .ToDictionary(o => Str(o, "order_id"), o => Str(o, "label"));
        Assert.Equal("same", labels[Str(one.GetProperty("order"), "order_id")]);
        Assert.Equal("same", labels[Str(two.GetProperty("order"), "order_id")]);
        Assert.Equal("other", labels[Str(three.GetProperty("order"), "order_id")]);
        Assert.Equal(3, labels.Count);
    }

    [Fact]
    public async Task A_label_longer_than_64_characters_is_refused_before_anything_is_submitted()
    {
        var trader = await venue.OpenAccountAsync();
        string before = await venue.StateHashAsync();
        var error = await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, label = new string('x', 65) });
        Assert.Equal((-32602, "label"), (error.Code, error.Param));
        Assert.Equal(before, await venue.StateHashAsync());
    }

    [Fact]
    public async Task A_key_without_the_trade_scope_can_read_but_not_place()
    {
        var full = await venue.OpenAccountAsync();
        var readOnly = full with { Scopes = ApiScopes.Read };
        var error = await venue.FailAsync(readOnly, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m });
        Assert.Equal(13021, error.Code);
        Assert.Empty((await venue.OkAsync(readOnly, "private/get_open_orders_by_currency", new { currency = "BTC" })).EnumerateArray());
        Assert.Equal(13009, (await venue.FailAsync(null, "private/get_open_orders_by_currency", new { currency = "BTC" })).Code);
    }

    [Fact]
    public async Task The_tracker_keeps_the_last_thousand_fills_and_closed_orders_of_an_account()
    {
        var maker = await venue.OpenAccountAsync(1_000_000m);
        var taker = await venue.OpenAccountAsync(1_000_000m);
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000m, 2m);
        var orderIds = new List<string>();
        for (int i = 0; i < 1_005; i++)
        {
            var placed = await venue.OkAsync(taker, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.001m, price = 95_000m, time_in_force = "immediate_or_cancel" });
            orderIds.Add(Str(placed.GetProperty("order"), "order_id"));
        }

        var kept = await venue.OkAsync(taker, "private/get_user_trades_by_instrument", new { instrument_name = BtcPerpetual, count = 1_000, sorting = "asc" });
        var trades = kept.GetProperty("trades").EnumerateArray().ToArray();
        Assert.Equal(1_000, trades.Length);
        Assert.False(kept.GetProperty("has_more").GetBoolean());
        Assert.Equal(orderIds[5], Str(trades[0], "order_id")); // the five oldest fills are forgotten
        Assert.Equal(orderIds[^1], Str(trades[^1], "order_id"));

        var newest = await venue.OkAsync(taker, "private/get_user_trades_by_currency", new { currency = "BTC", count = 3 });
        Assert.True(newest.GetProperty("has_more").GetBoolean());
        Assert.Equal([orderIds[^1], orderIds[^2], orderIds[^3]], newest.GetProperty("trades").EnumerateArray().Select(t => Str(t, "order_id")));

        Assert.Equal(10004, (await venue.FailAsync(taker, "private/get_order_state", new { order_id = orderIds[4] })).Code);
        Assert.Equal("filled", Str(await venue.OkAsync(taker, "private/get_order_state", new { order_id = orderIds[5] }), "order_state"));
        Assert.Equal(20, (await venue.OkAsync(taker, "private/get_order_history_by_instrument", new { instrument_name = BtcPerpetual })).GetArrayLength());
    }

    internal static string Str(JsonElement element, string name) => element.GetProperty(name).GetString()!;

    internal static decimal Dec(JsonElement element, string name) => element.GetProperty(name).GetDecimal();
}
