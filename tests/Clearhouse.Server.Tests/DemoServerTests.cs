using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>The server as <c>dotnet run</c> starts it: genesis plus the demo market.</summary>
public sealed class DemoServerTests(DemoServer fixture) : IClassFixture<DemoServer>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>The expiries the demo's listing schedule keeps listed now (two dailies, two quarterlies; docs/settlement.md).</summary>
    private static int ScheduledExpiries => Genesis.GenesisPlan.Schedule(Genesis.GenesisPlan.Default[0]).Expiries(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000).Count;

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task The_BTC_and_ETH_perpetuals_and_the_scheduled_futures_are_listed()
    {
        // Genesis lists the perpetual and the next two quarterlies; the listing schedule adds two dailies.
        var instruments = await Server.GetOkAsync("/api/instruments");
        var names = instruments.EnumerateArray().Where(i => i.GetProperty("kind").GetString() != "option").Select(i => i.GetProperty("name").GetString()).ToList();
        int expiries = ScheduledExpiries;
        Assert.Equal(2 * (1 + expiries), names.Count);
        Assert.Contains("BTC_USDC-PERPETUAL", names);
        Assert.Contains("ETH_USDC-PERPETUAL", names);
        Assert.Equal(expiries, names.Count(n => n!.StartsWith("BTC_USDC-", StringComparison.Ordinal) && n != "BTC_USDC-PERPETUAL"));
        Assert.Equal(expiries, names.Count(n => n!.StartsWith("ETH_USDC-", StringComparison.Ordinal) && n != "ETH_USDC-PERPETUAL"));

        var btc = instruments.EnumerateArray().Single(i => i.GetProperty("name").GetString() == "BTC_USDC-PERPETUAL");
        Assert.Equal("0.5", btc.GetProperty("tickSize").GetString());
        Assert.Equal("0.001", btc.GetProperty("minAmount").GetString());
        Assert.Equal("perpetual", btc.GetProperty("kind").GetString());
        Assert.NotNull(btc.GetProperty("markPrice").GetString());

        var eth = instruments.EnumerateArray().Single(i => i.GetProperty("name").GetString() == "ETH_USDC-PERPETUAL");
        Assert.Equal("0.05", eth.GetProperty("tickSize").GetString());
        Assert.Equal("0.01", eth.GetProperty("minAmount").GetString());

        var quarterlies = 0;
        foreach (var future in instruments.EnumerateArray().Where(i => i.GetProperty("kind").GetString() == "future"))
        {
            var expiry = DateOnly.ParseExact(future.GetProperty("expiry").GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (expiry.DayOfWeek == DayOfWeek.Friday && expiry.Month % 3 == 0 && expiry.AddDays(7).Month != expiry.Month)
            {
                quarterlies++;
            }
        }

        Assert.True(quarterlies >= 4, "the next two quarterlies (last Fridays of March, June, September, December) of BTC and ETH");
    }

    [Fact]
    public async Task Every_demo_book_has_levels_on_both_sides_soon_after_startup()
    {
        // Perpetuals and futures have five levels a side, options two (once the first surface gives them marks).
        // An option worth three ticks or less (a far daily, say) gets no bids: only its asks are required.
        var names = (await Server.GetOkAsync("/api/instruments")).EnumerateArray().Select(i => i.GetProperty("name").GetString()!).ToList();
        async Task<bool> AsksOnlyAsync(string name)
        {
            var instrument = (await Server.GetOkAsync("/api/instruments")).EnumerateArray().Single(i => i.GetProperty("name").GetString() == name);
            return instrument.GetProperty("kind").GetString() == "option"
                && Dec(instrument.GetProperty("markPrice")) <= 3 * Dec(instrument.GetProperty("tickSize"));
        }

        Assert.True(names.Count >= 2 * (1 + ScheduledExpiries + 10), $"{names.Count} instruments");
        foreach (string name in names)
        {
            // The book that passed is the one checked below: a second read could catch the maker
            // between cancelling and re-placing a level (or a taker having just taken it).
            System.Text.Json.JsonElement levels = default;
            bool asksOnly = false;
            bool quoted = await RunningServer.EventuallyAsync(
                async () =>
                {
                    levels = await Server.GetOkAsync($"/api/book/{name}?depth=2");
                    if (levels.GetProperty("asks").GetArrayLength() != 2)
                    {
                        return false;
                    }

                    asksOnly = levels.GetProperty("bids").GetArrayLength() != 2 && await AsksOnlyAsync(name);
                    return levels.GetProperty("bids").GetArrayLength() == 2 || asksOnly;
                },
                Patience);
            Assert.True(quoted, $"{name} had no two levels on each side within {Patience}");
            if (asksOnly)
            {
                continue;
            }

            decimal bestBid = Dec(levels.GetProperty("bids")[0][0]);
            decimal bestAsk = Dec(levels.GetProperty("asks")[0][0]);
            Assert.True(bestBid < bestAsk, $"{name}: bid {bestBid} ≥ ask {bestAsk}");
            Assert.True(Dec(levels.GetProperty("bids")[1][0]) < bestBid, "bids are best (highest) first");
            Assert.True(Dec(levels.GetProperty("asks")[1][0]) > bestAsk, "asks are best (lowest) first");
        }
    }

    [Fact]
    public async Task Listed_options_get_marks_from_the_signed_volatility_surface_of_the_demo_reporters()
    {
        Assert.True(await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync("/api/instruments")).EnumerateArray()
                .Where(i => i.GetProperty("kind").GetString() == "option")
                .All(i => decimal.Parse(i.GetProperty("markPrice").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 0),
            Patience), "every listed option should have a positive mark");

        var options = (await Server.GetOkAsync("/api/instruments")).EnumerateArray().Where(i => i.GetProperty("kind").GetString() == "option").ToList();
        // Genesis: 5 strikes × call/put on the first quarterly; the schedule: 3 strikes × call/put on every expiry (the first quarterly's are among genesis's).
        Assert.True(options.Count >= 2 * (10 + (6 * (ScheduledExpiries - 1))), $"{options.Count} options");
        decimal Mark(string name) => decimal.Parse(options.Single(i => i.GetProperty("name").GetString() == name).GetProperty("markPrice").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        string expiry = options[0].GetProperty("name").GetString()!.Split('-')[1];
        // A lower strike call is worth more; a lower strike put less.
        Assert.True(Mark($"BTC_USDC-{expiry}-85000-C") > Mark($"BTC_USDC-{expiry}-105000-C"));
        Assert.True(Mark($"BTC_USDC-{expiry}-85000-P") < Mark($"BTC_USDC-{expiry}-105000-P"));
    }

    [Fact]
    public async Task The_demo_index_comes_from_five_signed_reporters_and_funding_history_is_served()
    {
        Assert.True(await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync("/api/oracles")).EnumerateArray().All(o => o.GetProperty("status").GetString() is "healthy" or "degraded"),
            Patience), "the demo oracles never reached a quorum");
        var btc = (await Server.GetOkAsync("/api/oracles")).EnumerateArray().Single(o => o.GetProperty("underlying").GetString() == "BTC");
        Assert.Equal(5, btc.GetProperty("reporters").GetArrayLength());
        Assert.Equal(3, btc.GetProperty("parameters").GetProperty("quorum").GetInt32());
        Assert.True(decimal.Parse(btc.GetProperty("indexPrice").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 0);

        var funding = await Server.GetOkAsync("/api/funding/BTC_USDC-PERPETUAL");
        Assert.Equal("BTC_USDC-PERPETUAL", funding.GetProperty("instrument").GetString());
        Assert.Equal(JsonValueKind.Array, funding.GetProperty("history").ValueKind);
        using var unknown = await Server.Http.GetAsync("/api/funding/NOPE_USDC-PERPETUAL");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Placing_a_crossing_order_through_the_API_trades_against_the_demo_book()
    {
        const string instrument = "BTC_USDC-PERPETUAL";
        int accountId = await Server.OpenFundedAccountAsync("100000");

        // A market buy fills against the best asks, within the protection band around the mark. The
        // demo's taker and gamblers take from the same asks, which the makers refill on their next
        // requote: an order just after a sweep can find less than it asks for (the rest is
        // cancelled) or nothing. Try again until one fills in full; every fill goes into the position.
        JsonElement order = default;
        string? lastAnswer = null;
        decimal bought = 0;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            Assert.True(await RunningServer.EventuallyAsync(async () => (await Server.GetOkAsync($"/api/book/{instrument}?depth=1")).GetProperty("asks").GetArrayLength() > 0, Patience));
            var (status, body) = await Server.PostAsync("/api/orders", new { accountId, instrument, side = "buy", type = "market", amount = "0.01" });
            lastAnswer = $"{status}: {body}";
            if (status == 200)
            {
                order = body;
                bought += Dec(body.GetProperty("filledAmount"));
                if (body.GetProperty("state").GetString() == "filled")
                {
                    break;
                }
            }

            await Task.Delay(250);
        }

        Assert.True(order.ValueKind == JsonValueKind.Object && order.GetProperty("state").GetString() == "filled", $"no market buy filled in 10 tries; the last answer: {lastAnswer}");
        Assert.Equal("0.01", order.GetProperty("filledAmount").GetString());
        var trades = order.GetProperty("trades");
        Assert.True(trades.GetArrayLength() > 0);
        Assert.Equal(0.01m, trades.EnumerateArray().Sum(t => Dec(t.GetProperty("amount"))));

        var account = await Server.GetOkAsync($"/api/accounts/{accountId}");
        var position = Assert.Single(account.GetProperty("positions").EnumerateArray());
        Assert.Equal(instrument, position.GetProperty("instrument").GetString());
        Assert.Equal(bought, Dec(position.GetProperty("size")));
        Assert.True(Dec(account.GetProperty("initialMargin")) > 0);
        Assert.True(Dec(account.GetProperty("cash")) < 100000m, "a long position is paid for in cash");
    }

    [Fact]
    public async Task The_index_moves_and_the_demo_taker_makes_trades_happen()
    {
        var first = await Server.GetOkAsync("/api/instruments");
        string? firstIndex = first[0].GetProperty("indexPrice").GetString();
        bool moved = await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync("/api/instruments"))[0].GetProperty("indexPrice").GetString() != firstIndex,
            Patience);
        Assert.True(moved, "the demo index did not move");

        bool traded = await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync("/api/instruments")).EnumerateArray().Sum(i => i.GetProperty("tradeCount").GetInt64()) > 0,
            Patience);
        Assert.True(traded, "the demo taker made no trade");

        bool optionsTraded = await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync("/api/instruments")).EnumerateArray()
                .Where(i => i.GetProperty("kind").GetString() == "option")
                .Count(i => i.GetProperty("tradeCount").GetInt64() > 0) >= 2,
            Patience);
        Assert.True(optionsTraded, "the demo taker traded no options");
    }

    [Fact]
    public async Task The_demo_accounts_use_portfolio_standard_and_isolated_margin()
    {
        var roles = await DemoAccountsAsync();
        Assert.Equal("portfolio", (await Server.GetOkAsync($"/api/accounts/{roles["maker-BTC"]}/margin")).GetProperty("mode").GetString());
        Assert.Equal("standard", (await Server.GetOkAsync($"/api/accounts/{roles["maker-ETH"]}/margin")).GetProperty("mode").GetString());
        Assert.Equal("standard", (await Server.GetOkAsync($"/api/accounts/{roles["taker"]}/margin")).GetProperty("mode").GetString());

        // The BTC maker's quotes in BTC perpetual, futures and options are margined together by scenario.
        Assert.True(await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync($"/api/accounts/{roles["maker-BTC"]}/margin")).GetProperty("portfolio").EnumerateArray()
                .Any(u => u.GetProperty("underlying").GetString() == "BTC" && u.GetProperty("bindingScenario").ValueKind == JsonValueKind.Object),
            Patience), "the BTC maker has no binding scenario");

        // The isolated trader's BTC perpetual position has collateral of its own.
        Assert.True(await RunningServer.EventuallyAsync(
            async () => (await Server.GetOkAsync($"/api/accounts/{roles["isolated-trader"]}/margin")).GetProperty("isolated").EnumerateArray()
                .Any(p => p.GetProperty("instrument").GetString() == "BTC_USDC-PERPETUAL" && Dec(p.GetProperty("margin").GetProperty("initialMargin")) > 0),
            Patience), "the isolated trader never held an isolated position");
        var position = (await Server.GetOkAsync($"/api/accounts/{roles["isolated-trader"]}")).GetProperty("positions").EnumerateArray().Single(p => p.GetProperty("instrument").GetString() == "BTC_USDC-PERPETUAL");
        Assert.True(position.GetProperty("isolated").GetBoolean());
    }

    [Fact]
    public async Task An_option_market_order_through_the_API_fills_against_the_demo_maker()
    {
        string call = await AtTheMoneyBtcOptionAsync("C");
        Assert.True(await RunningServer.EventuallyAsync(async () => (await Server.GetOkAsync($"/api/book/{call}?depth=1")).GetProperty("asks").GetArrayLength() > 0, Patience), $"{call} has no asks");
        int accountId = await Server.OpenFundedAccountAsync("100000");

        var order = await Server.PlaceOkAsync(new { accountId, instrument = call, side = "buy", type = "market", amount = "0.02" });

        Assert.Equal("filled", order.GetProperty("state").GetString());
        Assert.Equal(call, order.GetProperty("instrument").GetString());
        var trades = order.GetProperty("trades").EnumerateArray().ToList();
        Assert.NotEmpty(trades);
        Assert.Equal(0.02m, trades.Sum(t => Dec(t.GetProperty("amount"))));
        int maker = (await DemoAccountsAsync())["maker-BTC"];
        Assert.All(trades, t => Assert.Equal(maker, t.GetProperty("makerAccountId").GetInt32()));
        Assert.All(trades, t => Assert.Equal(0m, Dec(t.GetProperty("price")) % 5m)); // on the option tick

        // A long option is paid in full: standard margin asks its value, nothing for maintenance.
        var report = await Server.GetOkAsync($"/api/accounts/{accountId}/margin");
        var position = Assert.Single(report.GetProperty("positions").EnumerateArray());
        Assert.Equal((call, "0.02"), (position.GetProperty("instrument").GetString(), position.GetProperty("size").GetString()));
        Assert.Equal(position.GetProperty("value").GetString(), position.GetProperty("initialMargin").GetString());
        Assert.Equal("0", position.GetProperty("maintenanceMargin").GetString());
    }

    [Fact]
    public async Task A_portfolio_account_short_a_call_is_bound_by_an_up_move_scenario()
    {
        string call = await AtTheMoneyBtcOptionAsync("C");
        Assert.True(await RunningServer.EventuallyAsync(async () => (await Server.GetOkAsync($"/api/book/{call}?depth=1")).GetProperty("bids").GetArrayLength() > 0, Patience), $"{call} has no bids");
        int accountId = await Server.OpenFundedAccountAsync("100000");
        var (modeStatus, mode) = await Server.PostAsync($"/api/accounts/{accountId}/margin-mode", new { mode = "portfolio" });
        Assert.True(modeStatus == 200, mode.ToString());

        var order = await Server.PlaceOkAsync(new { accountId, instrument = call, side = "sell", type = "market", amount = "0.05" });
        Assert.Equal("filled", order.GetProperty("state").GetString());

        var report = await Server.GetOkAsync($"/api/accounts/{accountId}/margin");
        Assert.Equal("portfolio", report.GetProperty("mode").GetString());
        var btc = Assert.Single(report.GetProperty("portfolio").EnumerateArray());
        Assert.Equal("BTC", btc.GetProperty("underlying").GetString());
        var binding = btc.GetProperty("bindingScenario");
        Assert.True(Dec(binding.GetProperty("move")) > 0, $"a short call loses when BTC rises, not in {binding}");
        Assert.True(binding.GetProperty("weight").GetDouble() is > 0 and <= 1);
        Assert.False(string.IsNullOrWhiteSpace(binding.GetProperty("description").GetString()));
        Assert.True(Dec(btc.GetProperty("worstLoss")) > 0);
        Assert.True(Dec(btc.GetProperty("shortOptionAddOn")) > 0, "a net short option pays the 1%-of-index add-on");
        Assert.Equal(Dec(btc.GetProperty("worstLoss")) + Dec(btc.GetProperty("shortOptionAddOn")) + Dec(btc.GetProperty("concentrationAddOn")), Dec(btc.GetProperty("initialMargin")));

        var scenarios = await Server.GetOkAsync("/api/margin/scenarios");
        Assert.Equal(binding.GetRawText(), scenarios[binding.GetProperty("index").GetInt32()].GetRawText());
        var position = Assert.Single(report.GetProperty("positions").EnumerateArray());
        Assert.Equal("-0.05", position.GetProperty("size").GetString());
        Assert.InRange(Dec(position.GetProperty("initialMargin")) - Dec(btc.GetProperty("worstLoss")), -0.000001m, 0.000001m); // its loss in the binding scenario
    }

    [Fact]
    public async Task The_index_jumps_liquidate_a_demo_gambler_and_the_proof_verifies()
    {
        var roles = await DemoAccountsAsync();
        int[] gamblers = [roles["gambler-long"], roles["gambler-short"]];
        JsonElement step = default;
        Assert.True(
            await RunningServer.EventuallyAsync(
                async () =>
                {
                    var steps = (await Server.GetOkAsync("/api/liquidations?limit=1")).GetProperty("steps");
                    step = steps.GetArrayLength() > 0 ? steps[0] : default;
                    return step.ValueKind == JsonValueKind.Object;
                },
                TimeSpan.FromSeconds(40)),
            "no liquidation within 40 s of demo (a jump of the index every 4 s at 100 ms steps)");

        string json = await Server.Http.GetStringAsync(step.GetProperty("proof").GetString());
        var verdict = Core.Liquidation.LiquidationVerifier.Verify(Core.Liquidation.LiquidationProofDocument.FromJson(json).ToProof());
        Assert.True(verdict.Valid, verdict.Reason);
        var gamblerSteps = (await Server.GetOkAsync("/api/liquidations?limit=1000")).GetProperty("steps").EnumerateArray().Where(s => gamblers.Contains(s.GetProperty("accountId").GetInt32())).ToList();
        Assert.NotEmpty(gamblerSteps);
        Assert.All(gamblerSteps, s => Assert.Equal("BTC_USDC-PERPETUAL", s.GetProperty("instrument").GetString()));

        // The demo funded the insurance fund at genesis; the ADL rank of a gambler answers.
        Assert.True(Dec((await Server.GetOkAsync("/api/insurance")).GetProperty("equity")) > 500_000m);
        var rank = await Server.GetOkAsync($"/api/accounts/{gamblers[0]}/adl?instrument=BTC_USDC-PERPETUAL");
        Assert.Equal(gamblers[0], rank.GetProperty("accountId").GetInt32());
        Assert.True(rank.GetProperty("rank").GetInt32() <= rank.GetProperty("of").GetInt32());
    }

    [Fact]
    public async Task The_home_page_and_health_answer()
    {
        using var home = await Server.Http.GetAsync("/");
        Assert.Equal(200, (int)home.StatusCode);
        Assert.Contains("/api/instruments", await home.Content.ReadAsStringAsync());

        var health = await Server.GetOkAsync("/health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    /// <summary>The demo's accounts by role, as the demo records them in its data directory once it has opened them all.</summary>
    private async Task<Dictionary<string, int>> DemoAccountsAsync()
    {
        string path = Path.Combine(Server.Services.GetRequiredService<ServerOptions>().DataDirectory, Demo.DemoAccounts.FileName);
        Dictionary<string, int>? roles = null;
        bool recorded = await RunningServer.EventuallyAsync(
            () =>
            {
                try
                {
                    roles = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path)) : null;
                }
                catch (Exception ex) when (ex is IOException or JsonException)
                {
                    roles = null;
                }

                return Task.FromResult(roles is { Count: 7 }); // six trading roles and the API demo trader (api-demo)
            },
            Patience);
        Assert.True(recorded, $"the demo did not record its seven accounts in {path}");
        return roles!;
    }

    private async Task<string> AtTheMoneyBtcOptionAsync(string right)
    {
        var instruments = await Server.GetOkAsync("/api/instruments");
        string expiry = instruments.EnumerateArray().First(i => i.GetProperty("kind").GetString() == "option").GetProperty("name").GetString()!.Split('-')[1];
        return $"BTC_USDC-{expiry}-95000-{right}";
    }

    private static decimal Dec(JsonElement e) => decimal.Parse(e.GetString()!, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
