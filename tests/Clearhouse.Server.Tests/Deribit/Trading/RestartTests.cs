using Clearhouse.Core.Matching;
using static Clearhouse.Server.Tests.Deribit.Trading.OrderFlowTests;
using static Clearhouse.Server.Tests.Deribit.Trading.TradingVenue;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// The order tracker after a restart: the engine keeps open orders (in its snapshot and journal),
/// not Deribit labels or closed orders, so a restarted server knows every open order — seeded from
/// the engine before the first command — with what the engine knows of it, and the label is lost.
/// </summary>
public sealed class RestartTests
{
    [Fact]
    public async Task A_restarted_server_knows_the_open_orders_with_their_fills_but_not_their_labels()
    {
        string data = TemporaryDirectory.Create("deribit-restart");
        try
        {
            string orderId;
            Clearhouse.Server.Deribit.Auth.ApiPrincipal trader;
            await using (var first = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"))
            {
                var venue = new TradingVenue(first);
                var maker = await venue.OpenAccountAsync();
                trader = await venue.OpenAccountAsync();
                await venue.RestAsync(maker, venue.BtcId, Side.Buy, 94_990m, 0.004m);
                var placed = await venue.OkAsync(trader, "private/sell", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_990m, label = "kept?" });
                orderId = Str(placed.GetProperty("order"), "order_id");
                Assert.Equal(("open", 0.004m, "kept?"), (Str(placed.GetProperty("order"), "order_state"), Dec(placed.GetProperty("order"), "filled_amount"), Str(placed.GetProperty("order"), "label")));
            }

            await using var second = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0");
            var restarted = new TradingVenue(second);
            var order = await restarted.OkAsync(trader, "private/get_order_state", new { order_id = orderId });
            Assert.Equal(("open", "sell", 0.01m, 0.004m, 94_990m, ""), (Str(order, "order_state"), Str(order, "direction"), Dec(order, "amount"), Dec(order, "filled_amount"), Dec(order, "price"), Str(order, "label")));
            Assert.Equal([orderId], (await restarted.OkAsync(trader, "private/get_open_orders_by_currency", new { currency = "BTC" })).EnumerateArray().Select(o => Str(o, "order_id")));

            // It trades and cancels like any other.
            Assert.Equal("cancelled", Str(await restarted.OkAsync(trader, "private/cancel", new { order_id = orderId }), "order_state"));
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }
}
