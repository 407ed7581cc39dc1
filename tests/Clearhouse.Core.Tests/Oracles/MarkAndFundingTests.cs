using Clearhouse.Core.Clearing;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Tests.Engine;

namespace Clearhouse.Core.Tests.Oracles;

public class MarkPriceTests
{
    [Fact]
    public void A_single_trade_at_ten_times_the_index_moves_the_mark_no_more_than_the_clamp()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0);
        int a = venue.NewAccount(10_000_000m);
        int b = venue.NewAccount(10_000_000m);
        venue.Buy(a, btc, 99_990m, 1m);
        venue.Sell(b, btc, 100_010m, 1m);
        var before = venue.Engine.Instruments[btc - 1].MarkPrice;

        venue.Sell(a, btc, 1_000_000m, 0.001m);    // an ask 10× the index...
        venue.Buy(b, btc, 1_000_000m, 0.001m);     // ...lifted: last trade = 1,000,000
        Assert.Equal(Price.FromWhole(1_000_000), venue.Engine.Instruments[btc - 1].LastTradePrice);
        var after = venue.Engine.Instruments[btc - 1].MarkPrice;

        Assert.Equal(before, after); // median(bid, ask, last) ignores the one print
        Assert.InRange(after.Micros, Price.FromWhole(95_000).Micros, Price.FromWhole(105_000).Micros);
    }

    [Theory]
    // index, ema, bid, ask, last, expected: median(index+ema, median(bid, ask, last), index), clamped to ±5%
    [InlineData(100_000, 0, 99_990, 100_010, 100_000, 100_000)]
    [InlineData(100_000, 200, 100_150, 100_250, 100_200, 100_200)]
    [InlineData(100_000, 200, 500_000, 600_000, 700_000, 100_200)]
    [InlineData(100_000, 9_000, 200_000, 200_001, 200_000, 105_000)]
    [InlineData(100_000, -9_000, 10_000, 10_001, 10_000, 95_000)]
    public void The_mark_is_a_clamped_median_of_smoothed_basis_book_and_index(long index, long ema, long bid, long ask, long last, long expected)
    {
        var mark = MarkPrice.Compute(Price.FromWhole(index), ema * 1_000_000, true, Price.FromWhole(bid), true, Price.FromWhole(ask), Price.FromWhole(last), 50_000);
        Assert.Equal(Price.FromWhole(expected), mark);
    }

    [Fact]
    public void The_basis_ema_follows_the_book_mid_once_per_sample()
    {
        Assert.Equal(100, MarkPrice.UpdateEma(0, 15_000, 6_667) / 1);
        Assert.Equal(-100, MarkPrice.UpdateEma(0, -15_000, 6_667));
        Assert.True(MarkPrice.TrySampleBasis(Price.FromWhole(100), true, Price.FromWhole(101), true, Price.FromWhole(103), 50_000, out long basis));
        Assert.Equal(Price.FromWhole(2).Micros, basis);
        Assert.False(MarkPrice.TrySampleBasis(Price.FromWhole(100), false, default, true, Price.FromWhole(103), 50_000, out _));
    }
}

public class FundingTests
{
    [Fact]
    public void Hyperliquid_worked_example_a_10_btc_long_pays_6_25_usdc_in_an_hour()
    {
        // Hyperliquid docs: index 10,000, impact bid 10,010, impact ask 10,020 → P = 0.001 →
        // F = 0.001 + clamp(0.0001 − 0.001, −0.0005, 0.0005) = 0.0005 per 8 h → hourly 0.0000625.
        long premium = Funding.Premium(Price.FromWhole(10_000), Price.FromWhole(10_010), Price.FromWhole(10_020));
        Assert.Equal(1_000_000, premium); // 0.001 in ppb
        long hourly = Funding.IntervalRate(premium, 100_000, 500_000, 8, 40_000_000);
        Assert.Equal(62_500, hourly); // 0.0000625 in ppb
        Assert.Equal(Money.FromDecimal(6.25m), Funding.Payment(Quantity.FromWhole(10), Price.FromWhole(10_000), hourly));
        Assert.Equal(Money.FromDecimal(-6.25m), Funding.Payment(Quantity.FromWhole(-10), Price.FromWhole(10_000), hourly));
    }

