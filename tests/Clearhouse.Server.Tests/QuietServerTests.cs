using System.Globalization;
using System.Text.Json;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The server with <c>--demo false</c>: genesis lists the instruments and sets a fixed index
/// (BTC 95,000, ETH 3,500), and nothing else trades, so every book and account here is the
/// tests' own. Tests use prices far from one another so that they never meet by accident.
/// </summary>
public sealed class QuietServerTests(QuietServer fixture) : IClassFixture<QuietServer>
{
    private const string Btc = "BTC_USDC-PERPETUAL";
    private const string Eth = "ETH_USDC-PERPETUAL";

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task Without_the_demo_the_instruments_are_listed_and_no_demo_accounts_exist()
    {
        var instruments = await Server.GetOkAsync("/api/instruments");
        // 2 × (perpetual + 2 quarterly futures + 5 strikes × call/put on the first), then the listing
        // schedule: per underlying 3 strikes × call/put on the second quarterly, and a future and
        // 3 strikes × call/put on each daily.
        int expiries = Genesis.GenesisPlan.Schedule(Genesis.GenesisPlan.Default[0]).Expiries(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000).Count;
        Assert.Equal(2 * (13 + 6 + (7 * (expiries - 2))), instruments.GetArrayLength());
        var btc = instruments.EnumerateArray().Single(i => i.GetProperty("name").GetString() == Btc);
        Assert.Equal("95000", btc.GetProperty("markPrice").GetString());

        var status = await Server.GetOkAsync("/api/status");
        Assert.False(status.GetProperty("demo").GetBoolean());
    }

    [Fact]
    public async Task A_funded_account_places_a_limit_order_and_sees_it_in_the_book_and_in_its_account()
    {
        int accountId = await Server.OpenFundedAccountAsync("50000");
        var order = await Server.PlaceOkAsync(new { accountId, instrument = "BTC_USDC-25DEC26", side = "buy", type = "limit", price = "90000.5", amount = "0.25", clientOrderId = "first" });
        Assert.Equal("open", order.GetProperty("state").GetString());
        Assert.Equal("0.25", order.GetProperty("openAmount").GetString());
        long orderId = order.GetProperty("orderId").GetInt64();

        var future = (await Server.GetOkAsync("/api/instruments")).EnumerateArray().First(i => i.GetProperty("kind").GetString() == "future" && i.GetProperty("underlying").GetString() == "BTC");
        var book = await Server.GetOkAsync($"/api/book/{future.GetProperty("name").GetString()}?depth=5");
        Assert.Contains(book.GetProperty("bids").EnumerateArray(), level => level[0].GetString() == "90000.5" && level[1].GetString() == "0.25");

        var account = await Server.GetOkAsync($"/api/accounts/{accountId}");
        Assert.Equal("50000", account.GetProperty("cash").GetString());
        Assert.Empty(account.GetProperty("positions").EnumerateArray());
        var open = Assert.Single(account.GetProperty("openOrders").EnumerateArray());
        Assert.Equal(orderId, open.GetProperty("orderId").GetInt64());
        Assert.Equal("first", open.GetProperty("clientOrderId").GetString());
        Assert.Equal("buy", open.GetProperty("side").GetString());
        Assert.True(decimal.Parse(account.GetProperty("initialMargin").GetString()!, CultureInfo.InvariantCulture) > 0, "an open order needs initial margin");
    }

    [Fact]
    public async Task Crossing_the_spread_trades_and_both_accounts_see_their_positions()
    {
        int seller = await Server.OpenFundedAccountAsync();
        int buyer = await Server.OpenFundedAccountAsync();
        var ask = await Server.PlaceOkAsync(new { accountId = seller, instrument = Eth, side = "sell", price = "3600", amount = "2", postOnly = true });
        Assert.Equal("open", ask.GetProperty("state").GetString());

        var bid = await Server.PlaceOkAsync(new { accountId = buyer, instrument = Eth, side = "buy", type = "limit", timeInForce = "ioc", price = 3600.05m, amount = 1.5m });
        Assert.Equal("filled", bid.GetProperty("state").GetString());
        var trade = Assert.Single(bid.GetProperty("trades").EnumerateArray());
        Assert.Equal("3600", trade.GetProperty("price").GetString());
        Assert.Equal("1.5", trade.GetProperty("amount").GetString());
        Assert.Equal("2.7", trade.GetProperty("fee").GetString()); // 0.05% of 5,400
        Assert.Equal(ask.GetProperty("orderId").GetInt64(), trade.GetProperty("makerOrderId").GetInt64());

        var buyerAccount = await Server.GetOkAsync($"/api/accounts/{buyer}");
        var longPosition = Assert.Single(buyerAccount.GetProperty("positions").EnumerateArray());
        Assert.Equal("1.5", longPosition.GetProperty("size").GetString());
        Assert.Equal("3600", longPosition.GetProperty("averageEntryPrice").GetString());
        Assert.Equal("-150", longPosition.GetProperty("unrealizedPnl").GetString()); // mark 3,500
        Assert.Equal("994597.3", buyerAccount.GetProperty("cash").GetString()); // 1,000,000 − 5,400 − 2.7

        var sellerAccount = await Server.GetOkAsync($"/api/accounts/{seller}");
        Assert.Equal("-1.5", Assert.Single(sellerAccount.GetProperty("positions").EnumerateArray()).GetProperty("size").GetString());
        Assert.Equal("0.5", Assert.Single(sellerAccount.GetProperty("openOrders").EnumerateArray()).GetProperty("openAmount").GetString());

        var eth = (await Server.GetOkAsync("/api/instruments")).EnumerateArray().Single(i => i.GetProperty("name").GetString() == Eth);
        Assert.Equal("3600", eth.GetProperty("lastTradePrice").GetString());
    }

