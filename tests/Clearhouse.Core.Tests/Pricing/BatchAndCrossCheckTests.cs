using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;
using Xunit.Abstractions;

namespace Clearhouse.Core.Tests.Pricing;

public class BatchAndCrossCheckTests(ITestOutputHelper output)
{
    [Fact]
    public void Batched_prices_and_greeks_are_bit_identical_to_the_scalar_kernel_over_200000_options()
    {
        const int n = 200_003; // not a multiple of four: the scalar remainder is exercised too
        var rng = new Random(4242);
        var rights = new OptionRight[n];
        var strikes = new double[n];
        var years = new double[n];
        var forwards = new double[n];
        var vols = new double[n];
        var rates = new double[n];
        double[] edgeYears = [0.0, double.Epsilon, 1e-300, 1.0 / 365 / 24 / 3600, 1e-12];
        double[] edgeVols = [0.0, 1e-300, 1e-8, 5.0, 20.0];
        for (int i = 0; i < n; i++)
        {
            var c = Black76Tests.RandomCase(rng);
            rights[i] = rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put;
            strikes[i] = c.Strike;
            years[i] = c.Years;
            forwards[i] = c.Market.Forward;
            vols[i] = c.Market.Volatility;
            rates[i] = c.Market.Rate;
            switch (rng.Next(20))
            {
                case 0: years[i] = edgeYears[rng.Next(edgeYears.Length)]; break;
                case 1: vols[i] = edgeVols[rng.Next(edgeVols.Length)]; break;
                case 2: strikes[i] = forwards[i]; break;                               // at the money
                case 3: strikes[i] = forwards[i] * (rng.Next(2) == 0 ? 1e-3 : 1e3); break; // very deep in or out
                case 4: rates[i] = 0.0; break;
                case 5:                                                                   // invalid lanes → NaN
                    switch (rng.Next(5))
                    {
                        case 0: forwards[i] = -1; break;
                        case 1: strikes[i] = 0; break;
                        case 2: vols[i] = double.NaN; break;
                        case 3: years[i] = -1; break;
                        default: rights[i] = OptionRight.None; break;
                    }

                    break;
            }
        }

        var scalar = NewOutputs(n);
        var input = new Black76BatchInput(rights, strikes, years, forwards, vols, rates);
        Black76.PriceBatchScalar(input, Output(scalar));

        // The public entry (widest vectors the machine has), and each width forced: 512-bit and
        // 256-bit lanes where the hardware accelerates them, and the scalar fallback (0).
        var vector = NewOutputs(n);
        Black76.PriceBatch(input, Output(vector));
        int nonFinite = CountSameBits(vector, scalar, "PriceBatch");
        foreach (int width in new[] { 512, 256, 0 })
        {
            var forced = NewOutputs(n);
            Black76.PriceBatchWithWidth(input, Output(forced), width);
            CountSameBits(forced, scalar, $"{width}-bit");
        }

        int CountSameBits(double[][] batch, double[][] reference, string path)
        {
            int nan = 0;
            for (int k = 0; k < 6; k++)
            {
                for (int i = 0; i < n; i++)
                {
                    double a = batch[k][i], b = reference[k][i];
                    if (double.IsNaN(a) && double.IsNaN(b))
                    {
                        nan++;
                        continue;
                    }

                    Assert.True(
                        BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b),
                        $"{path}: output {k}, option {i} ({rights[i]} K={strikes[i]:R} T={years[i]:R} F={forwards[i]:R} σ={vols[i]:R} r={rates[i]:R}): batch {a:R} scalar {b:R}");
                }
            }

            return nan;
        }

        // The scalar API is the same kernel.
        for (int i = 0; i < 1000; i++)
        {
            var v = Black76.Evaluate(rights[i], forwards[i], strikes[i], years[i], vols[i], rates[i]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(v.Price), BitConverter.DoubleToInt64Bits(vector[0][i]));
        }