    [Fact]
    public void With_no_premium_the_rate_is_the_interest_rate()
    {
        Assert.Equal(12_500, Funding.IntervalRate(0, 100_000, 500_000, 8, 40_000_000)); // 0.01% / 8 per hour
    }

    [Fact]
    public void Payments_round_against_the_payer_and_toward_zero_for_the_receiver()
    {
        Assert.Equal(new Money(1), Funding.Payment(new Quantity(1), new Price(1), 1));
        Assert.Equal(Money.Zero, Funding.Payment(new Quantity(-1), new Price(1), 1));
    }

    [Fact]
    public void Impact_prices_walk_the_book_for_the_impact_notional()
    {
        BookLevel[] asks = [new(Price.FromWhole(100), Quantity.FromWhole(50), 1), new(Price.FromWhole(110), Quantity.FromWhole(100), 1)];
        // 10,000 USDC: 50 units at 100 (5,000) then 5,000/110 units at 110.
        var impactAsk = Funding.ImpactPrice(asks, Money.FromWhole(10_000), Side.Buy);
        Assert.InRange(impactAsk.ToDecimal(), 104.76m, 104.77m);
        Assert.Equal(Price.Zero, Funding.ImpactPrice(asks, Money.FromWhole(1_000_000), Side.Buy));
    }

    [Fact]
    public void Funding_is_paid_hourly_from_the_sampled_premium_and_is_exactly_zero_sum()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(takerFeePpm: 0, index: 10_000m);
        int maker = venue.NewAccount(10_000_000m);
        int longTrader = venue.NewAccount(1_000_000m);
        int shortA = venue.NewAccount(1_000_000m);
        int shortB = venue.NewAccount(1_000_000m);
        venue.Sell(shortA, btc, 10_000m, 3.333m);
        venue.Sell(shortB, btc, 10_000m, 6.667m);
        venue.Buy(longTrader, btc, 10_000m, 10m);
        // A book whose impact bid is 10,010 and impact ask 10,020 (10,000 USDC each side).
        venue.Buy(maker, btc, 10_010m, 5m);
        venue.Sell(maker, btc, 10_020m, 5m);

        var fundingDeposits = venue.TotalHeld();
        venue.Accept(new Tick());                              // sets the schedule
        long start = venue.Engine.LastTimestampMicros;
        long hourEnd = ((start / 3_600_000_000) + 1) * 3_600_000_000;
        var insuranceBefore = venue.Engine.Ledger.InsuranceFund;
        while (venue.Engine.LastTimestampMicros < hourEnd)
        {
            venue.Apply(new Tick()); // 1 ms per tick; premium sampled every 5 s of the hour
            if (venue.Engine.LastTimestampMicros + 1_000_000 < hourEnd)
            {
                // skip ahead inside the hour in 1 s steps to keep the test quick
                for (int i = 0; i < 999; i++)
                {
                    venue.Apply(new Tick());
                }
            }
        }

        var rate = Assert.Single(venue.Events, e => e.Kind == EventKind.FundingRateSet);
        Assert.Equal(62_500, rate.RatePpb);
        var paid = venue.Events.Where(e => e.Kind == EventKind.FundingPaid).ToDictionary(e => e.AccountId, e => e.Amount);
        Assert.Equal(Money.FromDecimal(6.25m), paid[longTrader]);
        Assert.Equal(Money.FromDecimal(-2.083125m), paid[shortA]);
        Assert.Equal(Money.FromDecimal(-4.166875m), paid[shortB]);
        var residue = venue.Engine.Ledger.InsuranceFund - insuranceBefore;
        Assert.Equal(Money.Zero, paid.Values.Aggregate(Money.Zero, (s, m) => s + m) - residue);
        Assert.Equal(fundingDeposits, venue.TotalHeld());
        Assert.Equal(62_500, Assert.Single(venue.Engine.Instruments[btc - 1].FundingHistory).RatePpb);
    }
}
