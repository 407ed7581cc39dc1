using System.Text.Json;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Deribit.MarketData;

namespace Clearhouse.Server.Tests.Deribit.MarketData;

/// <summary>
/// The public market data methods over HTTP GET, as ccxt calls them, against a quiet venue whose
/// books and trades the tests make themselves (each test on its own instrument). Formats follow
/// Deribit's documentation (https://docs.deribit.com/#market-data) and what ccxt 4.5.84's
/// deribit.js reads (fetchMarkets, parseTicker, parseOrderBook, parseTrade).
/// </summary>
public sealed class PublicMarketDataTests(MarketDataVenue venue) : IClassFixture<MarketDataVenue>
{
    [Fact]
    public async Task Get_instruments_without_currency_lists_every_live_instrument_as_a_linear_USDC_contract()
    {
        var instruments = await venue.ResultAsync("public/get_instruments");
        var live = await venue.Sequencer.QueryAsync(e => e.Instruments.Where(i => i.State != Core.Instruments.InstrumentState.Settled).Select(i => i.Name).ToArray());
        Assert.Equal(live.Order(), instruments.EnumerateArray().Select(i => i.GetProperty("instrument_name").GetString()!).Order());

        foreach (var instrument in instruments.EnumerateArray())
        {
            // ccxt: quote = counter_currency, settle = settlement_currency; linear when they are equal.
            Assert.Equal("USDC", instrument.GetProperty("counter_currency").GetString());
            Assert.Equal("USDC", instrument.GetProperty("quote_currency").GetString());
            Assert.Equal("USDC", instrument.GetProperty("settlement_currency").GetString());
            Assert.Equal("linear", instrument.GetProperty("instrument_type").GetString());
            Assert.Equal(1m, instrument.GetProperty("contract_size").GetDecimal());
            Assert.True(instrument.GetProperty("is_active").GetBoolean());
        }

        var perpetual = Single(instruments, "BTC_USDC-PERPETUAL");
        Assert.Equal("future", perpetual.GetProperty("kind").GetString());
        Assert.Equal("perpetual", perpetual.GetProperty("settlement_period").GetString()); // ccxt: a swap
        Assert.Equal(32_503_708_800_000, perpetual.GetProperty("expiration_timestamp").GetInt64());
        Assert.Equal("BTC", perpetual.GetProperty("base_currency").GetString());
        Assert.Equal(0.5m, perpetual.GetProperty("tick_size").GetDecimal());
        Assert.Equal(0.001m, perpetual.GetProperty("min_trade_amount").GetDecimal());
        Assert.Equal(0m, perpetual.GetProperty("maker_commission").GetDecimal());
        Assert.Equal(0.0005m, perpetual.GetProperty("taker_commission").GetDecimal());
        Assert.Equal(50, perpetual.GetProperty("max_leverage").GetInt32());
        Assert.Equal("btc_usdc", perpetual.GetProperty("price_index").GetString());
        Assert.False(perpetual.TryGetProperty("strike", out _));

        var option = instruments.EnumerateArray().First(i => i.GetProperty("instrument_name").GetString()!.StartsWith("ETH_USDC-", StringComparison.Ordinal) && i.GetProperty("kind").GetString() == "option");
        string name = option.GetProperty("instrument_name").GetString()!;
        Assert.Equal(name.EndsWith("-C", StringComparison.Ordinal) ? "call" : "put", option.GetProperty("option_type").GetString());
        Assert.Equal(decimal.Parse(name.Split('-')[2].Replace('d', '.'), System.Globalization.CultureInfo.InvariantCulture), option.GetProperty("strike").GetDecimal());
        Assert.Contains(option.GetProperty("settlement_period").GetString(), new[] { "day", "week", "month" });
        long expiry = option.GetProperty("expiration_timestamp").GetInt64();
        Assert.Equal(8, DateTimeOffset.FromUnixTimeMilliseconds(expiry).UtcDateTime.Hour); // Deribit expiries are at 08:00 UTC
        Assert.True(option.GetProperty("creation_timestamp").GetInt64() > 0);
    }

