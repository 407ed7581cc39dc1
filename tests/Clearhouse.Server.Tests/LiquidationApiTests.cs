using System.Globalization;
using System.Text.Json;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>
/// Liquidations through the server, on servers of their own without the demo and without clock
/// ticks, so that marks equal the index and every figure is exact. Each story starts its own
/// server: moving the index would disturb any test sharing it. The index moves by the same
/// command the venue's genesis uses (<see cref="SetIndexPrice"/>, through the sequencer).
/// </summary>
public sealed class LiquidationApiTests
{
    private const string Btc = "BTC_USDC-PERPETUAL";

    [Fact]
    public async Task A_long_whose_index_falls_below_maintenance_is_closed_through_the_book_and_its_proof_verifies_offline()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0");
        int maker = await server.OpenFundedAccountAsync("10000000");
        int gambler = await server.OpenFundedAccountAsync("3000");

        // Long 1 BTC at 95,000 on 3,000: initial 1,900, taker fee 47.5, equity 2,952.5.
        await server.PlaceOkAsync(new { accountId = maker, instrument = Btc, side = "sell", price = "95000", amount = "1", postOnly = true });
        await server.PlaceOkAsync(new { accountId = gambler, instrument = Btc, side = "buy", price = "95000", amount = "1", timeInForce = "ioc" });

        // The ADL queues: each side has one position. Key = (mark / entry) × (notional / equity).
        var longRank = await server.GetOkAsync($"/api/accounts/{gambler}/adl?instrument={Btc}");
        Assert.Equal((gambler, Btc, "long", "1", 1, 1), (longRank.GetProperty("accountId").GetInt32(), longRank.GetProperty("instrument").GetString(), longRank.GetProperty("side").GetString(), longRank.GetProperty("size").GetString(), longRank.GetProperty("rank").GetInt32(), longRank.GetProperty("of").GetInt32()));
        Assert.Equal(95_000 / 2_952.5, longRank.GetProperty("key").GetDouble(), 9);
        var shortRank = await server.GetOkAsync($"/api/accounts/{maker}/adl?instrument={Btc}");
        Assert.Equal(("short", "-1", 1, 1), (shortRank.GetProperty("side").GetString(), shortRank.GetProperty("size").GetString(), shortRank.GetProperty("rank").GetInt32(), shortRank.GetProperty("of").GetInt32()));
        Assert.Equal(95_000 / 10_000_000.0, shortRank.GetProperty("key").GetDouble(), 12);
        var flat = await server.GetOkAsync($"/api/accounts/{maker}/adl?instrument=ETH_USDC-PERPETUAL");
        Assert.Equal((JsonValueKind.Null, 0, 0), (flat.GetProperty("side").ValueKind, flat.GetProperty("rank").GetInt32(), flat.GetProperty("of").GetInt32()));

        // A bid below the mark that is still above the price at which the long goes bankrupt.
        await server.PlaceOkAsync(new { accountId = maker, instrument = Btc, side = "buy", price = "92500", amount = "1", postOnly = true });
        Assert.Empty((await server.GetOkAsync("/api/liquidations")).GetProperty("steps").EnumerateArray());

        // At 92,900 the long's equity is 852.5, below maintenance (1% of 92,900 = 929): bankruptcy
        // price 92,900 − 852.5 = 92,047.5; the whole position (92,900 ≤ 100,000 USDC) sells to the
        // bid at 92,500, leaving 452.5, all of which is the fee (0.5% of 92,500 = 462.5, capped).
        var moved = await SetIndexAsync(server, "BTC", 92_900);

        var page = await server.GetOkAsync($"/api/liquidations?account={gambler}");
        Assert.Equal(1, page.GetProperty("kept").GetInt32());
        Assert.Equal(10_000, page.GetProperty("capacity").GetInt32());
        var step = Assert.Single(page.GetProperty("steps").EnumerateArray());
        Assert.Equal((moved.Sequence, 0, gambler, "cross", Btc, 1, "sell"), (step.GetProperty("sequence").GetInt64(), step.GetProperty("index").GetInt32(), step.GetProperty("accountId").GetInt32(), step.GetProperty("scope").GetString(), step.GetProperty("instrument").GetString(), step.GetProperty("instrumentId").GetInt32(), step.GetProperty("side").GetString()));
        Assert.Equal(
            ("1", "92900", "92047.5", "852.5", "929", "1", "0", "0", "0", "452.5", "0"),
            (Text(step, "step"), Text(step, "markPrice"), Text(step, "bankruptcyPrice"), Text(step, "equity"), Text(step, "maintenanceMargin"), Text(step, "filledThroughBook"), Text(step, "takenOver"), Text(step, "deleveraged"), Text(step, "unfilled"), Text(step, "fee"), Text(step, "deficitCovered")));
        Assert.True(step.GetProperty("ended").GetBoolean());
        var fill = Assert.Single(step.GetProperty("fills").EnumerateArray());
        Assert.Equal(("book", "92500", "1", maker), (Text(fill, "kind"), Text(fill, "price"), Text(fill, "amount"), fill.GetProperty("counterpartyAccountId").GetInt32()));
        string proofPath = Text(step, "proof");
        Assert.Equal($"/api/liquidations/{moved.Sequence}/0", proofPath);
        Assert.Equal("0", Text(await server.GetOkAsync($"/api/accounts/{gambler}"), "equity"));
        Assert.Equal("452.5", Text(await server.GetOkAsync("/api/insurance"), "cash")); // the fee

