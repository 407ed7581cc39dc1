using System.Text.Json;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The margin endpoints on a server without the demo (its own <see cref="QuietServer"/>): the
/// index is fixed (BTC 95,000, ETH 3,500) and, with no clock ticks, so are the perpetuals' marks,
/// so the figures here are exact. No oracle publishes a volatility surface, so options have no
/// mark; option trading and portfolio margin with options are tested on the demo server
/// (<see cref="DemoServerTests"/>).
/// </summary>
public sealed class MarginApiTests(QuietServer fixture) : IClassFixture<QuietServer>
{
    private const string Btc = "BTC_USDC-PERPETUAL";
    private const string Eth = "ETH_USDC-PERPETUAL";

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task A_portfolio_account_long_one_BTC_perpetual_is_bound_by_the_minus_16_percent_scenario()
    {
        int seller = await Server.OpenFundedAccountAsync();
        int buyer = await Server.OpenFundedAccountAsync("100000");
        var (modeStatus, mode) = await Server.PostAsync($"/api/accounts/{buyer}/margin-mode", new { mode = "portfolio" });
        Assert.True(modeStatus == 200, mode.ToString());
        Assert.Equal(("portfolio", buyer), (mode.GetProperty("mode").GetString(), mode.GetProperty("accountId").GetInt32()));
        Assert.True(mode.GetProperty("sequence").GetInt64() > 0);

        await Server.PlaceOkAsync(new { accountId = seller, instrument = Btc, side = "sell", price = "95500", amount = "1", postOnly = true });
        var fill = await Server.PlaceOkAsync(new { accountId = buyer, instrument = Btc, side = "buy", price = "95500", amount = "1", timeInForce = "ioc" });
        Assert.Equal("filled", fill.GetProperty("state").GetString());

        var report = await Server.GetOkAsync($"/api/accounts/{buyer}/margin");
        Assert.Equal("portfolio", report.GetProperty("mode").GetString());
        Assert.Equal("portfolio", (await Server.GetOkAsync($"/api/accounts/{buyer}")).GetProperty("marginMode").GetString());
        var btc = Assert.Single(report.GetProperty("portfolio").EnumerateArray());
        Assert.Equal("BTC", btc.GetProperty("underlying").GetString());
        // A long of 1 BTC at a mark of 95,000 loses 16% of it, 15,200, in every −16% scenario (and
        // in the dampened −33% and −66% tails): the first of them in the fixed order binds.
        var binding = btc.GetProperty("bindingScenario");
        Assert.Equal(0, binding.GetProperty("index").GetInt32());
        Assert.Equal(("-0.16", "down", "-16%, volatility down"), (binding.GetProperty("move").GetString(), binding.GetProperty("volShock").GetString(), binding.GetProperty("description").GetString()));
        Assert.Equal(1.0, binding.GetProperty("weight").GetDouble());
        Assert.Equal("15200", btc.GetProperty("worstLoss").GetString());
        Assert.Equal("0", btc.GetProperty("shortOptionAddOn").GetString());
        Assert.Equal("0", btc.GetProperty("concentrationAddOn").GetString());
        Assert.Equal("15200", btc.GetProperty("initialMargin").GetString());
        Assert.Equal("12160", btc.GetProperty("maintenanceMargin").GetString()); // 80% of the positions' worst loss
        Assert.Equal(0, btc.GetProperty("maintenanceBindingScenario").GetProperty("index").GetInt32());
        Assert.Equal("15200", report.GetProperty("cross").GetProperty("initialMargin").GetString());
        Assert.Equal("12160", report.GetProperty("cross").GetProperty("maintenanceMargin").GetString());

        var position = Assert.Single(report.GetProperty("positions").EnumerateArray());
        Assert.Equal((Btc, "1", "95000", false), (position.GetProperty("instrument").GetString(), position.GetProperty("size").GetString(), position.GetProperty("markPrice").GetString(), position.GetProperty("isolated").GetBoolean()));
        Assert.Equal("15200", position.GetProperty("initialMargin").GetString()); // its loss in the binding scenario
        Assert.Equal("-500", position.GetProperty("unrealizedPnl").GetString());

        // The binding scenario is one of the venue's scenarios, at its index.
        var scenarios = await Server.GetOkAsync("/api/margin/scenarios");
        Assert.Equal(binding.GetRawText(), scenarios[binding.GetProperty("index").GetInt32()].GetRawText());

        // Back to standard: 2% of 95,000 on the large-cap tiers.
        var (backStatus, back) = await Server.PostAsync($"/api/accounts/{buyer}/margin-mode", new { mode = "standard" });
        Assert.Equal((200, "standard"), (backStatus, back.GetProperty("mode").GetString()));
        var standard = await Server.GetOkAsync($"/api/accounts/{buyer}/margin");
        Assert.Equal("standard", standard.GetProperty("mode").GetString());
        Assert.Empty(standard.GetProperty("portfolio").EnumerateArray());
        Assert.Equal("1900", standard.GetProperty("cross").GetProperty("initialMargin").GetString());
        Assert.Equal("1900", Assert.Single(standard.GetProperty("positions").EnumerateArray()).GetProperty("initialMargin").GetString());
    }