    [Fact]
    public async Task Get_instruments_filters_by_underlying_and_kind_and_refuses_an_unknown_currency()
    {
        var btc = await venue.ResultAsync("public/get_instruments", "currency=BTC");
        Assert.NotEmpty(btc.EnumerateArray());
        Assert.All(btc.EnumerateArray(), i => Assert.Equal("BTC", i.GetProperty("base_currency").GetString()));

        var all = await venue.ResultAsync("public/get_instruments");
        var usdc = await venue.ResultAsync("public/get_instruments", "currency=USDC");
        Assert.Equal(all.GetArrayLength(), usdc.GetArrayLength());

        // In any case, as the private methods take it.
        Assert.Equal(btc.GetArrayLength(), (await venue.ResultAsync("public/get_instruments", "currency=btc")).GetArrayLength());
        Assert.Equal(all.GetArrayLength(), (await venue.ResultAsync("public/get_instruments", "currency=usdc")).GetArrayLength());
        Assert.Equal(all.GetArrayLength(), (await venue.ResultAsync("public/get_instruments", "currency=ANY")).GetArrayLength());

        var options = await venue.ResultAsync("public/get_instruments", "currency=ETH&kind=option");
        Assert.NotEmpty(options.EnumerateArray());
        Assert.All(options.EnumerateArray(), i => Assert.Equal("option", i.GetProperty("kind").GetString()));

        Assert.Empty((await venue.ResultAsync("public/get_instruments", "currency=BTC&expired=true")).EnumerateArray());
        Assert.Empty((await venue.ResultAsync("public/get_instruments", "kind=future_combo")).EnumerateArray());

        var (status, error) = await venue.CallAsync("public/get_instruments", "currency=DOGE");
        Assert.Equal(400, status);
        Assert.Equal(-32602, error.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Get_currencies_lists_each_underlying_and_USDC()
    {
        var currencies = await venue.ResultAsync("public/get_currencies");
        var codes = currencies.EnumerateArray().Select(c => c.GetProperty("currency").GetString()!).ToArray();
        Assert.Equal(new[] { "BTC", "ETH", "USDC" }, codes);
        var btc = currencies[0];
        Assert.Equal("Bitcoin", btc.GetProperty("currency_long").GetString());
        Assert.Equal(0m, btc.GetProperty("withdrawal_fee").GetDecimal());
        Assert.Equal(JsonValueKind.Array, btc.GetProperty("withdrawal_priorities").ValueKind);
    }

    [Fact]
    public async Task Get_order_book_answers_the_engines_levels_best_first_with_the_books_change_id()
    {
        const string instrument = "ETH_USDC-PERPETUAL";
        int maker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, instrument, Side.Buy, 3400m, 1.5m);
        await venue.LimitAsync(maker, instrument, Side.Buy, 3400m, 0.5m);
        await venue.LimitAsync(maker, instrument, Side.Buy, 3390.05m, 2m);
        await venue.LimitAsync(maker, instrument, Side.Sell, 3600m, 0.25m);

        var book = await venue.ResultAsync("public/get_order_book", $"instrument_name={instrument}&depth=5");
        Assert.Equal(instrument, book.GetProperty("instrument_name").GetString());
        Assert.Equal([[3400m, 2m], [3390.05m, 2m]], Rows(book.GetProperty("bids")));
        Assert.Equal([[3600m, 0.25m]], Rows(book.GetProperty("asks")));
        Assert.Equal(3400m, book.GetProperty("best_bid_price").GetDecimal());
        Assert.Equal(2m, book.GetProperty("best_bid_amount").GetDecimal());
        Assert.Equal(3600m, book.GetProperty("best_ask_price").GetDecimal());
        Assert.Equal("open", book.GetProperty("state").GetString());
        Assert.Equal(3500m, book.GetProperty("index_price").GetDecimal());
        Assert.True(book.GetProperty("mark_price").GetDecimal() > 0);
        Assert.True(book.TryGetProperty("funding_8h", out _));
        Assert.True(book.TryGetProperty("current_funding", out _));

        // The change id is the tape's counter of book events: four orders entered this book.
        var tape = venue.Server.Services.GetService(typeof(PublicTradeTape)) as PublicTradeTape;
        long changeId = await venue.Sequencer.QueryAsync(_ => tape!.ChangeId(venue.InstrumentId(instrument)));
        Assert.Equal(changeId, book.GetProperty("change_id").GetInt64());
        Assert.Equal(4, changeId);

        var top = await venue.ResultAsync("public/get_order_book", $"instrument_name={instrument}&depth=1");
        Assert.Single(top.GetProperty("bids").EnumerateArray());
    }

    [Fact]
    public async Task Get_order_book_and_ticker_refuse_an_unknown_instrument_and_a_bad_depth()
    {
        var (status, body) = await venue.CallAsync("public/get_order_book", "instrument_name=BTC-PERPETUAL");
        Assert.Equal(400, status);
        Assert.Equal(10020, body.GetProperty("error").GetProperty("code").GetInt32());

        (status, body) = await venue.CallAsync("public/ticker", "instrument_name=NOPE");
        Assert.Equal(10020, body.GetProperty("error").GetProperty("code").GetInt32());

        (status, body) = await venue.CallAsync("public/get_order_book", "instrument_name=BTC_USDC-PERPETUAL&depth=0");
        Assert.Equal(-32602, body.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("depth", body.GetProperty("error").GetProperty("data").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Funding_rate_value_sums_a_perpetuals_funding_and_refuses_an_instrument_that_pays_none()
    {
        // Nothing has paid funding at the epoch's first millisecond.
        var none = await venue.ResultAsync("public/get_funding_rate_value", "instrument_name=BTC_USDC-PERPETUAL&start_timestamp=0&end_timestamp=1");
        Assert.Equal(0m, none.GetDecimal());

        string future = (await venue.ResultAsync("public/get_instruments", "currency=BTC&kind=future")).EnumerateArray()
            .Select(i => i.GetProperty("instrument_name").GetString()!)
            .First(name => !name.EndsWith("PERPETUAL", StringComparison.Ordinal));
        var (status, body) = await venue.CallAsync("public/get_funding_rate_value", $"instrument_name={future}&start_timestamp=0&end_timestamp=4102444800000");
        Assert.Equal(400, status);
        Assert.Equal(-32602, body.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("not a perpetual", body.GetProperty("error").GetProperty("data").GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ticker_and_last_trades_report_a_trade_with_the_takers_direction_and_24h_stats()
    {
        const string instrument = "BTC_USDC-PERPETUAL";
        int maker = await venue.FundedAccountAsync();
        int taker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, instrument, Side.Sell, 95_010m, 0.3m);
        await venue.LimitAsync(maker, instrument, Side.Buy, 94_990m, 0.1m);
        await venue.LimitAsync(taker, instrument, Side.Buy, 95_010m, 0.2m);   // buys 0.2 at 95,010
        await venue.LimitAsync(taker, instrument, Side.Sell, 94_990m, 0.05m); // sells 0.05 at 94,990

        var ticker = await venue.ResultAsync("public/ticker", $"instrument_name={instrument}");
        Assert.Equal(94_990m, ticker.GetProperty("last_price").GetDecimal());
        Assert.Equal(94_990m, ticker.GetProperty("best_bid_price").GetDecimal());
        Assert.Equal(0.05m, ticker.GetProperty("best_bid_amount").GetDecimal());
        Assert.Equal(95_010m, ticker.GetProperty("best_ask_price").GetDecimal());
        Assert.Equal(0.1m, ticker.GetProperty("best_ask_amount").GetDecimal());
        Assert.Equal(0.15m, ticker.GetProperty("open_interest").GetDecimal());
        Assert.Equal(95_000m, ticker.GetProperty("index_price").GetDecimal());
        var stats = ticker.GetProperty("stats");
        Assert.Equal(95_010m, stats.GetProperty("high").GetDecimal());
        Assert.Equal(94_990m, stats.GetProperty("low").GetDecimal());
        Assert.Equal(0.25m, stats.GetProperty("volume").GetDecimal());
        Assert.Equal(95_010m * 0.2m + 94_990m * 0.05m, stats.GetProperty("volume_usd").GetDecimal());
        Assert.Equal(Math.Round((94_990m - 95_010m) / 95_010m * 100m, 4, MidpointRounding.ToZero), stats.GetProperty("price_change").GetDecimal());
        var minPrice = ticker.GetProperty("min_price").GetDecimal();
        var maxPrice = ticker.GetProperty("max_price").GetDecimal();
        var mark = ticker.GetProperty("mark_price").GetDecimal();
        Assert.True(minPrice < mark && mark < maxPrice);
        Assert.Equal(0m, ticker.GetProperty("current_funding").GetDecimal() * 0m); // present and a number
        Assert.False(ticker.TryGetProperty("greeks", out _));

        var page = await venue.ResultAsync("public/get_last_trades_by_instrument", $"instrument_name={instrument}");
        var trades = page.GetProperty("trades").EnumerateArray().ToArray();
        Assert.False(page.GetProperty("has_more").GetBoolean());
        Assert.Equal(2, trades.Length);
        Assert.Equal([2L, 1L], trades.Select(t => t.GetProperty("trade_seq").GetInt64())); // newest first
        Assert.Equal("sell", trades[0].GetProperty("direction").GetString());
        Assert.Equal(94_990m, trades[0].GetProperty("price").GetDecimal());
        Assert.Equal(0.05m, trades[0].GetProperty("amount").GetDecimal());
        Assert.Equal(2, trades[0].GetProperty("tick_direction").GetInt32()); // a minus tick
        Assert.Equal("buy", trades[1].GetProperty("direction").GetString());
        Assert.Equal(instrument, trades[1].GetProperty("instrument_name").GetString());
        Assert.Equal(95_000m, trades[1].GetProperty("index_price").GetDecimal());
        Assert.Equal(JsonValueKind.String, trades[1].GetProperty("trade_id").ValueKind);
        Assert.True(trades[1].GetProperty("timestamp").GetInt64() > 1_600_000_000_000);

        var oldestFirst = await venue.ResultAsync("public/get_last_trades_by_instrument", $"instrument_name={instrument}&sorting=asc&count=1");
        Assert.Equal(1, oldestFirst.GetProperty("trades")[0].GetProperty("trade_seq").GetInt64());
        Assert.True(oldestFirst.GetProperty("has_more").GetBoolean());

        var fromSecond = await venue.ResultAsync("public/get_last_trades_by_instrument", $"instrument_name={instrument}&start_seq=2");
        Assert.Single(fromSecond.GetProperty("trades").EnumerateArray());

        // By time, as ccxt's fetchTrades(symbol, since) asks: from the second trade's millisecond on.
        long secondAt = trades[0].GetProperty("timestamp").GetInt64();
        var byTime = await venue.ResultAsync("public/get_last_trades_by_instrument_and_time", $"instrument_name={instrument}&start_timestamp={secondAt}&count=5");
        Assert.Contains(2L, byTime.GetProperty("trades").EnumerateArray().Select(t => t.GetProperty("trade_seq").GetInt64()));
        Assert.All(byTime.GetProperty("trades").EnumerateArray(), t => Assert.True(t.GetProperty("timestamp").GetInt64() >= secondAt));
        var beforeAll = await venue.ResultAsync("public/get_last_trades_by_instrument_and_time", $"instrument_name={instrument}&start_timestamp=0&end_timestamp=1000");
        Assert.Empty(beforeAll.GetProperty("trades").EnumerateArray());

        var summaries = await venue.ResultAsync("public/get_book_summary_by_currency", "currency=BTC&kind=future");
        var summary = summaries.EnumerateArray().Single(s => s.GetProperty("instrument_name").GetString() == instrument);
        Assert.Equal(94_990m, summary.GetProperty("last").GetDecimal());
        Assert.Equal(0.25m, summary.GetProperty("volume").GetDecimal());
        Assert.Equal(95_000m, summary.GetProperty("mid_price").GetDecimal());
    }

    [Fact]
    public async Task Get_index_price_answers_the_underlyings_index()
    {
        var index = await venue.ResultAsync("public/get_index_price", "index_name=eth_usdc");
        Assert.Equal(3500m, index.GetProperty("index_price").GetDecimal());
        var (status, body) = await venue.CallAsync("public/get_index_price", "index_name=doge_usdc");
        Assert.Equal(400, status);
        Assert.Equal(-32602, body.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Status_says_the_platform_is_not_locked()
    {
        var status = await venue.ResultAsync("public/status");
        Assert.Equal("false", status.GetProperty("locked").GetString()); // ccxt fetchStatus: "ok"
        Assert.Equal(0, status.GetProperty("locked_indices").GetArrayLength());
    }

    [Fact]
    public async Task Subscribing_over_HTTP_is_refused_with_10030()
    {
        var (status, body) = await venue.Server.PostRawAsync("/api/v2/public/subscribe", """{"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["book.BTC_USDC-PERPETUAL.100ms"]}}""");
        Assert.Equal(400, status);
        Assert.Equal(10030, body.GetProperty("error").GetProperty("code").GetInt32());
        (status, body) = await venue.CallAsync("public/set_heartbeat", "interval=10");
        Assert.Equal(10030, body.GetProperty("error").GetProperty("code").GetInt32());
    }

    private static JsonElement Single(JsonElement list, string name) =>
        list.EnumerateArray().Single(i => i.GetProperty("instrument_name").GetString() == name);

    private static decimal[][] Rows(JsonElement rows) =>
        [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDecimal()).ToArray())];
}
