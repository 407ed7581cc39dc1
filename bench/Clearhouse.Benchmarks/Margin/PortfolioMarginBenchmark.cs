using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Benchmarks.Margin;

/// <summary>
/// Portfolio margin of one account holding 100 option positions over 4 expiries (target: ≤ 20 µs).
/// The venue (<see cref="OptionMarket"/>): BTC at 100,000, a perpetual, a future per expiry
/// (9 Jan, 30 Jan, 27 Mar, 26 Jun 2026: 8 to 176 days), and calls and puts on 25 strikes per expiry
/// (76,000 to 124,000 every 2,000): 200 options, marked from the surface. The account, in portfolio
/// mode, holds per expiry one option per strike — calls on even strike indexes, puts on odd —,
/// a third of them short, 0.1 to 0.4 contracts each: 100 positions, 100 strike groups, every one a
/// row of the 35-scenario grid. A second account holds the same positions in standard mode, for
/// comparison. Both traded against a dealer account holding the other side.
/// One operation is one call; the grids themselves are computed at re-mark time (<see cref="RiskGridBenchmark"/>), not here.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 20)]
public class PortfolioMarginBenchmark
{
    public const int StrikesPerExpiry = 25;

    public static readonly DateOnly[] Expiries = [new(2026, 1, 9), new(2026, 1, 30), new(2026, 3, 27), new(2026, 6, 26)];

    private OptionMarket market = null!;
    private int portfolioAccount;
    private int standardAccount;

    [GlobalSetup]
    public void Setup()
    {
        market = new OptionMarket();
        market.Open(Expiries);
        var held = new List<(int Id, Side Side, Quantity Amount)>();
        foreach (var expiry in Expiries)
        {
            for (int j = 0; j < StrikesPerExpiry; j++)
            {
                var strike = Price.FromWhole(76_000 + (2_000 * j));
                int call = market.ListOption(expiry, strike, OptionRight.Call);
                int put = market.ListOption(expiry, strike, OptionRight.Put);
                var side = j % 3 == 0 ? Side.Sell : Side.Buy;
                held.Add((j % 2 == 0 ? call : put, side, Quantity.FromDecimal(0.1m * (1 + (j % 4)))));
            }
        }

        market.PublishSurface();
        int dealer = market.NewAccount(Money.FromWhole(1_000_000_000));
        portfolioAccount = market.NewAccount(Money.FromWhole(10_000_000), MarginMode.Portfolio);
        standardAccount = market.NewAccount(Money.FromWhole(10_000_000));
        foreach (var (id, side, amount) in held)
        {
            market.Trade(portfolioAccount, dealer, id, side, amount);
            market.Trade(standardAccount, dealer, id, side, amount);
        }

        if (!market.Engine.TryGetAccount(portfolioAccount, out var account) || account.ActiveCount != 100 || account.MarginMode != MarginMode.Portfolio)
        {
            throw new InvalidOperationException("The portfolio account should hold exactly 100 option positions in portfolio mode.");
        }

        var summary = market.Engine.GetMarginSummary(portfolioAccount);
        var report = market.Engine.GetMarginReport(portfolioAccount)!;
        if (!summary.Initial.IsPositive || report.Portfolio.Count != 1 || report.Positions.Count != 100 || report.Initial != summary.Initial)
        {
            throw new InvalidOperationException($"Unexpected portfolio margin: {summary}.");
        }

        Console.WriteLine($"// portfolio account: initial {summary.Initial.ToDecimal():N2}, maintenance {summary.Maintenance.ToDecimal():N2}, binding scenario {report.Portfolio[0].BindingScenario}; "
            + $"standard account: initial {market.Engine.GetMarginSummary(standardAccount).Initial.ToDecimal():N2} USDC");
    }

    [GlobalCleanup]
    public void Cleanup() => market.Dispose();

    [Benchmark(Description = "GetMarginSummary, portfolio, 100 options")]
    public MarginSummary PortfolioSummary() => market.Engine.GetMarginSummary(portfolioAccount);

    [Benchmark(Description = "GetMarginReport, portfolio, 100 options")]
    public MarginReport? PortfolioReport() => market.Engine.GetMarginReport(portfolioAccount);

    [Benchmark(Description = "GetMarginSummary, standard, 100 options")]
    public MarginSummary StandardSummary() => market.Engine.GetMarginSummary(standardAccount);
}
