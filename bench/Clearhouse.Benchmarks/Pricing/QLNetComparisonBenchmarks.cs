using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Benchmarks.Pricing;

/// <summary>
/// Side by side with QLNet 1.13.2 on the same <see cref="PricingInputs"/> options, as spot options
/// (S = the inputs' forwards, flat r, flat σ, no dividends, Actual/365 Fixed, whole days):
/// <list type="bullet">
/// <item>ours: <see cref="BlackScholes.Price"/>, price and five Greeks per option;</item>
/// <item>QLNet: a <c>VanillaOption</c> with <c>AnalyticEuropeanEngine</c> per option, built once;
/// each operation moves its spot quote (which invalidates the cached results, QuantLib's observer
/// pattern) and reads NPV, delta, gamma, vega, theta and rho — one engine calculation;</item>
/// <item>QLNet <c>Utils.blackFormula</c>: the Black formula alone (price only), for scale.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 20)]
public class QLNetComparisonBenchmarks
{
    private PricingInputs inputs = null!;
    private QLNet.SimpleQuote[] spots = [];
    private QLNet.VanillaOption[] options = [];
    private SpotMarket[] markets = [];
    private double[] stdDevs = [];
    private double[] discounts = [];
    private int flip;

    [GlobalSetup]
    public void Setup()
    {
        inputs = new PricingInputs();
        int n = PricingInputs.Count;
        var today = new QLNet.Date(25, QLNet.Month.November, 2026);
        QLNet.Settings.setEvaluationDate(today);
        var dayCounter = new QLNet.Actual365Fixed();
        spots = new QLNet.SimpleQuote[n];
        options = new QLNet.VanillaOption[n];
        markets = new SpotMarket[n];
        stdDevs = new double[n];
        discounts = new double[n];
        var dividend = new QLNet.Handle<QLNet.YieldTermStructure>(new QLNet.FlatForward(today, 0.0, dayCounter));
        for (int i = 0; i < n; i++)
        {
            spots[i] = new QLNet.SimpleQuote(inputs.Forwards[i]);
            var riskFree = new QLNet.Handle<QLNet.YieldTermStructure>(new QLNet.FlatForward(today, inputs.Rates[i], dayCounter));
            var vol = new QLNet.Handle<QLNet.BlackVolTermStructure>(new QLNet.BlackConstantVol(today, new QLNet.NullCalendar(), inputs.Volatilities[i], dayCounter));
            var process = new QLNet.BlackScholesMertonProcess(new QLNet.Handle<QLNet.Quote>(spots[i]), dividend, riskFree, vol);
            var type = inputs.Rights[i] == OptionRight.Call ? QLNet.Option.Type.Call : QLNet.Option.Type.Put;
            options[i] = new QLNet.VanillaOption(new QLNet.PlainVanillaPayoff(type, inputs.Strikes[i]), new QLNet.EuropeanExercise(today + inputs.Days[i]));
            options[i].setPricingEngine(new QLNet.AnalyticEuropeanEngine(process));
            markets[i] = new SpotMarket(inputs.Forwards[i], inputs.Volatilities[i], inputs.Rates[i]);
            stdDevs[i] = inputs.Volatilities[i] * Math.Sqrt(inputs.Years[i]);
            discounts[i] = Math.Exp(-inputs.Rates[i] * inputs.Years[i]);
        }
    }

    [Benchmark(Baseline = true, Description = "ours: BlackScholes.Price (price + 5 Greeks)", OperationsPerInvoke = PricingInputs.Count)]
    public double Ours()
    {
        var terms = inputs.Terms;
        double sum = 0;
        for (int i = 0; i < terms.Length; i++)
        {
            var v = BlackScholes.Price(terms[i], markets[i]);
            sum += v.Price + v.Delta + v.Gamma + v.Vega + v.Theta + v.Rho;
        }

        return sum;
    }

    [Benchmark(Description = "QLNet: AnalyticEuropeanEngine (spot moved, NPV + 5 Greeks)", OperationsPerInvoke = PricingInputs.Count)]
    public double QLNetEngine()
    {
        // Alternate between two spots a hair apart so that every read recalculates.
        double bump = (flip++ & 1) == 0 ? 1.0 : 1.0 + 1e-12;
        double sum = 0;
        for (int i = 0; i < options.Length; i++)
        {
            spots[i].setValue(inputs.Forwards[i] * bump);
            var o = options[i];
            sum += o.NPV() + o.delta() + o.gamma() + o.vega() + o.theta() + o.rho();
        }

        return sum;
    }

    [Benchmark(Description = "QLNet: Utils.blackFormula (price only)", OperationsPerInvoke = PricingInputs.Count)]
    public double QLNetBlackFormula()
    {
        double sum = 0;
        for (int i = 0; i < options.Length; i++)
        {
            var type = inputs.Rights[i] == OptionRight.Call ? QLNet.Option.Type.Call : QLNet.Option.Type.Put;
            sum += QLNet.Utils.blackFormula(type, inputs.Strikes[i], inputs.Forwards[i], stdDevs[i], discounts[i]);
        }

        return sum;
    }
}
