using System.Runtime.Intrinsics;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;
using Xunit.Abstractions;

namespace Clearhouse.Core.Tests.Pricing;

public class ImpliedVolatilityBatchTests(ITestOutputHelper output)
{
    private sealed class Cases
    {
        public List<OptionRight> Rights { get; } = [];
        public List<double> Forwards { get; } = [];
        public List<double> Strikes { get; } = [];
        public List<double> Years { get; } = [];
        public List<double> Prices { get; } = [];
        public List<double> Rates { get; } = [];
        public List<double> Vols { get; } = [];
        public List<double> Attainable { get; } = [];
    }

    /// <summary>The 20,000 random cases of ImpliedVolatilityTests' round trip (same seed and generator), less the skipped ones.</summary>
    private static Cases RoundTripCases()
    {
        var rng = new Random(2015);
        var cases = new Cases();
        for (int i = 0; i < 20_000; i++)
        {
            double forward = Math.Exp(rng.NextDouble() * Math.Log(200_000));
            double years = Math.Exp(Math.Log(1.0 / 365) + rng.NextDouble() * Math.Log(5 * 365.0));
            double vol = Math.Exp(Math.Log(0.01) + rng.NextDouble() * Math.Log(500.0));
            double sd = vol * Math.Sqrt(years);
            double x = (rng.NextDouble() * 2 - 1) * Math.Min(6 * sd, 3.0);
            double strike = forward / Math.Exp(x);
            double rate = rng.NextDouble() * 0.1;
            var terms = OptionTerms.Create(rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put, strike, years);
            var valuation = Black76.Price(terms, BlackMarket.Create(forward, vol, rate));
            double discount = Math.Exp(-rate * years);
            double intrinsic = discount * Math.Max(terms.Right == OptionRight.Call ? forward - strike : strike - forward, 0);
            if (valuation.Price - intrinsic <= 1e-12 * valuation.Price || valuation.Price < 1e-300)
            {
                continue;
            }

            cases.Rights.Add(terms.Right);
            cases.Forwards.Add(forward);
            cases.Strikes.Add(strike);
            cases.Years.Add(years);
            cases.Prices.Add(valuation.Price);
            cases.Rates.Add(rate);
            cases.Vols.Add(vol);
            cases.Attainable.Add(2.2e-16 * discount * Math.Max(forward, strike) / (valuation.Vega * vol));
        }

        return cases;
    }

    [Theory]
    [InlineData(512)]
    [InlineData(256)]
    [InlineData(0)]
    public void Batch_implied_volatility_meets_the_scalar_round_trip_bounds_over_the_random_cases(int vectorBits)
    {
        if ((vectorBits == 512 && !Vector512.IsHardwareAccelerated) || (vectorBits == 256 && !Vector256.IsHardwareAccelerated))
        {
            output.WriteLine($"{vectorBits}-bit vectors not accelerated here: the batch runs narrower (still checked)");
        }

        var cases = RoundTripCases();
        int n = cases.Vols.Count;
        Assert.True(n >= 10_000);
        var vols = new double[n];
        ImpliedVolatility.SolveBatchWithWidth(
            cases.Rights.ToArray(), cases.Forwards.ToArray(), cases.Strikes.ToArray(), cases.Years.ToArray(), cases.Prices.ToArray(), cases.Rates.ToArray(), vols, vectorBits);

        double worstRelative = 0, worstConditioned = 0, worstVersusScalar = 0;
        int differentFromScalar = 0;
        for (int i = 0; i < n; i++)
        {
            double vol = cases.Vols[i];
            Assert.False(double.IsNaN(vols[i]), $"case {i}: {cases.Rights[i]} F={cases.Forwards[i]:R} K={cases.Strikes[i]:R} σ={vol:R} not solved");
            double relative = Math.Abs(vols[i] - vol) / vol;
            double conditioned = relative / Math.Max(cases.Attainable[i], 2.2e-16);
            worstRelative = Math.Max(worstRelative, relative);
            worstConditioned = Math.Max(worstConditioned, conditioned);
            Assert.True(conditioned <= 64, $"case {i}: {cases.Rights[i]} F={cases.Forwards[i]:R} K={cases.Strikes[i]:R} σ={vol:R} → {vols[i]:R}: relative error {relative:E2}, attainable {cases.Attainable[i]:E2}");

            double scalar = ImpliedVolatility.Solve(OptionTerms.Create(cases.Rights[i], cases.Strikes[i], cases.Years[i]), cases.Forwards[i], cases.Prices[i], cases.Rates[i]);
            if (scalar != vols[i])
            {
                differentFromScalar++;
                worstVersusScalar = Math.Max(worstVersusScalar, Math.Abs(scalar - vols[i]) / scalar);
            }
        }

        output.WriteLine($"{n} cases, width {vectorBits}: worst relative σ error {worstRelative:E2}, worst error / attainable {worstConditioned:F1}");
        output.WriteLine($"{differentFromScalar} results differ from the scalar solver's bits, by at most {worstVersusScalar:E2} relative");
    }