    [Fact]
    public async Task An_order_off_the_tick_is_rejected_with_code_400_PriceNotOnTick_and_changes_nothing()
    {
        int accountId = await Server.OpenFundedAccountAsync("20000");
        await Server.PlaceOkAsync(new { accountId, instrument = Btc, side = "buy", price = "80000", amount = "0.01" });
        string before = Normalized(await Server.GetOkAsync($"/api/accounts/{accountId}"));

        var (status, error) = await Server.PostAsync("/api/orders", new { accountId, instrument = Btc, side = "buy", price = "80000.3", amount = "0.01" });

        Assert.Equal(400, status);
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Equal("PriceNotOnTick", error.GetProperty("reason").GetString());
        Assert.Equal("The price is not a multiple of the instrument's tick size.", error.GetProperty("message").GetString());
        Assert.Equal(before, Normalized(await Server.GetOkAsync($"/api/accounts/{accountId}")));
    }

    [Theory]
    [InlineData("\"1e400\"", 906, "NumberOutOfRange")]
    [InlineData("1e400", 906, "NumberOutOfRange")]
    [InlineData("\"NaN\"", 904, "MalformedDecimal")]
    [InlineData("\"Infinity\"", 904, "MalformedDecimal")]
    [InlineData("\"-Infinity\"", 904, "MalformedDecimal")]
    [InlineData("\"0.0000000001\"", 905, "TooManyDecimals")]
    [InlineData("0.0000000001", 905, "TooManyDecimals")]
    [InlineData("\"95000.0000001\"", 905, "TooManyDecimals")]
    [InlineData("\"99999999999999999999\"", 906, "NumberOutOfRange")]
    [InlineData("\"9300000000000\"", 906, "NumberOutOfRange")]
    [InlineData("\"1,000\"", 904, "MalformedDecimal")]
    [InlineData("\" 95000\"", 904, "MalformedDecimal")]
    [InlineData("\"0x10\"", 904, "MalformedDecimal")]
    [InlineData("\"\"", 904, "MalformedDecimal")]
    [InlineData("true", 904, "MalformedDecimal")]
    public async Task A_malformed_price_is_refused_at_the_gateway_and_never_reaches_the_engine(string price, int code, string reason)
    {
        int accountId = await Server.OpenFundedAccountAsync("20000");
        long stampedBefore = (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64();

        var (status, error) = await Server.PostRawAsync("/api/orders", $$"""{"accountId":{{accountId}},"instrument":"{{Btc}}","side":"buy","price":{{price}},"amount":"0.01"}""");

        Assert.Equal(400, status);
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.Equal(reason, error.GetProperty("reason").GetString());
        Assert.Equal("price", error.GetProperty("field").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(stampedBefore, (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64());
    }

    [Theory]
    [InlineData("\"0.000000001\"", 905)]
    [InlineData("\"NaN\"", 904)]
    [InlineData("1e30", 906)]
    public async Task A_malformed_amount_or_deposit_is_refused_at_the_gateway(string amount, int code)
    {
        int accountId = await Server.OpenFundedAccountAsync("20000");
        long stampedBefore = (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64();

        var (orderStatus, orderError) = await Server.PostRawAsync("/api/orders", $$"""{"accountId":{{accountId}},"instrument":"{{Btc}}","side":"buy","price":"1000","amount":{{amount}}}""");
        var (depositStatus, depositError) = await Server.PostRawAsync($"/api/accounts/{accountId}/deposit", $$"""{"amount":{{amount}}}""");

        Assert.Equal((400, code), (orderStatus, orderError.GetProperty("code").GetInt32()));
        Assert.Equal((400, code), (depositStatus, depositError.GetProperty("code").GetInt32()));
        Assert.Equal(stampedBefore, (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64());
    }

    /// <summary>
    /// JSON lets a string escape half of a UTF-16 surrogate pair (<c>"\ud800"</c>), which is no text:
    /// in a field name, a string field or a decimal, the request is refused as malformed (it once
    /// answered 500), and nothing reaches the engine.
    /// </summary>
    [Theory]
    [InlineData("orders", "{\"accountId\":ACCOUNT,\"instrument\":\"BTC_USDC-PERPETUAL\\ud800\",\"side\":\"buy\",\"price\":\"1000\",\"amount\":\"0.01\"}", 903, "instrument")]
    [InlineData("orders", "{\"accountId\":ACCOUNT,\"instrument\":\"BTC_USDC-PERPETUAL\",\"side\":\"b\\udc00uy\",\"price\":\"1000\",\"amount\":\"0.01\"}", 903, "side")]
    [InlineData("orders", "{\"accountId\":ACCOUNT,\"\\ud800\":1,\"instrument\":\"BTC_USDC-PERPETUAL\",\"side\":\"buy\",\"price\":\"1000\",\"amount\":\"0.01\"}", 900, null)]
    [InlineData("deposit", "{\"amount\":\"1\\ud800\"}", 903, "amount")]
    public async Task A_string_escaping_half_a_surrogate_pair_is_refused_as_malformed(string endpoint, string body, int code, string? field)
    {
        int accountId = await Server.OpenFundedAccountAsync("20000");
        long stampedBefore = (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64();
        string path = endpoint == "orders" ? "/api/orders" : $"/api/accounts/{accountId}/deposit";

        var (status, error) = await Server.PostRawAsync(path, body.Replace("ACCOUNT", accountId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.Equal((400, code), (status, error.GetProperty("code").GetInt32()));
        Assert.Equal(field, error.TryGetProperty("field", out var named) ? named.GetString() : null);
        Assert.Contains("surrogate", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(stampedBefore, (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64());
    }

    [Fact]
    public async Task Requests_with_missing_unknown_or_invalid_fields_are_refused_with_the_field_named()
    {
        int accountId = await Server.OpenFundedAccountAsync("1000");

        var (s1, missing) = await Server.PostAsync("/api/orders", new { accountId, instrument = Btc, side = "buy", amount = "0.01" });
        Assert.Equal((400, 901, "price"), (s1, missing.GetProperty("code").GetInt32(), missing.GetProperty("field").GetString()));

        var (s2, unknown) = await Server.PostAsync("/api/orders", new { accountId, instrument = Btc, side = "buy", price = "1000", amount = "0.01", reduce_only = true });
        Assert.Equal((400, 902, "reduce_only"), (s2, unknown.GetProperty("code").GetInt32(), unknown.GetProperty("field").GetString()));

        var (s3, invalid) = await Server.PostAsync("/api/orders", new { accountId, instrument = Btc, side = "up", price = "1000", amount = "0.01" });
        Assert.Equal((400, 903, "side"), (s3, invalid.GetProperty("code").GetInt32(), invalid.GetProperty("field").GetString()));

        var (s4, notJson) = await Server.PostRawAsync("/api/orders", "{not json");
        Assert.Equal((400, 900), (s4, notJson.GetProperty("code").GetInt32()));
    }

    [Fact]
    public async Task Unknown_instruments_accounts_and_orders_answer_404_with_the_engine_code()
    {
        var (s1, instrument) = await Server.GetAsync("/api/book/DOGE_USDC-PERPETUAL");
        Assert.Equal((404, 300, "UnknownInstrument"), (s1, instrument.GetProperty("code").GetInt32(), instrument.GetProperty("reason").GetString()));

        var (s2, account) = await Server.GetAsync("/api/accounts/999999");
        Assert.Equal((404, 200), (s2, account.GetProperty("code").GetInt32()));

        int accountId = await Server.OpenFundedAccountAsync("1000");
        var (s3, order) = await Server.DeleteAsync($"/api/orders/987654321?accountId={accountId}");
        Assert.Equal((404, 409, "UnknownOrder"), (s3, order.GetProperty("code").GetInt32(), order.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Withdrawing_more_than_is_free_is_rejected_and_a_smaller_withdrawal_is_not()
    {
        int accountId = await Server.OpenFundedAccountAsync("1000");

        var (tooMuch, error) = await Server.PostAsync($"/api/accounts/{accountId}/withdraw", new { amount = "1000.000001" });
        Assert.Equal((400, 202, "InsufficientFreeCollateral"), (tooMuch, error.GetProperty("code").GetInt32(), error.GetProperty("reason").GetString()));

        var (ok, body) = await Server.PostAsync($"/api/accounts/{accountId}/withdraw", new { amount = 250.5m });
        Assert.Equal(200, ok);
        Assert.Equal("250.5", body.GetProperty("amount").GetString());
        Assert.Equal("749.5", (await Server.GetOkAsync($"/api/accounts/{accountId}")).GetProperty("cash").GetString());
    }

    [Fact]
    public async Task An_order_is_amended_then_cancelled_and_cancel_all_clears_an_instrument()
    {
        int accountId = await Server.OpenFundedAccountAsync("100000");
        long orderId = (await Server.PlaceOkAsync(new { accountId, instrument = Btc, side = "sell", price = "150000", amount = "0.1" })).GetProperty("orderId").GetInt64();

        var (amendStatus, amended) = await Server.PostAsync($"/api/orders/{orderId}/amend", new { accountId, price = "149999.5", amount = "0.2" });
        Assert.Equal(200, amendStatus);
        Assert.Equal(("149999.5", "0.2", "open"), (amended.GetProperty("price").GetString(), amended.GetProperty("openAmount").GetString(), amended.GetProperty("state").GetString()));

        var (cancelStatus, cancelled) = await Server.DeleteAsync($"/api/orders/{orderId}?accountId={accountId}");
        Assert.Equal(200, cancelStatus);
        Assert.Equal(orderId, Assert.Single(cancelled.GetProperty("cancelledOrderIds").EnumerateArray()).GetInt64());

        await Server.PlaceOkAsync(new { accountId, instrument = Btc, side = "sell", price = "151000", amount = "0.1" });
        await Server.PlaceOkAsync(new { accountId, instrument = Btc, side = "sell", price = "152000", amount = "0.1" });
        await Server.PlaceOkAsync(new { accountId, instrument = Eth, side = "sell", price = "9000", amount = "1" });
        var (allStatus, all) = await Server.DeleteAsync($"/api/orders?accountId={accountId}&instrument={Btc}");
        Assert.Equal(200, allStatus);
        Assert.Equal(2, all.GetProperty("cancelledOrderIds").GetArrayLength());

        var remaining = Assert.Single((await Server.GetOkAsync($"/api/accounts/{accountId}")).GetProperty("openOrders").EnumerateArray());
        Assert.Equal(Eth, remaining.GetProperty("instrument").GetString());
    }

    [Fact]
    public async Task Concurrent_orders_from_many_tasks_all_get_answers_in_one_strictly_increasing_sequence()
    {
        const int Tasks = 16;
        const int OrdersPerTask = 20;
        var accounts = await Task.WhenAll(Enumerable.Range(0, Tasks).Select(_ => Server.OpenFundedAccountAsync("100000")));

        var answers = await Task.WhenAll(accounts.Select(accountId => Task.Run(async () =>
        {
            var mine = new List<(long Sequence, long OrderId)>();
            for (int i = 0; i < OrdersPerTask; i++)
            {
                // Bids far below the mark, each task on its own prices: nothing trades.
                string price = (50000 + (accountId * 100) + i).ToString(CultureInfo.InvariantCulture);
                var order = await Server.PlaceOkAsync(new { accountId, instrument = Btc, side = "buy", price, amount = "0.001" });
                mine.Add((order.GetProperty("sequence").GetInt64(), order.GetProperty("orderId").GetInt64()));
            }

            return mine;
        })));

        // Each client sees its own answers in increasing sequence order...
        foreach (var mine in answers)
        {
            Assert.Equal(OrdersPerTask, mine.Count);
            Assert.True(mine.Zip(mine.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        }

        // ...and across all clients the sequence numbers are distinct, and the engine assigned
        // order ids in the same order the sequencer stamped them: one writer, one order.
        var all = answers.SelectMany(a => a).OrderBy(a => a.Sequence).ToList();
        Assert.Equal(Tasks * OrdersPerTask, all.Select(a => a.Sequence).Distinct().Count());
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.OrderId < p.Second.OrderId));
        Assert.True((await Server.GetOkAsync("/api/status")).GetProperty("lastSequence").GetInt64() >= all[^1].Sequence);
    }

    /// <summary>The account view without the sequence it was read at.</summary>
    private static string Normalized(JsonElement account)
    {
        var copy = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(account.GetRawText())!;
        copy.Remove("sequence");
        return JsonSerializer.Serialize(copy);
    }
}
