using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Deribit.Transport;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests.Deribit.MarketData;

/// <summary>
/// Subscriptions over the WebSocket API: Deribit's notification format
/// (<c>{"method":"subscription","params":{"channel":…,"data":…}}</c>, https://docs.deribit.com/#subscriptions),
/// the book channel's snapshot-then-changes protocol that ccxt.pro's deribit.js handleOrderBook
/// applies (entries <c>[action, price, amount]</c>, <c>change_id</c>/<c>prev_change_id</c>), the
/// trades and ticker channels, refusals, heartbeats and slow consumers.
/// </summary>
public sealed class SubscriptionTests(MarketDataVenue venue) : IClassFixture<MarketDataVenue>
{
    [Fact]
    public async Task A_book_subscription_gets_a_snapshot_then_changes_that_chain_by_change_id_and_rebuild_the_book()
    {
        string instrument = await FutureAsync("ETH", 0);
        string channel = $"book.{instrument}.100ms";
        int maker = await venue.FundedAccountAsync();
        int taker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, instrument, Side.Buy, 3300m, 1m);

        await using var ws = await venue.ConnectAsync();
        var subscribed = await ws.CallAsync("public/subscribe", new { channels = new[] { channel } });
        Assert.Equal([channel], subscribed.GetProperty("result").EnumerateArray().Select(c => c.GetString()!));

        var snapshot = await ws.NextOnAsync(channel);
        Assert.Equal("snapshot", snapshot.GetProperty("type").GetString());
        Assert.Equal(instrument, snapshot.GetProperty("instrument_name").GetString());
        Assert.Equal("""[["new",3300,1]]""", snapshot.GetProperty("bids").GetRawText());
        Assert.Equal("[]", snapshot.GetProperty("asks").GetRawText());
        var book = new LocalBook();
        book.Apply(snapshot);

        await venue.LimitAsync(maker, instrument, Side.Sell, 3700m, 0.5m);
        var first = await ws.NextOnAsync(channel);
        Assert.Equal("change", first.GetProperty("type").GetString());
        Assert.Equal(snapshot.GetProperty("change_id").GetInt64(), first.GetProperty("prev_change_id").GetInt64());
        Assert.True(first.GetProperty("change_id").GetInt64() > first.GetProperty("prev_change_id").GetInt64());
        Assert.Equal("""[["new",3700,0.5]]""", first.GetProperty("asks").GetRawText());
        Assert.Equal("[]", first.GetProperty("bids").GetRawText());
        book.Apply(first);

        await venue.LimitAsync(maker, instrument, Side.Buy, 3300m, 0.5m);
        var second = await ws.NextOnAsync(channel);
        Assert.Equal(first.GetProperty("change_id").GetInt64(), second.GetProperty("prev_change_id").GetInt64());
        Assert.Equal("""[["change",3300,1.5]]""", second.GetProperty("bids").GetRawText());
        book.Apply(second);

        await venue.LimitAsync(taker, instrument, Side.Buy, 3700m, 0.5m); // takes the whole ask
        var third = await ws.NextOnAsync(channel);
        Assert.Equal(second.GetProperty("change_id").GetInt64(), third.GetProperty("prev_change_id").GetInt64());
        Assert.Equal("""[["delete",3700,0]]""", third.GetProperty("asks").GetRawText());
        book.Apply(third);

