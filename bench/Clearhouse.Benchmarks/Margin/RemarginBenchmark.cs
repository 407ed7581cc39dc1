using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Benchmarks.Margin;

/// <summary>
/// Re-margining every account exposed to an underlying after a mark update (target: 100,000
/// accounts with 5 positions each ≤ 50 ms). The venue (<see cref="OptionMarket"/>): BTC, a
/// perpetual, futures for 4 expiries (9 Jan, 30 Jan, 27 Mar, 26 Jun 2026), calls and puts on 8
/// strikes per expiry (88,000 to 116,000 every 4,000): 69 instruments. 100,000 accounts, funded with
/// 100,000 USDC each, traded in pairs (account 2i−1 against 2i), so that each holds exactly 5
/// positions: 1 to 3 in the perpetual and futures, the rest options, sides and instruments drawn
/// with a seeded generator (seed 50), sizes 0.01–0.05 BTC (linear) and 0.1–0.5 contracts
/// (options). Every 10th account is in portfolio mode (10,000 accounts), the others standard.
/// Before each measured call, untimed: a signed index report moves the index by 0.5% (up, then back),
/// then a tick one second later re-marks the options. One operation is
/// <c>Engine.Remargin(BTC, output)</c>: the cross equity and maintenance of all 100,000 accounts.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 3, iterationCount: 20, invocationCount: 1)]
public class RemarginBenchmark
{
    public const int AccountCount = 100_000;

    public const int PositionsPerAccount = 5;

    public const int StrikesPerExpiry = 8;

    public static readonly DateOnly[] Expiries = [new(2026, 1, 9), new(2026, 1, 30), new(2026, 3, 27), new(2026, 6, 26)];

    private readonly List<AccountHealth> output = new(AccountCount + 16);
    private OptionMarket market = null!;
    private Underlying btc = null!;
    private int updates;

    [GlobalSetup]
    public void Setup()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        market = new OptionMarket();
        market.Open(Expiries);
        foreach (var expiry in Expiries)
        {
            for (int j = 0; j < StrikesPerExpiry; j++)
            {
                var strike = Price.FromWhole(88_000 + (4_000 * j));
                market.ListOption(expiry, strike, OptionRight.Call);
                market.ListOption(expiry, strike, OptionRight.Put);
            }
        }

        market.PublishSurface();
        market.ApplyOrThrow(new Tick()); // sets the clock's schedule

        int[] linear = [market.PerpetualId, .. market.Futures.Values];
        var options = market.Options.ToArray();
        for (int i = 1; i <= AccountCount; i++)
        {
            market.NewAccount(Money.FromWhole(100_000), i % 10 == 0 ? MarginMode.Portfolio : MarginMode.Standard);
        }

        var random = new Random(50);
        var picked = new List<int>(PositionsPerAccount);
        for (int taker = 1; taker < AccountCount; taker += 2)
        {
            picked.Clear();
            int linearCount = random.Next(1, 4);
            while (picked.Count < linearCount)
            {
                int id = linear[random.Next(linear.Length)];
                if (!picked.Contains(id))
                {
                    picked.Add(id);
                }
            }

            while (picked.Count < PositionsPerAccount)
            {
                int id = options[random.Next(options.Length)];
                if (!picked.Contains(id))
                {
                    picked.Add(id);
                }
            }

            foreach (int id in picked)
            {
                bool option = market.Engine.Instruments[id - 1].Kind == InstrumentKind.Option;
                var amount = option ? Quantity.FromDecimal(0.1m * random.Next(1, 6)) : Quantity.FromDecimal(0.01m * random.Next(1, 6));
                market.Trade(taker, taker + 1, id, random.Next(2) == 0 ? Side.Buy : Side.Sell, amount);
            }
        }

        btc = market.Btc;
        if (btc.Exposure.Count != AccountCount)
        {
            throw new InvalidOperationException($"Expected {AccountCount} accounts exposed to BTC, found {btc.Exposure.Count}.");
        }

        for (int id = 1; id <= AccountCount; id++)
        {
            if (!market.Engine.TryGetAccount(id, out var account) || account.ActiveCount != PositionsPerAccount)
            {
                throw new InvalidOperationException($"Account {id} should hold exactly {PositionsPerAccount} positions.");
            }
        }

        var built = clock.Elapsed;

        // Warm up: each call is tens of milliseconds, so a few dozen make the code fully optimized.
        for (int i = 0; i < 40; i++)
        {
            IterationSetup();
            Remargin();
        }

        int below = output.Count(h => h.BelowMaintenance);
        Console.WriteLine($"// built {AccountCount:N0} accounts x {PositionsPerAccount} positions in {built.TotalSeconds:N1} s ({market.Engine.LastSequence:N0} commands); "
            + $"{output.Count:N0} health lines, {below} below maintenance; GC heap {GC.GetTotalMemory(false) / (1 << 20):N0} MiB");
        if (output.Count != AccountCount)
        {
            throw new InvalidOperationException($"Expected one health line per account, got {output.Count}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => market.Dispose();

    /// <summary>Untimed: moves the index (a signed report) and re-marks the options (a tick one second later).</summary>
    [IterationSetup]
    public void IterationSetup()
    {
        market.ReportIndex(Price.FromWhole((updates++ & 1) == 0 ? 100_500 : 100_000));
        market.ApplyOrThrow(new Tick(), stepMicros: 1_000_000);
    }

    [Benchmark(Description = "Engine.Remargin(BTC): 100,000 accounts x 5 positions")]
    public int Remargin()
    {
        market.Engine.Remargin(btc, output);
        return output.Count;
    }
}
