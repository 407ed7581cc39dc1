using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using static Clearhouse.Server.Tests.Deribit.Trading.OrderFlowTests;
using static Clearhouse.Server.Tests.Deribit.Trading.TradingVenue;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// A liquidation seen through the Deribit methods: the account's resting orders are cancelled
/// with Deribit's <c>autoliquidation</c> reason, and the order the venue places to close the
/// position is the account's own order (<c>is_liquidation</c>), with its fill marked
/// <c>liquidation: "T"</c> (docs.deribit.com: order and user-trade objects). Its own server: the
/// test moves the BTC index.
/// </summary>
public sealed class LiquidationFlowTests(TradingVenue venue) : IClassFixture<TradingVenue>
{
    [Fact]
    public async Task A_liquidated_accounts_orders_are_cancelled_and_its_liquidation_order_and_fill_are_its_own()
    {
        var maker = await venue.OpenAccountAsync(1_000_000m);
        var bidder = await venue.OpenAccountAsync(1_000_000m);
        var trader = await venue.OpenAccountAsync(2_500m);
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000m, 1m);
        await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 1m, price = 95_000m, time_in_force = "immediate_or_cancel" });
        string resting = Str((await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.001m, price = 94_000m, label = "dip" })).GetProperty("order"), "order_id");
        await venue.RestAsync(bidder, venue.BtcId, Side.Buy, 93_000m, 2m);

        var moved = await venue.Sequencer.SubmitAsync(new SetIndexPrice("BTC", Price.FromWhole(93_300)));
        Assert.True(moved.IsAccepted, moved.Reason.ToString());
        Assert.Contains(moved.Events, e => e.Kind == EventKind.LiquidationStep && e.AccountId == trader.AccountId);

        var cancelled = await venue.OkAsync(trader, "private/get_order_state", new { order_id = resting });
        Assert.Equal(("cancelled", "autoliquidation", "dip"), (Str(cancelled, "order_state"), Str(cancelled, "cancel_reason"), Str(cancelled, "label")));

        var history = (await venue.OkAsync(trader, "private/get_order_history_by_instrument", new { instrument_name = BtcPerpetual, count = 100 })).EnumerateArray().ToArray();
        var liquidation = Assert.Single(history, o => o.GetProperty("is_liquidation").GetBoolean());
        Assert.Equal(("sell", true), (Str(liquidation, "direction"), liquidation.GetProperty("reduce_only").GetBoolean()));
        Assert.True(Dec(liquidation, "filled_amount") > 0);

        var fills = (await venue.OkAsync(trader, "private/get_user_trades_by_instrument", new { instrument_name = BtcPerpetual, sorting = "asc" })).GetProperty("trades").EnumerateArray().ToArray();
        var closing = Assert.Single(fills, t => t.TryGetProperty("liquidation", out _));
        Assert.Equal((Str(liquidation, "order_id"), "sell", "T", 93_000m), (Str(closing, "order_id"), Str(closing, "direction"), Str(closing, "liquidity"), Dec(closing, "price")));
        Assert.Equal("T", Str(closing, "liquidation"));

        // The bidder's side of it is an ordinary maker fill.
        var bidderFill = Assert.Single((await venue.OkAsync(bidder, "private/get_user_trades_by_instrument", new { instrument_name = BtcPerpetual })).GetProperty("trades").EnumerateArray());
        Assert.Equal(("buy", "M", Str(closing, "trade_id")), (Str(bidderFill, "direction"), Str(bidderFill, "liquidity"), Str(bidderFill, "trade_id")));
        Assert.False(bidderFill.TryGetProperty("liquidation", out _));
    }
}
