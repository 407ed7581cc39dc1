using Clearhouse.Server.Tests.Deribit.Auth;
using Clearhouse.Server.Tests.Deribit.MarketData;
using DeribitSocket = Clearhouse.Server.Tests.Deribit.MarketData.DeribitSocket;

namespace Clearhouse.Server.Tests.Deribit;

/// <summary>
/// A WebSocket that never called public/auth subscribes to its user channel with an access_token
/// parameter: the subscription binds the connection to the caller, so its order notifications arrive.
/// </summary>
public sealed class PrivateSubscribeWithTokenTests
{
    [Fact]
    public async Task An_access_token_on_private_subscribe_delivers_that_callers_notifications()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false");
        var key = await server.NewKeyAsync();
        var (status, auth) = await server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null);
        Assert.Equal(200, status);
        string token = auth.GetProperty("result").GetProperty("access_token").GetString()!;

        await using var ws = await DeribitSocket.ConnectAsync(server.Address);
        var subscribed = await ws.CallAsync("private/subscribe", new { channels = new[] { "user.orders.any.any.raw" }, access_token = token });
        Assert.Equal("user.orders.any.any.raw", subscribed.GetProperty("result")[0].GetString());

        var placed = await ws.CallAsync("private/buy", new { instrument_name = "BTC_USDC-PERPETUAL", amount = "0.001", type = "limit", price = "50000", access_token = token });
        string orderId = placed.GetProperty("result").GetProperty("order").GetProperty("order_id").GetString()!;

        var order = await ws.NextOnAsync("user.orders.any.any.raw", data => data.ValueKind == System.Text.Json.JsonValueKind.Object
            ? data.GetProperty("order_id").GetString() == orderId
            : data.EnumerateArray().Any(o => o.GetProperty("order_id").GetString() == orderId));
        Assert.NotEqual(System.Text.Json.JsonValueKind.Undefined, order.ValueKind);
    }
}
