using System.Collections.Immutable;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Pricing;
using Xunit.Abstractions;

namespace Clearhouse.Core.Tests.Pricing;

public class VolSurfaceTests(ITestOutputHelper output)
{
    // 2026-02-25 08:00 UTC and the 27MAR26 / 24APR26 expiries (08:00 UTC): 30 and 58 days.
    private static readonly long Now = new DateTimeOffset(2026, 2, 25, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
    private static readonly long Mar27 = new DateTimeOffset(2026, 3, 27, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
    private static readonly long Apr24 = new DateTimeOffset(2026, 4, 24, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;

    /// <summary>a 0.015, b 0.05, ρ −0.3, m 0, σ 0.1: ATM total variance 0.02 (≈ 49% vol at 30 days).</summary>
    private static readonly SviSliceParameters Mar27Slice = new(Mar27, 15_000_000, 50_000_000, -300_000_000, 0, 100_000_000);

    /// <summary>Same shape, a 0.03: ATM total variance 0.035 at 58 days.</summary>
    private static readonly SviSliceParameters Apr24Slice = new(Apr24, 30_000_000, 50_000_000, -300_000_000, 0, 100_000_000);

    private static VolSurfaceParameters Btc(params SviSliceParameters[] slices) => new("BTC", Now, [.. slices]);

    [Fact]
    public void Worked_example_in_docs_pricing_md_is_reproduced_to_the_micro_usdc()
    {
        // docs/pricing.md, "Worked example": BTC_USDC-27MAR26-110000-C seen on 2026-02-25 08:00 UTC,
        // forward 100,000 USDC, r = 0, surface slice a 0.015, b 0.05, ρ −0.3, m 0, σ 0.1.
        var surface = VolSurface.Create(Btc(Mar27Slice, Apr24Slice));
        var strike = Price.FromWhole(110_000);
        var forward = Price.FromWhole(100_000);

        double years = YearFraction.Between(Now, Mar27);
        double k = DeterministicMath.Ln(110_000.0 / 100_000.0);
        double w = surface.TotalVariance(k, Mar27, Now);
        double vol = surface.Volatility(110_000, 100_000, Mar27, Now);
        var valuation = Black76.Price(OptionTerms.Call(110_000, years), BlackMarket.Create(100_000, vol));
        var up = OptionMarks.Mark(surface, OptionRight.Call, strike, Mar27, forward, Now, 0.0, Rounding.Ceiling);
        var down = OptionMarks.Mark(surface, OptionRight.Call, strike, Mar27, forward, Now, 0.0, Rounding.Floor);
        output.WriteLine($"T={years:R} k={k:R} w={w:R} σ={vol:R} value={valuation.Price:R} Δ={valuation.Delta:R} Γ={valuation.Gamma:R} vega={valuation.Vega:R} θ/day={valuation.ThetaPerDay:R} mark up {up} down {down}");

        Assert.Equal(30.0 / 365.0, years);
        Assert.Equal(0.0953101798043249, k, 15);
        Assert.Equal(0.020477595375491, w, 15);
        Assert.Equal(0.4991433432076, vol, 13);
        Assert.Equal(2_267.21985816, valuation.Price, 8); // Python math.erfc gives 2267.2198581598022 for the same inputs
        Assert.Equal(0.2760924632, valuation.Delta, 10);
        Assert.Equal(new Price(2_267_219_859), up);
        Assert.Equal(new Price(2_267_219_858), down);
    }

    [Fact]
    public void A_well_formed_surface_is_accepted_and_decodes_its_integer_parameters_exactly()
    {
        Assert.True(VolSurface.TryCreate(Btc(Mar27Slice, Apr24Slice), out var surface, out var reason));
        Assert.Equal(VolSurfaceRejectReason.None, reason);
        Assert.Equal(new SviSlice(0.015, 0.05, -0.3, 0.0, 0.1), surface.Slice(0));
        Assert.Equal(0.02, surface.Slice(0).TotalVariance(0.0), 15);
    }

    [Theory]
    [InlineData(15_000_000, -1, -300_000_000, 0, 100_000_000, VolSurfaceRejectReason.NegativeWingSlope)]
    [InlineData(15_000_000, 50_000_000, -1_000_000_000, 0, 100_000_000, VolSurfaceRejectReason.SkewOutOfRange)]
    [InlineData(15_000_000, 50_000_000, 1_000_000_000, 0, 100_000_000, VolSurfaceRejectReason.SkewOutOfRange)]
    [InlineData(15_000_000, 50_000_000, -300_000_000, 0, 0, VolSurfaceRejectReason.CurvatureNotPositive)]
    // a + bσ√(1 − ρ²) = −0.01 + 0.05·0.1·0.954 < 0: the smile dips below zero variance.
    [InlineData(-10_000_000, 50_000_000, -300_000_000, 0, 100_000_000, VolSurfaceRejectReason.NegativeVariance)]
    // b(1 + |ρ|) = 1.8·1.3 > 2: wings steeper than Lee's bound.
    [InlineData(15_000_000, 1_800_000_000, -300_000_000, 0, 100_000_000, VolSurfaceRejectReason.WingsTooSteep)]
    // Gatheral & Jacquier, "Arbitrage-free SVI volatility surfaces" (2014), example 3.1 (after Axel Vogt):
    // a −0.0410, b 0.1331, ρ 0.3060, m 0.3586, σ 0.4153 has g(k) < 0 near k ≈ 0.8: butterfly arbitrage.
    [InlineData(-41_000_000, 133_100_000, 306_000_000, 358_600_000, 415_300_000, VolSurfaceRejectReason.ButterflyArbitrage)]
    public void Surfaces_that_admit_arbitrage_or_negative_variance_are_rejected(long a, long b, long rho, long m, long sigma, VolSurfaceRejectReason expected)
    {
        var slice = new SviSliceParameters(Mar27, a, b, rho, m, sigma);
        Assert.Equal(expected, VolSurface.Validate(Btc(slice)));
        Assert.False(VolSurface.TryCreate(Btc(slice), out _, out var reason));
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void Gatheral_Jacquier_example_has_a_negative_density_factor_where_the_check_finds_it()
    {
        var vogt = new SviSlice(-0.0410, 0.1331, 0.3060, 0.3586, 0.4153);
        double min = Enumerable.Range(0, VolSurface.GridPoints).Select(j => vogt.ButterflyDensityFactor(VolSurface.GridPoint(j))).Min();
        Assert.True(min < 0);
        Assert.True(Mar27Slice.ToSlice().ButterflyDensityFactor(0.5) > 0);
    }

    [Fact]
    public void Total_variance_falling_from_one_expiry_to_the_next_is_calendar_arbitrage()
    {
        var lower = Apr24Slice with { APpb = 10_000_000 }; // ATM w 0.015 at 58 days < 0.02 at 30 days
        Assert.Equal(VolSurfaceRejectReason.CalendarArbitrage, VolSurface.Validate(Btc(Mar27Slice, lower)));
        Assert.Equal(VolSurfaceRejectReason.ExpiriesNotIncreasing, VolSurface.Validate(Btc(Apr24Slice, Mar27Slice)));
        Assert.Equal(VolSurfaceRejectReason.NoSlices, VolSurface.Validate(Btc()));
    }

    [Fact]
    public void Between_expiries_total_variance_is_linear_in_time_and_outside_them_volatility_is_constant()
    {
        var surface = VolSurface.Create(Btc(Mar27Slice, Apr24Slice));
        long mid = Mar27 + (Apr24 - Mar27) / 2;
        Assert.Equal(0.5 * (0.02 + 0.035), surface.TotalVariance(0.0, mid, Now), 15);

        // Before the first expiry: the first slice's implied vol.
        long in15Days = Now + 15L * 86_400_000_000;
        double volFirst = surface.Volatility(100_000, 100_000, Mar27, Now);
        Assert.Equal(volFirst, surface.Volatility(100_000, 100_000, in15Days, Now), 15);

        // After the last: the last slice's implied vol.
        long in200Days = Now + 200L * 86_400_000_000;
        Assert.Equal(surface.Volatility(120_000, 100_000, Apr24, Now), surface.Volatility(120_000, 100_000, in200Days, Now), 15);

        // Once March has expired, April alone defines the surface; after April, nothing does.
        long afterMarch = Mar27 + 1;
        Assert.Equal(
            0.035 * YearFraction.Between(afterMarch, mid) / YearFraction.Between(afterMarch, Apr24),
            surface.TotalVariance(0.0, mid, afterMarch),
            15);
        Assert.True(double.IsNaN(surface.TotalVariance(0.0, Apr24 + 10, Apr24 + 1)));
        Assert.False(OptionMarks.TryMark(surface, OptionRight.Call, Price.FromWhole(100_000), Apr24 + 10, Price.FromWhole(100_000), Apr24 + 1, 0, Rounding.Ceiling, out _, out var failure));
        Assert.Equal(OptionMarkFailure.NoLiveSlice, failure);
    }

    [Fact]
    public void Interpolated_total_variance_never_decreases_in_time_for_a_calendar_free_surface()
    {
        var surface = VolSurface.Create(Btc(Mar27Slice, Apr24Slice));
        for (int j = 0; j < VolSurface.GridPoints; j += 10)
        {
            double k = VolSurface.GridPoint(j);
            double previous = 0;
            for (long t = Now + 86_400_000_000; t < Apr24 + 30L * 86_400_000_000; t += 86_400_000_000)
            {
                double w = surface.TotalVariance(k, t, Now);
                Assert.True(w >= previous, $"k {k}: w fell to {w} at {t}");
                previous = w;
            }
        }
    }

    [Fact]
    public void Marks_round_in_the_direction_asked_and_expired_options_mark_at_intrinsic()
    {
        var surface = VolSurface.Create(Btc(Mar27Slice, Apr24Slice));
        var rng = new Random(9);
        for (int i = 0; i < 2000; i++)
        {
            var strike = new Price(rng.NextInt64(20_000_000_000, 300_000_000_000));
            var right = rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put;
            var up = OptionMarks.Mark(surface, right, strike, Apr24, Price.FromWhole(100_000), Now, 0.0, Rounding.Ceiling);
            var down = OptionMarks.Mark(surface, right, strike, Apr24, Price.FromWhole(100_000), Now, 0.0, Rounding.Floor);
            Assert.InRange(up.Micros - down.Micros, 0, 1);
        }

        var expired = OptionMarks.Mark(surface, OptionRight.Put, Price.FromWhole(110_000), Mar27, Price.FromWhole(100_000), Mar27, 0.0, Rounding.Floor);
        Assert.Equal(Price.FromWhole(10_000), expired);
        Assert.False(OptionMarks.TryToPrice(double.NaN, Rounding.Floor, out _));
        Assert.False(OptionMarks.TryToPrice(1e20, Rounding.Floor, out _));
    }
}
