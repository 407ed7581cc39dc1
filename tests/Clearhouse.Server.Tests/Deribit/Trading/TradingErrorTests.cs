using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Trading;
using static Clearhouse.Server.Tests.Deribit.Trading.OrderFlowTests;
using static Clearhouse.Server.Tests.Deribit.Trading.TradingVenue;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// Refusals: every one answers with Deribit's code (docs.deribit.com, "RPC Error Codes"; ccxt's
/// deribit.js maps 10009 to InsufficientFunds, 10004 to OrderNotFound, 10043 to InvalidOrder),
/// the engine's own sentence as <c>data.reason</c>, and changes nothing: the engine's state hash
/// is the same before and after.
/// </summary>
public sealed class TradingErrorTests(TradingVenue venue) : IClassFixture<TradingVenue>
{
    [Fact]
    public void Every_reject_reason_maps_to_a_Deribit_error_with_the_engines_sentence()
    {
        foreach (var reason in Enum.GetValues<RejectReason>())
        {
            if (reason == RejectReason.None)
            {
                Assert.False(TradingErrors.TryMap(reason, out _, out _));
                continue;
            }

            Assert.True(TradingErrors.TryMap(reason, out int code, out string message), $"{reason} has no Deribit error");
            Assert.True(code is (>= 10000 and < 14000), $"{reason} → {code}");
            Assert.False(string.IsNullOrWhiteSpace(message), $"{reason} has no message");
            var error = TradingErrors.From(reason);
            Assert.Equal(RejectReasons.Describe(reason), error.Reason);
            Assert.DoesNotContain("Rejected (", error.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(RejectReason.InsufficientMargin, 10009, "not_enough_funds")]
    [InlineData(RejectReason.UnknownOrder, 10004, "order_not_found")]
    [InlineData(RejectReason.PriceNotOnTick, 10043, "price_wrong_tick")]
    [InlineData(RejectReason.AmountNotOnLot, 10021, "invalid_amount")]
    [InlineData(RejectReason.PostOnlyWouldCross, 11054, "post_only_reject")]
    [InlineData(RejectReason.InstrumentNotActive, 10012, "book_closed")]
    [InlineData(RejectReason.TradingHalted, 10012, "book_closed")]
    [InlineData(RejectReason.OrderExpired, 13888, "timed_out")]
    public void The_reasons_clients_act_on_have_Deribits_own_codes(RejectReason reason, int code, string message)
    {
        var error = TradingErrors.From(reason);
        Assert.Equal((code, message), (error.Code, error.Message));
    }

    [Fact]
    public async Task An_order_beyond_the_accounts_margin_is_not_enough_funds_and_changes_nothing()
    {
        var poor = await venue.OpenAccountAsync(usdc: 10m);
        string before = await venue.StateHashAsync();
        var error = await venue.FailAsync(poor, "private/buy", new { instrument_name = BtcPerpetual, amount = 1m, price = 95_000m });
        Assert.Equal((10009, "not_enough_funds", RejectReasons.Describe(RejectReason.InsufficientMargin)), (error.Code, error.Message, error.Reason));
        Assert.Equal(before, await venue.StateHashAsync());
        Assert.Empty((await venue.OkAsync(poor, "private/get_open_orders_by_currency", new { currency = "any" })).EnumerateArray());
    }

    [Theory]
    [InlineData("95000.3", 10043)] // tick 0.5
    [InlineData("-95000", -32602)]
    [InlineData("0", -32602)]
    [InlineData("1e5", -32602)]
    [InlineData("NaN", -32602)]
    [InlineData("95000.1234567", -32602)] // beyond the venue's 6 price decimals
    public async Task A_bad_price_is_refused_and_changes_nothing(string price, int code)
    {
        var trader = await venue.OpenAccountAsync();
        string before = await venue.StateHashAsync();
        var error = await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = "0.01", price });
        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrEmpty(error.Reason));
        Assert.Equal(before, await venue.StateHashAsync());
    }

    [Theory]
    [InlineData("0.0015", 10021)] // lot 0.001
    [InlineData("0", -32602)]
    [InlineData("-0.01", -32602)]
    [InlineData("9223372036854775808", -32602)]
    [InlineData("0.000000001", -32602)] // beyond 8 decimals
    public async Task A_bad_amount_is_refused_and_changes_nothing(string amount, int code)
    {
        var trader = await venue.OpenAccountAsync();
        string before = await venue.StateHashAsync();
        var error = await venue.FailAsync(trader, "private/sell", new { instrument_name = BtcPerpetual, amount, price = "96000" });
        Assert.Equal(code, error.Code);
        Assert.Equal(before, await venue.StateHashAsync());
    }

    [Fact]
    public async Task Another_accounts_order_cannot_be_seen_edited_or_cancelled()
    {
        var owner = await venue.OpenAccountAsync();
        var intruder = await venue.OpenAccountAsync();
        string orderId = Str((await venue.OkAsync(owner, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m })).GetProperty("order"), "order_id");
        string before = await venue.StateHashAsync();

        Assert.Equal(10004, (await venue.FailAsync(intruder, "private/get_order_state", new { order_id = orderId })).Code);
        Assert.Equal(10004, (await venue.FailAsync(intruder, "private/cancel", new { order_id = orderId })).Code);
        Assert.Equal(10004, (await venue.FailAsync(intruder, "private/edit", new { order_id = orderId, amount = 0.02m, price = 94_500m })).Code);
        Assert.Equal(10004, (await venue.FailAsync(intruder, "private/edit", new { order_id = orderId, amount = 0.02m })).Code);

        // Refusals are journaled as rejected commands but change no state; the owner's order is intact.
        Assert.Equal(before, await venue.StateHashAsync());
        Assert.Equal(0, (await venue.OkAsync(intruder, "private/cancel_all_by_instrument", new { instrument_name = BtcPerpetual })).GetInt32());
        Assert.Equal("open", Str(await venue.OkAsync(owner, "private/get_order_state", new { order_id = orderId }), "order_state"));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("1e3")]
    [InlineData("12.0")]
    [InlineData(" 12")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    [InlineData("0x10")]
    public async Task A_malformed_order_id_is_invalid_order_id(string orderId)
    {
        var trader = await venue.OpenAccountAsync();
        var error = await venue.FailAsync(trader, "private/cancel", new { order_id = orderId });
        Assert.Equal((10025, "invalid_order_id", "order_id"), (error.Code, error.Message, error.Param));
    }

    [Fact]
    public async Task A_post_only_order_that_would_take_is_rejected_with_post_only_reject()
    {
        var maker = await venue.OpenAccountAsync();
        var trader = await venue.OpenAccountAsync();
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_100m, 0.01m);
        string before = await venue.StateHashAsync();
        var error = await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 95_100m, post_only = true, reject_post_only = true });
        Assert.Equal((11054, "post_only_reject"), (error.Code, error.Message));
        Assert.Equal(before, await venue.StateHashAsync());
    }

    [Fact]
    public async Task Trigger_orders_advanced_orders_and_unknown_instruments_are_refused_before_submitting()
    {
        var trader = await venue.OpenAccountAsync();
        string before = await venue.StateHashAsync();
        Assert.Equal(10033, (await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, type = "stop_limit", trigger_price = 94_500m })).Code);
        Assert.Equal(10033, (await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, trigger = "mark_price" })).Code);
        Assert.Equal(10033, (await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, advanced = "usd" })).Code);
        Assert.Equal(-32602, (await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, type = "iceberg" })).Code);
        Assert.Equal(-32602, (await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, type = "limit" })).Code);
        Assert.Equal(-32602, (await venue.FailAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m, time_in_force = "good_til_day" })).Code);
        var unknown = await venue.FailAsync(trader, "private/buy", new { instrument_name = "DOGE_USDC-PERPETUAL", amount = 1m, price = 1m });
        Assert.Equal((10020, "instrument_name"), (unknown.Code, unknown.Param));
        Assert.Equal(-32602, (await venue.FailAsync(trader, "private/get_open_orders_by_currency", new { currency = "DOGE" })).Code);
        Assert.Equal(before, await venue.StateHashAsync());
    }
}