        output.WriteLine($"{n} options × 6 outputs bit-identical (Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, Vector256: {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}); {nonFinite} NaN outputs from invalid lanes");
    }

    [Fact]
    public void Black76_agrees_with_QLNet_blackFormula_over_5000_random_cases()
    {
        // Independent implementation: QLNet 1.13.2 (C# port of QuantLib), Utils.blackFormula, whose Φ
        // is its own erf-based CumulativeNormalDistribution. Tolerance: 1e-12 of max(F, K)·D,
        // i.e. agreement to about twelve significant digits of the underlying's price.
        var rng = new Random(1013);
        double worst = 0;
        for (int i = 0; i < 5000; i++)
        {
            var c = Black76Tests.RandomCase(rng);
            var right = rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put;
            var ours = Black76.Price(OptionTerms.Create(right, c.Strike, c.Years), c.Market);
            double discount = Math.Exp(-c.Market.Rate * c.Years);
            double theirs = QLNet.Utils.blackFormula(
                right == OptionRight.Call ? QLNet.Option.Type.Call : QLNet.Option.Type.Put,
                c.Strike,
                c.Market.Forward,
                c.Market.Volatility * Math.Sqrt(c.Years),
                discount);
            double scale = discount * Math.Max(c.Market.Forward, c.Strike);
            double error = Math.Abs(ours.Price - theirs) / scale;
            worst = Math.Max(worst, error);
            Assert.True(error <= 1e-12, $"{c} {right}: ours {ours.Price:R}, QLNet {theirs:R}");
        }

        output.WriteLine($"blackFormula: worst |ours − QLNet|/(D·max(F,K)) = {worst:E2} over 5000 cases");
    }

    [Fact]
    public void Black_Scholes_price_and_greeks_agree_with_QLNet_AnalyticEuropeanEngine_over_1000_random_cases()
    {
        // QLNet's analytic European engine on a flat curve and flat volatility, Actual/365 Fixed,
        // T = whole days/365 so that both sides use exactly the same year fraction.
        // Tolerances: price 1e-11·max(S, K); delta, gamma·S, vega/S, rho/(K·T), theta/(S·σ) within 1e-9.
        var today = new QLNet.Date(25, QLNet.Month.November, 2026);
        QLNet.Settings.setEvaluationDate(today);
        var dayCounter = new QLNet.Actual365Fixed();
        var rng = new Random(365);
        double worstPrice = 0, worstGreek = 0;
        for (int i = 0; i < 1000; i++)
        {
            int days = 1 + rng.Next(5 * 365);
            double years = days / 365.0;
            double spot = Math.Exp(rng.NextDouble() * Math.Log(200_000));
            double vol = Math.Exp(Math.Log(0.01) + rng.NextDouble() * Math.Log(500.0));
            double strike = spot * Math.Exp((rng.NextDouble() - 0.5) * 3.0 * Math.Min(1.0, vol * Math.Sqrt(years) + 0.1));
            double rate = -0.02 + rng.NextDouble() * 0.17;
            var right = rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put;

            var ours = BlackScholes.Price(OptionTerms.Create(right, strike, years), new SpotMarket(spot, vol, rate));

            var spotQuote = new QLNet.Handle<QLNet.Quote>(new QLNet.SimpleQuote(spot));
            var riskFree = new QLNet.Handle<QLNet.YieldTermStructure>(new QLNet.FlatForward(today, rate, dayCounter));
            var dividend = new QLNet.Handle<QLNet.YieldTermStructure>(new QLNet.FlatForward(today, 0.0, dayCounter));
            var volatility = new QLNet.Handle<QLNet.BlackVolTermStructure>(new QLNet.BlackConstantVol(today, new QLNet.NullCalendar(), vol, dayCounter));
            var process = new QLNet.BlackScholesMertonProcess(spotQuote, dividend, riskFree, volatility);
            var option = new QLNet.VanillaOption(
                new QLNet.PlainVanillaPayoff(right == OptionRight.Call ? QLNet.Option.Type.Call : QLNet.Option.Type.Put, strike),
                new QLNet.EuropeanExercise(today + days));
            option.setPricingEngine(new QLNet.AnalyticEuropeanEngine(process));

            double priceError = Math.Abs(ours.Price - option.NPV()) / Math.Max(spot, strike);
            worstPrice = Math.Max(worstPrice, priceError);
            Assert.True(priceError <= 1e-11, $"#{i} {right} S={spot} K={strike} T={years} σ={vol} r={rate}: ours {ours.Price:R}, QLNet {option.NPV():R}");

            double[] greekErrors =
            [
                Math.Abs(ours.Delta - option.delta()),
                Math.Abs(ours.Gamma - option.gamma()) * spot,
                Math.Abs(ours.Vega - option.vega()) / spot,
                Math.Abs(ours.Rho - option.rho()) / (strike * years),
                Math.Abs(ours.Theta - option.theta()) / (spot * vol),
            ];
            foreach (double e in greekErrors)
            {
                worstGreek = Math.Max(worstGreek, e);
                Assert.True(e <= 1e-9, $"#{i} {right} S={spot} K={strike} T={years} σ={vol} r={rate}: greek errors {string.Join(", ", greekErrors)}");
            }
        }

        output.WriteLine($"AnalyticEuropeanEngine: worst price error {worstPrice:E2}·max(S,K), worst scaled Greek error {worstGreek:E2}");
    }

    private static double[][] NewOutputs(int n) => [new double[n], new double[n], new double[n], new double[n], new double[n], new double[n]];

    private static Black76BatchOutput Output(double[][] o) => new(o[0], o[1], o[2], o[3], o[4], o[5]);
}