    [Fact]
    public async Task The_margin_report_of_a_new_account_is_empty_and_unknown_accounts_answer_404()
    {
        int accountId = await Server.OpenFundedAccountAsync("1000");
        var report = await Server.GetOkAsync($"/api/accounts/{accountId}/margin");
        Assert.Equal(accountId, report.GetProperty("accountId").GetInt32());
        Assert.Equal("standard", report.GetProperty("mode").GetString());
        var cross = report.GetProperty("cross");
        Assert.Equal(("1000", "1000", "0", "0", "1000", "0"), (
            cross.GetProperty("balance").GetString(),
            cross.GetProperty("equity").GetString(),
            cross.GetProperty("initialMargin").GetString(),
            cross.GetProperty("maintenanceMargin").GetString(),
            cross.GetProperty("availableMargin").GetString(),
            cross.GetProperty("marginRatio").GetString()));
        Assert.Empty(report.GetProperty("positions").EnumerateArray());
        Assert.Empty(report.GetProperty("isolated").EnumerateArray());

        var (status, error) = await Server.GetAsync("/api/accounts/999999/margin");
        Assert.Equal((404, 200, "UnknownAccount"), (status, error.GetProperty("code").GetInt32(), error.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Malformed_margin_requests_are_refused_at_the_gateway_and_use_no_sequence_number()
    {
        int accountId = await Server.OpenFundedAccountAsync("1000");
        long stampedBefore = await Stamped();

        var (s1, mode) = await Server.PostAsync($"/api/accounts/{accountId}/margin-mode", new { mode = "cross" });
        Assert.Equal((400, 903, "mode"), (s1, mode.GetProperty("code").GetInt32(), mode.GetProperty("field").GetString()));

        var (s2, missingMode) = await Server.PostRawAsync($"/api/accounts/{accountId}/margin-mode", "{}");
        Assert.Equal((400, 901, "mode"), (s2, missingMode.GetProperty("code").GetInt32(), missingMode.GetProperty("field").GetString()));

        var (s3, missingFlag) = await Server.PostAsync($"/api/accounts/{accountId}/isolated", new { instrument = Eth });
        Assert.Equal((400, 901, "isolated"), (s3, missingFlag.GetProperty("code").GetInt32(), missingFlag.GetProperty("field").GetString()));

        var (s4, badFlag) = await Server.PostAsync($"/api/accounts/{accountId}/isolated", new { instrument = Eth, isolated = "maybe" });
        Assert.Equal((400, 903, "isolated"), (s4, badFlag.GetProperty("code").GetInt32(), badFlag.GetProperty("field").GetString()));

        var (s5, nan) = await Server.PostRawAsync($"/api/accounts/{accountId}/isolated/transfer", $$"""{"instrument":"{{Eth}}","amount":"NaN"}""");
        Assert.Equal((400, 904, "amount"), (s5, nan.GetProperty("code").GetInt32(), nan.GetProperty("field").GetString()));

        var (s6, decimals) = await Server.PostRawAsync($"/api/accounts/{accountId}/isolated/transfer", $$"""{"instrument":"{{Eth}}","amount":"-0.0000001"}""");
        Assert.Equal((400, 905), (s6, decimals.GetProperty("code").GetInt32()));

        var (s7, unknownField) = await Server.PostAsync($"/api/accounts/{accountId}/isolated/transfer", new { instrument = Eth, amount = "1", direction = "in" });
        Assert.Equal((400, 902, "direction"), (s7, unknownField.GetProperty("code").GetInt32(), unknownField.GetProperty("field").GetString()));

        var (s8, unknownInstrument) = await Server.PostAsync($"/api/accounts/{accountId}/isolated", new { instrument = "DOGE_USDC-PERPETUAL", isolated = true });
        Assert.Equal((404, 300, "instrument"), (s8, unknownInstrument.GetProperty("code").GetInt32(), unknownInstrument.GetProperty("field").GetString()));

        Assert.Equal(stampedBefore, await Stamped());
    }

    [Fact]
    public async Task An_isolated_ETH_position_is_topped_up_by_its_order_and_moves_collateral_in_and_out_but_never_too_much()
    {
        int seller = await Server.OpenFundedAccountAsync();
        int trader = await Server.OpenFundedAccountAsync("10000");

        var (setStatus, set) = await Server.PostAsync($"/api/accounts/{trader}/isolated", new { instrument = Eth, isolated = true });
        Assert.True(setStatus == 200, set.ToString());
        Assert.Equal((Eth, true), (set.GetProperty("instrument").GetString(), set.GetProperty("isolated").GetBoolean()));

        // Nothing to move collateral to yet: no position and no order.
        var (noPosition, noPositionError) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = "100" });
        Assert.Equal((400, 506, "NoIsolatedPosition"), (noPosition, noPositionError.GetProperty("code").GetInt32(), noPositionError.GetProperty("reason").GetString()));

        // The buy needs 2% of 3,500 (70), the 50 it pays above the mark, and the taker fee (1.775): topped up from the cross funds.
        await Server.PlaceOkAsync(new { accountId = seller, instrument = Eth, side = "sell", price = "3550", amount = "1", postOnly = true });
        var buy = await Server.PlaceOkAsync(new { accountId = trader, instrument = Eth, side = "buy", price = "3550", amount = "1", timeInForce = "ioc" });
        Assert.Equal("filled", buy.GetProperty("state").GetString());
        Assert.Equal("121.775", buy.GetProperty("isolatedTransfer").GetString());

        var report = await Server.GetOkAsync($"/api/accounts/{trader}/margin");
        var isolated = Assert.Single(report.GetProperty("isolated").EnumerateArray());
        Assert.Equal(Eth, isolated.GetProperty("instrument").GetString());
        Assert.Equal("70", isolated.GetProperty("margin").GetProperty("initialMargin").GetString());
        Assert.Equal("70", isolated.GetProperty("margin").GetProperty("equity").GetString()); // 121.775 − 50 − 1.775
        Assert.Equal("0", isolated.GetProperty("margin").GetProperty("availableMargin").GetString());
        Assert.Equal("9878.225", report.GetProperty("cross").GetProperty("balance").GetString()); // 10,000 − 121.775
        Assert.Equal("0", report.GetProperty("cross").GetProperty("initialMargin").GetString()); // the isolated position is not in the cross totals
        Assert.True(Assert.Single(report.GetProperty("positions").EnumerateArray()).GetProperty("isolated").GetBoolean());
        Assert.True(Assert.Single((await Server.GetOkAsync($"/api/accounts/{trader}")).GetProperty("positions").EnumerateArray()).GetProperty("isolated").GetBoolean());

        // In, then out.
        var (inStatus, moveIn) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = "1000" });
        Assert.True(inStatus == 200, moveIn.ToString());
        Assert.Equal((trader, Eth, "1000"), (moveIn.GetProperty("accountId").GetInt32(), moveIn.GetProperty("instrument").GetString(), moveIn.GetProperty("amount").GetString()));
        var (outStatus, moveOut) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = -400.5m });
        Assert.Equal((200, "-400.5"), (outStatus, moveOut.GetProperty("amount").GetString()));

        report = await Server.GetOkAsync($"/api/accounts/{trader}/margin");
        isolated = Assert.Single(report.GetProperty("isolated").EnumerateArray());
        Assert.Equal("669.5", isolated.GetProperty("margin").GetProperty("equity").GetString()); // 70 + 1,000 − 400.5
        Assert.Equal("599.5", isolated.GetProperty("margin").GetProperty("availableMargin").GetString());
        Assert.Equal("9278.725", report.GetProperty("cross").GetProperty("balance").GetString());

        // Too much either way: rejected with the engine's code, and nothing changes.
        string before = WithoutSequence(report);
        var (tooMuchIn, inError) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = "9278.725001" });
        Assert.Equal((400, 202, "InsufficientFreeCollateral"), (tooMuchIn, inError.GetProperty("code").GetInt32(), inError.GetProperty("reason").GetString()));
        Assert.True(inError.GetProperty("sequence").GetInt64() > 0);
        var (tooMuchOut, outError) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = "-599.500001" });
        Assert.Equal((400, 202), (tooMuchOut, outError.GetProperty("code").GetInt32()));
        var (hugeStatus, huge) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = "-10000000001" });
        Assert.Equal((400, 203, "AmountTooLarge"), (hugeStatus, huge.GetProperty("code").GetInt32(), huge.GetProperty("reason").GetString()));
        var (zeroStatus, zero) = await Server.PostAsync($"/api/accounts/{trader}/isolated/transfer", new { instrument = Eth, amount = "0" });
        Assert.Equal((400, 201), (zeroStatus, zero.GetProperty("code").GetInt32()));
        Assert.Equal(before, WithoutSequence(await Server.GetOkAsync($"/api/accounts/{trader}/margin")));

        // The position's mode is locked while it is open; a cross position has no collateral of its own.
        var (locked, lockedError) = await Server.PostAsync($"/api/accounts/{trader}/isolated", new { instrument = Eth, isolated = false });
        Assert.Equal((400, 503, "MarginModeLockedByPosition"), (locked, lockedError.GetProperty("code").GetInt32(), lockedError.GetProperty("reason").GetString()));
        var (notIsolated, notIsolatedError) = await Server.PostAsync($"/api/accounts/{seller}/isolated/transfer", new { instrument = Eth, amount = "10" });
        Assert.Equal((400, 504, "PositionNotIsolated"), (notIsolated, notIsolatedError.GetProperty("code").GetInt32(), notIsolatedError.GetProperty("reason").GetString()));
        var (option, optionError) = await Server.PostAsync($"/api/accounts/{trader}/isolated", new { instrument = OptionName(await Server.GetOkAsync("/api/instruments")), isolated = true });
        Assert.Equal((400, 502, "IsolatedNotForOptions"), (option, optionError.GetProperty("code").GetInt32(), optionError.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task An_option_order_reaches_the_engine_through_the_order_endpoint_and_without_a_surface_is_rejected_for_want_of_a_mark()
    {
        int accountId = await Server.OpenFundedAccountAsync("100000");
        string option = OptionName(await Server.GetOkAsync("/api/instruments"));
        var (status, error) = await Server.PostAsync("/api/orders", new { accountId, instrument = option, side = "buy", price = "1000", amount = "0.01" });
        Assert.Equal((400, 305, "NoMarkPrice"), (status, error.GetProperty("code").GetInt32(), error.GetProperty("reason").GetString()));
    }

    private static string OptionName(JsonElement instruments) =>
        instruments.EnumerateArray().First(i => i.GetProperty("kind").GetString() == "option").GetProperty("name").GetString()!;

    private async Task<long> Stamped() => (await Server.GetOkAsync("/api/status")).GetProperty("lastStampedSequence").GetInt64();

    private static string WithoutSequence(JsonElement view)
    {
        var copy = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(view.GetRawText())!;
        copy.Remove("sequence");
        return JsonSerializer.Serialize(copy);
    }
}
