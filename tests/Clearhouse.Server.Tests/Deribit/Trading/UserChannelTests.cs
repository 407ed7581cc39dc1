using System.Net;
using System.Text.Json;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Transport;
using static Clearhouse.Server.Tests.Deribit.Trading.OrderFlowTests;
using static Clearhouse.Server.Tests.Deribit.Trading.TradingVenue;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// The user channels on connections authenticated as accounts: notifications in Deribit's format
/// (docs.deribit.com, "Subscriptions": <c>{"jsonrpc":"2.0","method":"subscription","params":{"channel":…,"data":…}}</c>;
/// user.orders.*.raw carries one order object, user.trades.* an array of trades, user.portfolio.*
/// the account summary), and only ever to the account they are about. The connections are the
/// server's own <see cref="DeribitConnection"/> objects, subscribed the way public/subscribe
/// does it (<see cref="DeribitConnection.Subscribe"/>, then the provider's
/// <see cref="IChannelProvider.Subscribed"/>); what they would write to the socket is read from
/// their outbound queue.
/// </summary>
public sealed class UserChannelTests(TradingVenue venue) : IClassFixture<TradingVenue>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Order_and_trade_notifications_reach_only_the_owners_connection()
    {
        var maker = await venue.OpenAccountAsync();
        var owner = await venue.OpenAccountAsync();
        var stranger = await venue.OpenAccountAsync();
        var ownerConnection = Subscribe(owner, "user.orders.any.any.raw", "user.trades.BTC_USDC-PERPETUAL.raw");
        var strangerConnection = Subscribe(stranger, "user.orders.any.any.raw", "user.trades.any.any.raw");
        var makerConnection = Subscribe(maker, "user.orders.future.BTC.100ms", "user.trades.any.any.raw");
        long makerOrder = await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000m, 0.01m);
        var rested = await NextAsync(makerConnection);
        Assert.Equal(("user.orders.future.BTC.100ms", makerOrder.ToString(), "open"), (rested.Channel, Str(rested.Data[0], "order_id"), Str(rested.Data[0], "order_state")));

        var placed = await venue.OkAsync(owner, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.004m, price = 95_000m, label = "mine" });
        string orderId = Str(placed.GetProperty("order"), "order_id");

        var orders = await NextAsync(ownerConnection);
        Assert.Equal("user.orders.any.any.raw", orders.Channel);
        Assert.Equal(JsonValueKind.Object, orders.Data.ValueKind);
        Assert.Equal((orderId, "filled", 0.004m, "mine"), (Str(orders.Data, "order_id"), Str(orders.Data, "order_state"), Dec(orders.Data, "filled_amount"), Str(orders.Data, "label")));
        var trades = await NextAsync(ownerConnection);
        Assert.Equal("user.trades.BTC_USDC-PERPETUAL.raw", trades.Channel);
        var trade = Assert.Single(trades.Data.EnumerateArray());
        Assert.Equal((orderId, "T", 0.004m, 95_000m), (Str(trade, "order_id"), Str(trade, "liquidity"), Dec(trade, "amount"), Dec(trade, "price")));

        // The maker hears of its own side: its order partly filled (an array on the 100ms channel), and its maker fill.
        var partly = await NextAsync(makerConnection);
        var makerView = Assert.Single(partly.Data.EnumerateArray());
        Assert.Equal((makerOrder.ToString(), "open", 0.004m), (Str(makerView, "order_id"), Str(makerView, "order_state"), Dec(makerView, "filled_amount")));
        var makerFill = Assert.Single((await NextAsync(makerConnection)).Data.EnumerateArray());
        Assert.Equal(("M", "sell", Str(trade, "trade_id")), (Str(makerFill, "liquidity"), Str(makerFill, "direction"), Str(makerFill, "trade_id")));

        // The stranger heard nothing of it: the first thing its connection receives is about its own order, placed afterwards.
        var own = await venue.OkAsync(stranger, "private/sell", new { instrument_name = EthPerpetual, amount = 0.1m, price = 3_600m });
        var first = await NextAsync(strangerConnection);
        Assert.Equal(("user.orders.any.any.raw", Str(own.GetProperty("order"), "order_id"), "open"), (first.Channel, Str(first.Data, "order_id"), Str(first.Data, "order_state")));
    }

    [Fact]
    public async Task An_instrument_channel_hears_only_its_instrument_and_a_cancel_is_notified()
    {
        var trader = await venue.OpenAccountAsync();
        var connection = Subscribe(trader, "user.orders.ETH_USDC-PERPETUAL.raw");
        await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.01m, price = 94_000m });
        string ethOrder = Str((await venue.OkAsync(trader, "private/buy", new { instrument_name = EthPerpetual, amount = 0.1m, price = 3_400m })).GetProperty("order"), "order_id");
        await venue.OkAsync(trader, "private/cancel", new { order_id = ethOrder });

        var opened = await NextAsync(connection);
        Assert.Equal((ethOrder, "open"), (Str(opened.Data, "order_id"), Str(opened.Data, "order_state")));
        var cancelled = await NextAsync(connection);
        Assert.Equal((ethOrder, "cancelled", "user_request"), (Str(cancelled.Data, "order_id"), Str(cancelled.Data, "order_state"), Str(cancelled.Data, "cancel_reason")));
    }

    [Fact]
    public async Task The_portfolio_channel_sends_the_account_summary_on_subscribing()
    {
        var trader = await venue.OpenAccountAsync(usdc: 12_345m);
        var connection = Subscribe(trader, "user.portfolio.usdc");
        var portfolio = await NextAsync(connection);
        Assert.Equal("user.portfolio.usdc", portfolio.Channel);
        Assert.Equal(("USDC", 12_345m, 12_345m), (Str(portfolio.Data, "currency"), Dec(portfolio.Data, "equity"), Dec(portfolio.Data, "available_funds")));

        // A deposit changes the account: the new summary follows within the throttle interval.
        var deposit = await venue.Sequencer.SubmitAsync(new Clearhouse.Core.Engine.Deposit(trader.AccountId, Clearhouse.Core.Numerics.Money.FromWhole(1_000)));
        Assert.True(deposit.IsAccepted);
        decimal equity;
        do
        {
            equity = Dec((await NextAsync(connection)).Data, "equity");
        }
        while (equity == 12_345m);
        Assert.Equal(13_345m, equity);

        // Another currency's portfolio (ccxt's watchBalance subscribes to BTC, ETH, SOL and USDC together) is empty.
        var other = Subscribe(trader, "user.portfolio.SOL");
        var sol = await NextAsync(other);
        Assert.Equal(("user.portfolio.SOL", "SOL", 0m), (sol.Channel, Str(sol.Data, "currency"), Dec(sol.Data, "equity")));
    }

    [Fact]
    public void Private_channels_need_an_authenticated_caller_with_the_read_scope()
    {
        var channels = venue.UserChannels;
        var anonymous = channels.Match("user.orders.any.any.raw", null);
        Assert.True(anonymous.IsMine);
        Assert.Equal(13009, anonymous.Error?.Code);
        Assert.Contains("private/subscribe", anonymous.Error?.Reason, StringComparison.Ordinal); // public/subscribe passes no caller even when the connection has one
        var tradeOnly = channels.Match("user.trades.any.any.raw", new ApiPrincipal("k", 1, ApiScopes.Trade));
        Assert.Equal(13021, tradeOnly.Error?.Code);

        var reader = new ApiPrincipal("k", 1, ApiScopes.Read);
        Assert.Equal(ChannelMatch.Accepted, channels.Match("user.orders.any.any.raw", reader));
        Assert.Equal(ChannelMatch.Accepted, channels.Match("user.orders.future.BTC.raw", reader));
        Assert.Equal(ChannelMatch.Accepted, channels.Match("user.trades.BTC_USDC-PERPETUAL.100ms", reader));
        Assert.Equal(ChannelMatch.Accepted, channels.Match("user.portfolio.USDC", reader));
        Assert.Equal(-32602, channels.Match("user.orders.NOPE-PERPETUAL.raw", reader).Error?.Code);
        Assert.Equal(-32602, channels.Match("user.orders.any.any.1s", reader).Error?.Code);
        Assert.Equal(ChannelMatch.Accepted, channels.Match("user.portfolio.SOL", reader)); // ccxt's watchBalance asks for it; it holds nothing
        Assert.Equal(-32602, channels.Match("user.portfolio.us-dc", reader).Error?.Code);
        Assert.Equal(-32602, channels.Match("user.orders.any.b@d.raw", reader).Error?.Code);
        Assert.False(channels.Match("book.BTC_USDC-PERPETUAL.100ms", reader).IsMine);
        Assert.False(channels.Match("user.changes.any.any.raw", reader).IsMine);
    }

    private DeribitConnection Subscribe(ApiPrincipal principal, params string[] channels)
    {
        var connection = new DeribitConnection(IPAddress.Loopback) { Principal = principal };
        foreach (string channel in channels)
        {
            Assert.Equal(ChannelMatch.Accepted, venue.UserChannels.Match(channel, principal));
        }

        connection.Subscribe(channels);
        foreach (string channel in channels)
        {
            venue.UserChannels.Subscribed(connection, channel);
        }

        return connection;
    }

    private static async Task<(string Channel, JsonElement Data)> NextAsync(DeribitConnection connection)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var message = await connection.Outbound.ReadAsync(timeout.Token);
        var root = JsonDocument.Parse(message.Bytes).RootElement.Clone();
        Assert.Equal("subscription", root.GetProperty("method").GetString());
        var parameters = root.GetProperty("params");
        return (parameters.GetProperty("channel").GetString()!, parameters.GetProperty("data"));
    }
}
