using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Benchmarks.Margin;

/// <summary>
/// The engine's full option re-mark (target: 10,000 option instruments × the whole scenario grid
/// ≤ 15 ms on one core). The venue (<see cref="OptionMarket"/>) lists a perpetual, a future per
/// expiry and 10,000 options: 10 expiries (2 Jan to 25 Dec 2026: 1 day to a year), 500 strikes per
/// expiry (40,000 to 239,600 every 400), calls and puts; a surface covers every expiry. One operation
/// is <c>Engine.Apply(Tick)</c> one second after the previous tick, so that it crosses a basis-sample
/// boundary: oracle re-aggregation, basis samples of the 11 futures, then <c>MarkOptions</c> for
/// BTC — forward per option, σ(K, T) from the surface, the batched grid (<see cref="OptionRiskGrid"/>),
/// copy of each grid row and the new marks; every 5th/6th second also a premium/TWAP sample. No
/// account holds anything, so this is the re-mark alone (re-margining is <see cref="RemarginBenchmark"/>).
/// The index moves by ±0.1% between ticks (a signed report, untimed) so that every mark changes.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 5, iterationCount: 30, invocationCount: 1)]
public class RemarkBenchmark
{
    public const int StrikesPerExpiry = 500;

    public static readonly DateOnly[] Expiries =
    [
        new(2026, 1, 2), new(2026, 1, 9), new(2026, 1, 16), new(2026, 1, 23), new(2026, 1, 30),
        new(2026, 2, 27), new(2026, 3, 27), new(2026, 6, 26), new(2026, 9, 25), new(2026, 12, 25),
    ];

    private OptionMarket market = null!;
    private int reports;

    [Params(PricingPath.Vectorized, PricingPath.Scalar)]
    public PricingPath Path { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        market = new OptionMarket(new EngineConfig { PricingPath = Path });
        market.Open(Expiries);
        foreach (var expiry in Expiries)
        {
            for (int j = 0; j < StrikesPerExpiry; j++)
            {
                var strike = Price.FromWhole(40_000 + (400 * j));
                market.ListOption(expiry, strike, OptionRight.Call);
                market.ListOption(expiry, strike, OptionRight.Put);
            }
        }

        market.PublishSurface();
        market.ApplyOrThrow(new Tick()); // the first tick only sets the clock's schedule

        // Warm up (each tick is milliseconds; tiered compilation needs many calls and ~100 ms).
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            IterationSetup();
            Remark();
        }

        int marked = market.Options.Count(id => market.Engine.Instruments[id - 1].MarkPrice.IsPositive);
        int gridded = market.Options.Count(id => market.Engine.Instruments[id - 1].RiskGrid.Length == market.Engine.MarginScenarios.Length);
        Console.WriteLine($"// {market.Options.Count} options, {marked} with a positive mark, {gridded} with a {market.Engine.MarginScenarios.Length}-scenario grid");
        if (market.Options.Count != 10_000 || gridded != 10_000)
        {
            throw new InvalidOperationException("Every one of the 10,000 options should have a scenario grid.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => market.Dispose();

    [IterationSetup]
    public void IterationSetup() => market.ReportIndex(Price.FromWhole((reports++ & 1) == 0 ? 100_100 : 100_000));

    [Benchmark(Description = "Engine.Apply(Tick): re-mark 10,000 options + grids")]
    public RejectReason Remark() => market.Apply(new Tick(), stepMicros: 1_000_000);
}
