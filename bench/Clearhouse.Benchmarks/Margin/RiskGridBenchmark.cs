using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;

namespace Clearhouse.Benchmarks.Margin;

/// <summary>
/// The portfolio-margin grid of a whole option book, <see cref="OptionRiskGrid.Compute"/> alone
/// (target: a full re-mark of 10,000 options × the whole scenario grid ≤ 15 ms on one core).
/// One operation is the whole book: 10,000 options × (1 base value + 35 scenarios) = 360,000
/// Black-76 evaluations (price and Greeks, as the kernel computes them), the shocked volatilities
/// (one exponential and one logarithm per option and shock) and the weighted differences.
/// Inputs (seed 35): half calls, half puts; forward 100,000 × (1 ± 2%); strike 0.5 to 1.5 × the
/// forward, on a 500 grid; time 1/365 to 1 year; σ 0.3 to 1.2, all uniform.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 20)]
public class RiskGridBenchmark
{
    public const int OptionCount = 10_000;

    private OptionRiskGrid grid = null!;
    private OptionRiskInput[] inputs = [];
    private double[] output = [];
    private double[] baseValues = [];

    [Params(PricingPath.Vectorized, PricingPath.Scalar)]
    public PricingPath Path { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        grid = new OptionRiskGrid(PortfolioMarginParameters.Default);
        inputs = Inputs(OptionCount, seed: 35);
        output = new double[OptionCount * grid.ScenarioCount];
        baseValues = new double[OptionCount];
    }

    /// <summary>The book described above.</summary>
    public static OptionRiskInput[] Inputs(int count, int seed)
    {
        var random = new Random(seed);
        var result = new OptionRiskInput[count];
        for (int i = 0; i < count; i++)
        {
            double forward = 100_000.0 * (0.98 + (0.04 * random.NextDouble()));
            double strike = Math.Round(forward * (0.5 + random.NextDouble()) / 500.0) * 500.0;
            double years = (1.0 / 365.0) + ((1.0 - (1.0 / 365.0)) * random.NextDouble());
            double vol = 0.3 + (0.9 * random.NextDouble());
            result[i] = new OptionRiskInput((i & 1) == 0 ? OptionRight.Call : OptionRight.Put, strike, forward, years, vol);
        }

        return result;
    }

    [Benchmark(Description = "OptionRiskGrid.Compute, 10,000 options x 35 scenarios")]
    public double Compute()
    {
        grid.Compute(inputs, output, baseValues, Path);
        return output[^1];
    }
}