    [Theory]
    [InlineData(512)]
    [InlineData(256)]
    [InlineData(0)]
    public void Batch_gives_NaN_outside_the_bounds_zero_at_intrinsic_and_solves_deep_in_and_out_of_the_money(int vectorBits)
    {
        // (right, F, K, T, price, r, expected σ): NaN where the scalar solver fails.
        var rows = new List<(OptionRight Right, double F, double K, double T, double Price, double R, double Vol)>
        {
            (OptionRight.Call, 120, 100, 1, 19.99, 0, double.NaN),                // below intrinsic
            (OptionRight.Put, 80, 100, 1, 19.99, 0, double.NaN),                  // below intrinsic
            (OptionRight.Call, 120, 100, 1, 120, 0, double.NaN),                  // at the maximum D·F
            (OptionRight.Put, 80, 100, 1, 100.5, 0, double.NaN),                  // above the maximum D·K
            (OptionRight.Call, 100, 100, 1, -1, 0, double.NaN),                   // negative price
            (OptionRight.Call, double.NaN, 100, 1, 1, 0, double.NaN),             // invalid forward
            (OptionRight.Call, 100, 100, 0, 1, 0, double.NaN),                    // T = 0
            (OptionRight.Call, 100, 100, 1, 1, double.PositiveInfinity, double.NaN), // invalid rate
            (OptionRight.None, 100, 100, 1, 1, 0, double.NaN),                    // neither call nor put
            (OptionRight.Call, 120, 100, 1, 20.0, 0, 0.0),                        // exactly intrinsic
            (OptionRight.Call, 80, 100, 1, 0.0, 0, 0.0),                          // worthless OTM
        };

        // Deep in and out of the money, short and long dated, tiny and huge σ: priced by Black-76.
        foreach (var (f, k, vol, t) in new[]
        {
            (100_000.0, 100_000.0, 0.5, 1.0 / 365), (100_000.0, 300_000.0, 0.8, 0.25), (100_000.0, 20_000.0, 0.8, 0.25),
            (100.0, 100.0001, 0.01, 1.0 / 365), (100.0, 150.0, 5.0, 5.0), (100.0, 1000.0, 0.3, 2.0), (100.0, 10.0, 0.3, 2.0),
            (1.0, 20.0, 0.9, 1.0), (20.0, 1.0, 0.9, 1.0), (50.0, 49.0, 3.0, 4.0),
        })
        {
            foreach (var right in new[] { OptionRight.Call, OptionRight.Put })
            {
                double price = Black76.Price(OptionTerms.Create(right, k, t), BlackMarket.Create(f, vol, 0.03)).Price;
                rows.Add((right, f, k, t, price, 0.03, vol));
            }
        }

        // Repeat the rows shifted so each lands in several lane positions, and leave a ragged tail.
        var all = new List<(OptionRight Right, double F, double K, double T, double Price, double R, double Vol)>();
        for (int shift = 0; shift < 9; shift++)
        {
            for (int j = 0; j < rows.Count; j++)
            {
                all.Add(rows[(j + shift) % rows.Count]);
            }
        }

        all.Add(rows[0]);
        all.Add(rows[^1]);
        var vols = new double[all.Count];
        ImpliedVolatility.SolveBatchWithWidth(
            all.Select(r => r.Right).ToArray(), all.Select(r => r.F).ToArray(), all.Select(r => r.K).ToArray(), all.Select(r => r.T).ToArray(),
            all.Select(r => r.Price).ToArray(), all.Select(r => r.R).ToArray(), vols, vectorBits);

        for (int i = 0; i < all.Count; i++)
        {
            var row = all[i];
            if (double.IsNaN(row.Vol))
            {
                Assert.True(double.IsNaN(vols[i]), $"row {i}: {row} gave {vols[i]:R}");
            }
            else
            {
                // 1e-9 relative, or 64× what the price's rounding allows (deep in the money the time value is a sliver of the price).
                double tolerance = row.Vol * 1e-9;
                if (row.Vol > 0)
                {
                    var valuation = Black76.Price(OptionTerms.Create(row.Right, row.K, row.T), BlackMarket.Create(row.F, row.Vol, row.R));
                    tolerance = Math.Max(tolerance, 64 * 2.2e-16 * Math.Max(row.F, row.K) / valuation.Vega);
                }

                Assert.True(Math.Abs(vols[i] - row.Vol) <= tolerance, $"row {i}: {row} gave {vols[i]:R}, tolerance {tolerance:E2}");
            }

            double scalar = row.Right == OptionRight.None
                ? double.NaN
                : ImpliedVolatility.Solve(OptionTerms.Create(row.Right, row.K, row.T > 0 ? row.T : 1), row.F, row.Price, row.R);
            if (row.T > 0 && !double.IsNaN(scalar))
            {
                Assert.Equal(scalar, vols[i], Math.Abs(scalar) * 1e-12);
            }
        }
    }

    [Fact]
    public void Batch_rejects_spans_of_different_lengths()
    {
        var one = new double[1];
        var two = new double[2];
        Assert.Throws<ArgumentException>(() => ImpliedVolatility.SolveBatch(new[] { OptionRight.Call }, one, one, one, one, one, two));
    }
}