        // The proof, exactly as LiquidationProofDocument writes it (the file `clearhouse verify-liquidation` reads).
        using var response = await server.Http.GetAsync(proofPath);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        string json = await response.Content.ReadAsStringAsync();
        var document = LiquidationProofDocument.FromJson(json);
        Assert.Equal(json, LiquidationProofDocument.From(document.ToProof()).ToJson());
        var verdict = LiquidationVerifier.Verify(document.ToProof());
        Assert.True(verdict.Valid, verdict.Reason);
        Assert.Equal((moved.Sequence, gambler, "852.5", "929"), (document.Sequence, document.AccountId, document.Equity, document.Maintenance));

        // A copy whose mark is changed no longer adds up; one that claims a healthy account is not due.
        var tampered = LiquidationProofDocument.FromJson(json);
        tampered.Positions[0].Mark = "92950";
        var refused = LiquidationVerifier.Verify(tampered.ToProof());
        Assert.False(refused.Valid);
        Assert.Contains("Equity recomputes", refused.Reason, StringComparison.Ordinal);
        var healthy = LiquidationProofDocument.FromJson(json.Replace("\"92900\"", "\"95000\"", StringComparison.Ordinal).Replace("\"852.5\"", "\"2952.5\"", StringComparison.Ordinal).Replace("\"929\"", "\"950\"", StringComparison.Ordinal).Replace("\"1858\"", "\"1900\"", StringComparison.Ordinal));
        var notDue = LiquidationVerifier.Verify(healthy.ToProof());
        Assert.False(notDue.Valid);
        Assert.Contains("Not due", notDue.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_bids_the_insurance_fund_takes_over_in_steps_and_an_order_that_runs_a_step_says_so()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0");
        var (depositStatus, deposit) = await server.PostAsync("/api/insurance/deposit", new { amount = "1000000" });
        Assert.True(depositStatus == 200, deposit.ToString());
        Assert.Equal("1000000", Text(deposit, "amount"));
        Assert.True(deposit.GetProperty("sequence").GetInt64() > 0);
        var fund = await server.GetOkAsync("/api/insurance");
        Assert.Equal(("1000000", "1000000", "0", "10000000"), (Text(fund, "cash"), Text(fund, "equity"), Text(fund, "floor"), Text(fund, "maxNotionalPerInstrument")));
        Assert.Empty(fund.GetProperty("positions").EnumerateArray());

        int maker = await server.OpenFundedAccountAsync("10000000");
        int gambler = await server.OpenFundedAccountAsync("5000");
        int bystander = await server.OpenFundedAccountAsync("100000");

        // Long 2 BTC at 95,000 on 5,000: equity 4,905 after the 95 fee. Nobody bids.
        await server.PlaceOkAsync(new { accountId = maker, instrument = Btc, side = "sell", price = "95000", amount = "2", postOnly = true });
        await server.PlaceOkAsync(new { accountId = gambler, instrument = Btc, side = "buy", price = "95000", amount = "2", timeInForce = "ioc" });

        // At 93,400: equity 1,705 < maintenance 1,868. Worth more than 100,000 USDC, the position
        // goes in steps of 20%: 0.4 BTC, which the fund takes over at 93,400 − 1,705 / 2 = 92,547.5.
        var moved = await SetIndexAsync(server, "BTC", 93_400);
        var first = Assert.Single((await server.GetOkAsync($"/api/liquidations?account={gambler}")).GetProperty("steps").EnumerateArray());
        Assert.Equal((moved.Sequence, "0.4", "92547.5", "0", "0.4", false), (first.GetProperty("sequence").GetInt64(), Text(first, "step"), Text(first, "bankruptcyPrice"), Text(first, "filledThroughBook"), Text(first, "takenOver"), first.GetProperty("ended").GetBoolean()));
        var takeover = Assert.Single(first.GetProperty("fills").EnumerateArray());
        Assert.Equal(("takeover", "92547.5", "0.4", 0), (Text(takeover, "kind"), Text(takeover, "price"), Text(takeover, "amount"), takeover.GetProperty("counterpartyAccountId").GetInt32()));

        // Still below maintenance (1,364 < 1,494.4), the account stays queued: it may not trade, and
        // the next command of anyone runs its next step, which that command's answer reports.
        var (refusedStatus, refused) = await server.PostAsync("/api/orders", new { accountId = gambler, instrument = Btc, side = "sell", type = "market", amount = "0.1" });
        Assert.Equal((400, 507, "AccountInLiquidation"), (refusedStatus, refused.GetProperty("code").GetInt32(), Text(refused, "reason")));
        var order = await server.PlaceOkAsync(new { accountId = bystander, instrument = Btc, side = "buy", price = "80000", amount = "0.001", postOnly = true });
        Assert.Equal("open", Text(order, "state"));
        var notices = order.GetProperty("liquidations").EnumerateArray().ToList();
        Assert.NotEmpty(notices);
        var notice = notices.First(n => n.GetProperty("accountId").GetInt32() == gambler);
        long orderSequence = order.GetProperty("sequence").GetInt64();
        Assert.Equal((Btc, "sell", "0.32", "92547.5"), (Text(notice, "instrument"), Text(notice, "side"), Text(notice, "step"), Text(notice, "bankruptcyPrice")));
        Assert.StartsWith($"/api/liquidations/{orderSequence}/", Text(notice, "proof"), StringComparison.Ordinal);
        Assert.Equal(200, (int)(await server.Http.GetAsync(Text(notice, "proof"))).StatusCode);

        // Newest first; the fund holds what it took over, valued at the mark.
        var steps = (await server.GetOkAsync($"/api/liquidations?accountId={gambler}&limit=2")).GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(2, steps.Count);
        Assert.Equal(orderSequence, steps[0].GetProperty("sequence").GetInt64());
        Assert.Equal(moved.Sequence, steps[1].GetProperty("sequence").GetInt64());
        fund = await server.GetOkAsync("/api/insurance");
        var held = Assert.Single(fund.GetProperty("positions").EnumerateArray());
        Assert.Equal((Btc, "0.72", "92547.5", "93400"), (Text(held, "instrument"), Text(held, "size"), Text(held, "averageEntryPrice"), Text(held, "markPrice")));
        Assert.Equal(Dec(fund, "cash") + Dec(held, "value"), Dec(fund, "equity"));
        Assert.Equal(0.72m * (93_400m - 92_547.5m), Dec(held, "unrealizedPnl"));

        // Every step's proof verifies.
        foreach (var s in (await server.GetOkAsync("/api/liquidations?limit=1000")).GetProperty("steps").EnumerateArray())
        {
            string json = await server.Http.GetStringAsync(Text(s, "proof"));
            var verdict = LiquidationVerifier.Verify(LiquidationProofDocument.FromJson(json).ToProof());
            Assert.True(verdict.Valid, $"{Text(s, "proof")}: {verdict.Reason}");
        }
    }

