using Clearhouse.Core.Matching;
using static Clearhouse.Server.Tests.Deribit.Trading.OrderFlowTests;
using static Clearhouse.Server.Tests.Deribit.Trading.TradingVenue;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// Positions and balances in Deribit's shapes (docs.deribit.com: private/get_positions,
/// private/get_account_summary, private/get_account_summaries; ccxt's parsePosition and
/// parseBalance read these fields), with the engine's own margin figures: every number here is
/// compared with what the engine reports for the same account.
/// </summary>
public sealed class AccountApiTests(TradingVenue venue) : IClassFixture<TradingVenue>
{
    [Fact]
    public async Task A_long_position_shows_the_engines_size_entry_mark_pnl_and_margins()
    {
        var maker = await venue.OpenAccountAsync();
        var trader = await venue.OpenAccountAsync(usdc: 50_000m);
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_000m, 0.010m);
        await venue.RestAsync(maker, venue.BtcId, Side.Sell, 95_010m, 0.002m);
        await venue.OkAsync(trader, "private/buy", new { instrument_name = BtcPerpetual, amount = 0.012m, price = 95_010m, time_in_force = "immediate_or_cancel" });

        var positions = (await venue.OkAsync(trader, "private/get_positions", new { currency = "BTC", kind = "future" })).EnumerateArray().ToArray();
        var position = Assert.Single(positions);
        var (report, entry, realized, index) = await venue.Sequencer.QueryAsync(e =>
        {
            e.TryGetAccount(trader.AccountId, out var account);
            var p = account.GetPosition(venue.BtcId);
            e.TryGetInstrument(venue.BtcId, out var instrument);
            return (e.GetMarginReport(trader.AccountId)!, p.AverageEntryPrice, p.RealizedPnl, instrument.Underlying.IndexPrice);
        });
        var figures = report.Positions.Single(p => p.InstrumentId == venue.BtcId);

        Assert.Equal((BtcPerpetual, "future", "buy"), (Str(position, "instrument_name"), Str(position, "kind"), Str(position, "direction")));
        Assert.Equal((0.012m, 0.012m), (Dec(position, "size"), Dec(position, "size_currency")));

        // Entry: open cost 1,140.02 over 0.012, rounded down to the price's 6 decimals.
        Assert.Equal(95_001.666666m, Dec(position, "average_price"));
        Assert.Equal(entry.ToDecimal(), Dec(position, "average_price"));
        Assert.Equal((95_000m, 95_000m), (Dec(position, "mark_price"), Dec(position, "index_price")));
        Assert.Equal(index.ToDecimal(), Dec(position, "index_price"));

        // Unrealized: 0.012 × 95,000 − 1,140.02.
        Assert.Equal(-0.02m, Dec(position, "floating_profit_loss"));
        Assert.Equal(figures.UnrealizedPnl.ToDecimal(), Dec(position, "floating_profit_loss"));
        Assert.Equal(realized.ToDecimal(), Dec(position, "realized_profit_loss"));
        Assert.Equal(figures.Initial.ToDecimal(), Dec(position, "initial_margin"));
        Assert.Equal(figures.Maintenance.ToDecimal(), Dec(position, "maintenance_margin"));
        Assert.True(Dec(position, "initial_margin") > 0);
        Assert.Equal((int)(1_140m / figures.Initial.ToDecimal()), position.GetProperty("leverage").GetInt32());
        Assert.Equal(0.012m, Dec(position, "delta"));

        // The same position by instrument; none in ETH; a zero one where the account never traded.
        Assert.Equal(0.012m, Dec(await venue.OkAsync(trader, "private/get_position", new { instrument_name = BtcPerpetual }), "size"));
        Assert.Empty((await venue.OkAsync(trader, "private/get_positions", new { currency = "ETH" })).EnumerateArray());
        Assert.Single((await venue.OkAsync(trader, "private/get_positions", new { })).EnumerateArray());
        var flat = await venue.OkAsync(trader, "private/get_position", new { instrument_name = EthPerpetual });
        Assert.Equal(("zero", 0m), (Str(flat, "direction"), Dec(flat, "size")));

        // The maker is short the same amount.
        var makerPosition = Assert.Single((await venue.OkAsync(maker, "private/get_positions", new { currency = "USDC" })).EnumerateArray());
        Assert.Equal(("sell", -0.012m), (Str(makerPosition, "direction"), Dec(makerPosition, "size")));
    }

    [Fact]
    public async Task The_USDC_summary_is_the_engines_margin_summary_and_other_currencies_hold_nothing()
    {
        var maker = await venue.OpenAccountAsync();
        var trader = await venue.OpenAccountAsync(usdc: 20_000m);
        await venue.RestAsync(maker, venue.EthId, Side.Sell, 3_505m, 1m);
        await venue.OkAsync(trader, "private/buy", new { instrument_name = EthPerpetual, amount = 1m, price = 3_505m });
        await venue.OkAsync(trader, "private/buy", new { instrument_name = EthPerpetual, amount = 0.5m, price = 3_400m }); // rests: counts in initial margin

        var summary = await venue.OkAsync(trader, "private/get_account_summary", new { currency = "USDC", extended = true });
        var margin = await venue.Sequencer.QueryAsync(e => e.GetMarginSummary(trader.AccountId));
        Assert.Equal("USDC", Str(summary, "currency"));
        Assert.Equal(margin.Balance.ToDecimal(), Dec(summary, "balance"));
        Assert.Equal(margin.Equity.ToDecimal(), Dec(summary, "equity"));
        Assert.Equal(margin.Equity.ToDecimal(), Dec(summary, "margin_balance"));
        Assert.Equal(margin.Available.ToDecimal(), Dec(summary, "available_funds"));
        Assert.Equal(margin.Initial.ToDecimal(), Dec(summary, "initial_margin"));
        Assert.Equal(margin.Maintenance.ToDecimal(), Dec(summary, "maintenance_margin"));
        Assert.Equal(margin.UnrealizedPnl.ToDecimal(), Dec(summary, "session_upl"));
        Assert.True(Dec(summary, "initial_margin") > Dec(summary, "maintenance_margin"));

        // 20,000 deposited, 3,505 × 0.05% = 1.7525 taker fee paid; unrealized 3,500 − 3,505 = −5.
        Assert.Equal(20_000m - 1.7525m - 5m, Dec(summary, "equity"));
        Assert.Equal((trader.AccountId, "cross_sm"), (summary.GetProperty("id").GetInt32(), Str(summary, "margin_model")));

        // ccxt's fetchBalance() reads result.summaries[] {currency, equity, available_funds, maintenance_margin}.
        var all = await venue.OkAsync(trader, "private/get_account_summaries", new { });
        var only = Assert.Single(all.GetProperty("summaries").EnumerateArray());
        Assert.Equal(("USDC", Dec(summary, "equity"), Dec(summary, "available_funds")), (Str(only, "currency"), Dec(only, "equity"), Dec(only, "available_funds")));

        var btc = await venue.OkAsync(trader, "private/get_account_summary", new { currency = "btc" });
        Assert.Equal(("BTC", 0m, 0m), (Str(btc, "currency"), Dec(btc, "equity"), Dec(btc, "available_funds")));
        Assert.Equal(-32602, (await venue.FailAsync(trader, "private/get_account_summary", new { currency = "XRP" })).Code);
        Assert.Equal(-32602, (await venue.FailAsync(trader, "private/get_account_summary", new { })).Code);
    }
}
