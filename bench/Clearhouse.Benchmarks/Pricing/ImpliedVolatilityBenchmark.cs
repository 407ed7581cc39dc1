using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Benchmarks.Pricing;

/// <summary>
/// Implied volatility of the <see cref="PricingInputs"/> options from their own Black-76 prices
/// (deep in and out of the money included), one at a time and batched. Target (issue 4): ≥ 5 M solves/s per core.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 20)]
public class ImpliedVolatilityBenchmark
{
    private PricingInputs inputs = null!;
    private readonly double[] vols = new double[PricingInputs.Count];

    [GlobalSetup]
    public void Setup() => inputs = new PricingInputs();

    [Benchmark(Description = "ImpliedVolatility.TrySolve", OperationsPerInvoke = PricingInputs.Count)]
    public double Solve()
    {
        var terms = inputs.Terms;
        double sum = 0;
        for (int i = 0; i < terms.Length; i++)
        {
            sum += ImpliedVolatility.TrySolve(terms[i], inputs.Forwards[i], inputs.Prices[i], inputs.Rates[i]).Volatility;
        }

        return sum;
    }

    [Benchmark(Description = "ImpliedVolatility.SolveBatch (widest vector)", OperationsPerInvoke = PricingInputs.Count)]
    public double SolveBatch()
    {
        ImpliedVolatility.SolveBatch(inputs.Rights, inputs.Forwards, inputs.Strikes, inputs.Years, inputs.Prices, inputs.Rates, vols);
        return vols[^1];
    }

    [Benchmark(Description = "ImpliedVolatility.SolveBatch (256-bit)", OperationsPerInvoke = PricingInputs.Count)]
    public double SolveBatch256()
    {
        ImpliedVolatility.SolveBatchWithWidth(inputs.Rights, inputs.Forwards, inputs.Strikes, inputs.Years, inputs.Prices, inputs.Rates, vols, 256);
        return vols[^1];
    }
}