    [Fact]
    public async Task Bad_liquidation_and_insurance_requests_are_refused_with_the_usual_error_bodies()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0");
        int accountId = await server.OpenFundedAccountAsync("1000");

        await AssertRefused(server.GetAsync("/api/liquidations/12345/0"), 404, 912, "UnknownLiquidation");
        await AssertRefused(server.GetAsync("/api/liquidations/abc/0"), 400, 903, "InvalidValue");
        await AssertRefused(server.GetAsync("/api/liquidations/1/-1"), 400, 906, "NumberOutOfRange");
        await AssertRefused(server.GetAsync("/api/liquidations?limit=0"), 400, 906, "NumberOutOfRange");
        await AssertRefused(server.GetAsync("/api/liquidations?acount=1"), 400, 902, "UnknownField");
        await AssertRefused(server.GetAsync($"/api/accounts/{accountId}/adl"), 400, 901, "MissingField");
        await AssertRefused(server.GetAsync($"/api/accounts/{accountId}/adl?instrument=NOPE"), 404, 300, "UnknownInstrument");
        await AssertRefused(server.GetAsync($"/api/accounts/999/adl?instrument={Btc}"), 404, 200, "UnknownAccount");
        await AssertRefused(server.PostAsync("/api/insurance/deposit", new { amount = "0" }), 400, 201, "AmountNotPositive");
        await AssertRefused(server.PostAsync("/api/insurance/deposit", new { amount = "NaN" }), 400, 904, "MalformedDecimal");
        await AssertRefused(server.PostAsync("/api/insurance/deposit", new { amount = "1", account = 1 }), 400, 902, "UnknownField");
        await AssertRefused(server.PostRawAsync("/api/insurance/deposit", "{}"), 400, 901, "MissingField");
        Assert.Equal("0", Text(await server.GetOkAsync("/api/insurance"), "cash"));
    }

    [Fact]
    public async Task Liquidation_proofs_are_regenerated_by_the_replay_after_a_restart_even_from_a_later_snapshot()
    {
        string data = TemporaryDirectory.Create("liquidation-restart");
        try
        {
            string[] settings = ["--data-dir", data, "--TickMillis", "0", "--BlockMillis", "1", "--SnapshotEveryCommands", "1"];
            string path;
            string before;
            long liquidatedAt;
            await using (var first = await RunningServer.StartAsync(demo: false, settings))
            {
                int maker = await first.OpenFundedAccountAsync("10000000");
                int gambler = await first.OpenFundedAccountAsync("3000");
                await first.PlaceOkAsync(new { accountId = maker, instrument = Btc, side = "sell", price = "95000", amount = "1", postOnly = true });
                await first.PlaceOkAsync(new { accountId = gambler, instrument = Btc, side = "buy", price = "95000", amount = "1", timeInForce = "ioc" });
                liquidatedAt = (await SetIndexAsync(first, "BTC", 92_000)).Sequence;
                path = Text(Assert.Single((await first.GetOkAsync("/api/liquidations")).GetProperty("steps").EnumerateArray()), "proof");
                before = await first.Http.GetStringAsync(path);

                // More commands until a snapshot after the liquidation is on disk. Snapshots are only
                // taken at a block seal, which only a command causes, and never while the previous one
                // is still being written: on a slow disk a fixed number of commands can all find one
                // pending, so keep sending them (CI once saw three deposits not be enough).
                Assert.True(
                    await RunningServer.EventuallyAsync(
                        async () =>
                        {
                            await first.PostAsync($"/api/accounts/{maker}/deposit", new { amount = "1" });
                            return (await first.GetOkAsync("/api/status")).GetProperty("lastSnapshot") is { ValueKind: JsonValueKind.Object } s && s.GetProperty("sequence").GetInt64() > liquidatedAt;
                        },
                        TimeSpan.FromSeconds(20)),
                    "no snapshot after the liquidation was saved");
            }

            await using var second = await RunningServer.StartAsync(demo: false, settings);
            var recovery = (await second.GetOkAsync("/api/status")).GetProperty("recovery");
            Assert.True(recovery.GetProperty("snapshotSequence").GetInt64() > liquidatedAt, recovery.ToString());
            Assert.Equal(1, recovery.GetProperty("liquidationStepsRegenerated").GetInt64());
            Assert.Equal(0, recovery.GetProperty("liquidationsFromSequence").GetInt64());
            Assert.Equal(before, await second.Http.GetStringAsync(path));
            var step = Assert.Single((await second.GetOkAsync("/api/liquidations")).GetProperty("steps").EnumerateArray());
            Assert.Equal(liquidatedAt, step.GetProperty("sequence").GetInt64());
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    /// <summary>Moves an underlying's index through the sequencer, as genesis does; returns the accepted command's result.</summary>
    private static async Task<CommandResult> SetIndexAsync(RunningServer server, string underlying, long price)
    {
        var result = await server.Services.GetRequiredService<Sequencer>().SubmitAsync(new SetIndexPrice(underlying, Price.FromWhole(price)));
        Assert.True(result.IsAccepted, result.Reason.ToString());
        return result;
    }

    private static async Task AssertRefused(Task<(int Status, JsonElement Body)> call, int status, int code, string reason)
    {
        var (actualStatus, body) = await call;
        Assert.True(actualStatus == status, $"answered {actualStatus}: {body}");
        Assert.Equal((code, reason), (body.GetProperty("code").GetInt32(), Text(body, "reason")));
        Assert.False(string.IsNullOrWhiteSpace(Text(body, "message")));
    }

    private static string Text(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static decimal Dec(JsonElement e, string name) => decimal.Parse(Text(e, name), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