        // What a client rebuilt from the notifications is the book public/get_order_book answers, at the same change id.
        var rest = await venue.ResultAsync("public/get_order_book", $"instrument_name={instrument}&depth=100");
        Assert.Equal(rest.GetProperty("change_id").GetInt64(), third.GetProperty("change_id").GetInt64());
        Assert.Equal(Rows(rest.GetProperty("bids")), book.Bids.OrderByDescending(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(Rows(rest.GetProperty("asks")), book.Asks.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public async Task A_later_subscriber_gets_a_snapshot_at_the_current_change_id_and_then_the_same_changes_as_everyone()
    {
        string instrument = await FutureAsync("ETH", 2);
        string channel = $"book.{instrument}.100ms";
        int maker = await venue.FundedAccountAsync();
        await using var early = await venue.ConnectAsync();
        await early.CallAsync("public/subscribe", new { channels = new[] { channel } });
        await early.NextOnAsync(channel);
        await venue.LimitAsync(maker, instrument, Side.Buy, 3100m, 0.2m);
        var firstChange = await early.NextOnAsync(channel);

        await using var late = await venue.ConnectAsync();
        await late.CallAsync("public/subscribe", new { channels = new[] { channel } });
        var snapshot = await late.NextOnAsync(channel);
        Assert.Equal("snapshot", snapshot.GetProperty("type").GetString());
        Assert.Equal(firstChange.GetProperty("change_id").GetInt64(), snapshot.GetProperty("change_id").GetInt64());
        Assert.Contains("""["new",3100,0.2]""", snapshot.GetProperty("bids").GetRawText());

        await venue.LimitAsync(maker, instrument, Side.Buy, 3050m, 0.2m);
        var toEarly = await early.NextOnAsync(channel);
        var toLate = await late.NextOnAsync(channel);
        Assert.Equal(toEarly.GetRawText(), toLate.GetRawText()); // one message, serialized once, for both
        Assert.Equal(snapshot.GetProperty("change_id").GetInt64(), toLate.GetProperty("prev_change_id").GetInt64());
    }

    [Fact]
    public async Task The_trades_channel_sends_each_new_trade_and_the_ticker_channel_sends_the_ticker()
    {
        string instrument = await FutureAsync("BTC", 0);
        string trades = $"trades.{instrument}.100ms";
        string book = $"book.{instrument}.100ms";
        string ticker = $"ticker.{instrument}.100ms";
        await using var ws = await venue.ConnectAsync();
        var subscribed = await ws.CallAsync("public/subscribe", new { channels = new[] { trades, book, ticker } });
        Assert.Equal(3, subscribed.GetProperty("result").GetArrayLength());
        await ws.NextOnAsync(book); // the channels of one cycle are live together: trades from now on are sent
        var first = await ws.NextOnAsync(ticker);
        Assert.Equal(instrument, first.GetProperty("instrument_name").GetString());
        Assert.Equal(95_000m, first.GetProperty("index_price").GetDecimal());
        Assert.Equal(JsonValueKind.Object, first.GetProperty("stats").ValueKind);

        int maker = await venue.FundedAccountAsync();
        int taker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, instrument, Side.Buy, 94_500m, 0.01m);
        await venue.LimitAsync(taker, instrument, Side.Sell, 94_500m, 0.004m);

        var sent = await ws.NextOnAsync(trades);
        var trade = Assert.Single(sent.EnumerateArray());
        Assert.Equal(94_500m, trade.GetProperty("price").GetDecimal());
        Assert.Equal(0.004m, trade.GetProperty("amount").GetDecimal());
        Assert.Equal("sell", trade.GetProperty("direction").GetString());
        Assert.Equal(instrument, trade.GetProperty("instrument_name").GetString());
        Assert.Equal(1, trade.GetProperty("trade_seq").GetInt64());

        var updated = await ws.NextOnAsync(ticker, d => d.TryGetProperty("last_price", out _));
        Assert.Equal(94_500m, updated.GetProperty("last_price").GetDecimal());
        Assert.Equal(0.006m, updated.GetProperty("best_bid_amount").GetDecimal());
    }

    [Fact]
    public async Task The_currency_wide_trades_channel_sends_the_trades_of_its_underlyings_instruments_only()
    {
        const string eth = "ETH_USDC-PERPETUAL";
        const string btc = "BTC_USDC-PERPETUAL";
        string channel = "trades.future.ETH.100ms";
        string book = $"book.{eth}.100ms";
        await using var ws = await venue.ConnectAsync();
        await ws.CallAsync("public/subscribe", new { channels = new[] { channel, book } });
        await ws.NextOnAsync(book); // same cycle: the trades channel starts from here

        int maker = await venue.FundedAccountAsync();
        int taker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, eth, Side.Sell, 3501m, 0.1m);
        await venue.LimitAsync(taker, eth, Side.Buy, 3501m, 0.1m);
        var first = await ws.NextOnAsync(channel);
        Assert.Equal(eth, Assert.Single(first.EnumerateArray()).GetProperty("instrument_name").GetString());

        // A BTC trade, then an ETH one: the channel carries only the ETH trade.
        await venue.LimitAsync(maker, btc, Side.Sell, 95_001m, 0.01m);
        await venue.LimitAsync(taker, btc, Side.Buy, 95_001m, 0.01m);
        await venue.LimitAsync(maker, eth, Side.Sell, 3502m, 0.1m);
        await venue.LimitAsync(taker, eth, Side.Buy, 3502m, 0.1m);
        var second = await ws.NextOnAsync(channel);
        var trade = Assert.Single(second.EnumerateArray());
        Assert.Equal(eth, trade.GetProperty("instrument_name").GetString());
        Assert.Equal(3502m, trade.GetProperty("price").GetDecimal());

        var refused = await ws.CallAsync("public/subscribe", new { channels = new[] { "trades.future.DOGE.100ms" } });
        Assert.Equal(-32602, refused.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_call_with_an_unknown_channel_is_refused_and_subscribes_nothing()
    {
        const string good = "book.BTC_USDC-PERPETUAL.100ms";
        await using var ws = await venue.ConnectAsync();
        var refused = await ws.CallAsync("public/subscribe", new { channels = new[] { good, "candles.BTC_USDC-PERPETUAL.1" } });
        var error = refused.GetProperty("error");
        Assert.Equal(-32602, error.GetProperty("code").GetInt32());
        Assert.Contains("candles.BTC_USDC-PERPETUAL.1", error.GetProperty("data").GetProperty("reason").GetString());

        var unknownInstrument = await ws.CallAsync("public/subscribe", new { channels = new[] { "ticker.BTC-PERPETUAL.100ms" } });
        Assert.Equal(-32602, unknownInstrument.GetProperty("error").GetProperty("code").GetInt32());
        var badInterval = await ws.CallAsync("public/subscribe", new { channels = new[] { "book.BTC_USDC-PERPETUAL.5s" } });
        Assert.Equal(-32602, badInterval.GetProperty("error").GetProperty("code").GetInt32());

        // Nothing was subscribed: unsubscribing removes nothing.
        var removed = await ws.CallAsync("public/unsubscribe", new { channels = new[] { good } });
        Assert.Equal(0, removed.GetProperty("result").GetArrayLength());

        var subscribed = await ws.CallAsync("public/subscribe", new { channels = new[] { good } });
        Assert.Equal(1, subscribed.GetProperty("result").GetArrayLength());
        removed = await ws.CallAsync("public/unsubscribe", new { channels = new[] { good } });
        Assert.Equal([good], removed.GetProperty("result").EnumerateArray().Select(c => c.GetString()!));
        Assert.Equal("ok", (await ws.CallAsync("public/unsubscribe_all")).GetProperty("result").GetString());

        var privateRefused = await ws.CallAsync("private/subscribe", new { channels = new[] { good } });
        Assert.Equal(13009, privateRefused.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_grouped_book_channel_sends_the_top_levels()
    {
        string instrument = await FutureAsync("ETH", 1);
        string channel = $"book.{instrument}.none.1.100ms";
        int maker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, instrument, Side.Sell, 3800m, 0.3m);
        await venue.LimitAsync(maker, instrument, Side.Sell, 3900m, 0.3m);
        await using var ws = await venue.ConnectAsync();
        await ws.CallAsync("public/subscribe", new { channels = new[] { channel } });
        var data = await ws.NextOnAsync(channel);
        Assert.Equal("[[3800,0.3]]", data.GetProperty("asks").GetRawText());
        Assert.Equal("[]", data.GetProperty("bids").GetRawText());
    }

    [Fact]
    public async Task Set_heartbeat_sends_test_requests_and_a_client_that_stays_silent_is_disconnected()
    {
        await using var ws = await venue.ConnectAsync();
        var tooShort = await ws.CallAsync("public/set_heartbeat", new { interval = 0 });
        Assert.Equal(-32602, tooShort.GetProperty("error").GetProperty("code").GetInt32());

        Assert.Equal("ok", (await ws.CallAsync("public/set_heartbeat", new { interval = 1 })).GetProperty("result").GetString());
        var heartbeat = await ws.NextAsync(m => m.TryGetProperty("method", out var method) && method.GetString() == "heartbeat");
        Assert.Equal("test_request", heartbeat.GetProperty("params").GetProperty("type").GetString());

        // Answering keeps the connection; the next interval then brings a plain heartbeat.
        await ws.CallAsync("public/test");
        var plain = await ws.NextAsync(m => m.TryGetProperty("method", out var method) && method.GetString() == "heartbeat");
        Assert.Equal("heartbeat", plain.GetProperty("params").GetProperty("type").GetString());

        // Silence after a test request: the server closes the connection, with a close frame that says why.
        await ws.Closed.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, ws.CloseFrame.Status);
        Assert.Contains("heartbeat", ws.CloseFrame.Description);
    }

    [Fact]
    public async Task Disable_heartbeat_stops_the_test_requests()
    {
        await using var ws = await venue.ConnectAsync();
        Assert.Equal("ok", (await ws.CallAsync("public/set_heartbeat", new { interval = 1 })).GetProperty("result").GetString());
        await ws.NextAsync(m => m.TryGetProperty("method", out var method) && method.GetString() == "heartbeat");
        Assert.Equal("ok", (await ws.CallAsync("public/disable_heartbeat")).GetProperty("result").GetString());

        // Two intervals of silence later the connection still answers (with the heartbeat on it would be closed).
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal("2.1.1", (await ws.CallAsync("public/test")).GetProperty("result").GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_subscriber_that_never_reads_is_cut_off_while_the_engine_and_other_subscribers_carry_on()
    {
        string instrument = await FutureAsync("BTC", 1);
        string channel = $"book.{instrument}.100ms";
        var connections = venue.Server.Services.GetRequiredService<DeribitConnections>();
        await using var good = await venue.ConnectAsync();
        await good.CallAsync("public/subscribe", new { channels = new[] { channel } });
        await good.NextOnAsync(channel);

        // The slow client subscribes, then sends requests without ever reading an answer: answers and
        // notifications pile up in its bounded queue until the server cuts it off.
        var before = connections.All.ToHashSet();
        using var slow = new ClientWebSocket();
        await slow.ConnectAsync(new Uri($"ws://{venue.Server.Address.Host}:{venue.Server.Address.Port}/ws/api/v2"), CancellationToken.None);
        await Send(slow, JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, method = "public/subscribe", @params = new { channels = new[] { channel } } }));
        DeribitConnection? server = null;
        Assert.True(await RunningServer.EventuallyAsync(() =>
        {
            server = connections.All.FirstOrDefault(c => !before.Contains(c));
            return Task.FromResult(server is not null);
        }, TimeSpan.FromSeconds(10)));

        byte[] request = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":2,"method":"public/test"}""");
        using var flood = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            for (int i = 0; i < 1_000_000 && !server!.IsClosed; i++)
            {
                await slow.SendAsync(request, WebSocketMessageType.Text, true, flood.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The server dropped the connection while we were still sending.
        }

        Assert.True(await RunningServer.EventuallyAsync(() => Task.FromResult(server!.IsClosed), TimeSpan.FromSeconds(30)));
        Assert.Contains("slow consumer", server!.CloseReason);

        // From the client's side the connection ends too: what was buffered drains, then the socket closes.
        Assert.True(await DrainsToTheEndAsync(slow).WaitAsync(TimeSpan.FromSeconds(30)));

        // The engine kept applying commands, and the other subscriber still gets the book.
        int maker = await venue.FundedAccountAsync();
        var placed = await venue.LimitAsync(maker, instrument, Side.Buy, 90_000m, 0.01m).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(placed.IsAccepted);
        var change = await good.NextOnAsync(channel, d => d.GetProperty("type").GetString() == "change");
        Assert.Equal("""[["new",90000,0.01]]""", change.GetProperty("bids").GetRawText());
        Assert.DoesNotContain(server, connections.All);
    }

    /// <summary>Reads until the server closes the connection (a close frame or a dropped socket).</summary>
    private static async Task<bool> DrainsToTheEndAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1 << 16];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return true;
                }
            }
        }
        catch (WebSocketException)
        {
            return true;
        }
    }

    private static Task Send(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The <paramref name="index"/>-th dated future of an underlying, by expiry (genesis lists them).</summary>
    private async Task<string> FutureAsync(string underlying, int index) =>
        await venue.Sequencer.QueryAsync(e => e.Instruments
            .Where(i => i.Kind == Core.Instruments.InstrumentKind.Future && i.Underlying.Name == underlying && i.State == Core.Instruments.InstrumentState.Active)
            .OrderBy(i => i.Spec.Terms.ExpiryMicros)
            .ElementAt(index).Name);

    private static IEnumerable<(decimal, decimal)> Rows(JsonElement rows) =>
        rows.EnumerateArray().Select(r => (r[0].GetDecimal(), r[1].GetDecimal()));

    /// <summary>What a client keeps: ccxt applies new/change as "set the amount", delete as "remove".</summary>
    private sealed class LocalBook
    {
        public Dictionary<decimal, decimal> Bids { get; } = [];

        public Dictionary<decimal, decimal> Asks { get; } = [];

        public void Apply(JsonElement data)
        {
            Apply(Bids, data.GetProperty("bids"));
            Apply(Asks, data.GetProperty("asks"));
        }

        private static void Apply(Dictionary<decimal, decimal> side, JsonElement entries)
        {
            foreach (var entry in entries.EnumerateArray())
            {
                decimal price = entry[1].GetDecimal();
                if (entry[0].GetString() == "delete")
                {
                    side.Remove(price);
                }
                else
                {
                    side[price] = entry[2].GetDecimal();
                }
            }
        }
    }
}
