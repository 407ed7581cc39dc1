using Clearhouse.Core.Engine;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Genesis;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// The demo market, on unless <c>--demo false</c>: every <see cref="ServerOptions.DemoTickMillis"/>
/// it moves each underlying's price one random-walk step, which five simulated reporters sign and
/// submit (<see cref="DemoOracle"/>: the index is the median of their reports), lets
/// one market maker per underlying re-quote, and now and then lets a taker cross the spread.
/// Its accounts are created and funded through commands at first start, like any client's, and
/// found again after a restart (<see cref="DemoAccounts"/>).
/// </summary>
public sealed class DemoMarket(Sequencer sequencer, VenueGenesis genesis, ServerOptions options, TimeProvider clock, ILogger<DemoMarket> logger) : BackgroundService
{
    public static readonly Money MakerFunding = Money.FromWhole(10_000_000);
    public static readonly Money TakerFunding = Money.FromWhole(1_000_000);

    /// <summary>Chance per tick that the taker trades.</summary>
    public const double TakerChance = 0.35;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await genesis.Listed.WaitAsync(stoppingToken);
            var random = options.DemoSeed is { } seed ? new Random(seed) : new Random();
            var feeds = GenesisPlan.Default.Select(u => new RandomWalkIndex(u.Underlying, u.InitialIndexPrice, random)).ToList();
            var oracles = feeds.Select(f => new DemoOracle(sequencer, f.Underlying, clock, random)).ToList();
            foreach (var oracle in oracles)
            {
                await oracle.SetUpAsync(stoppingToken);
                await oracle.ReportAsync(feeds.First(f => f.Underlying == oracle.Underlying).Current, stoppingToken);
                await oracle.PublishSurfaceIfDueAsync(stoppingToken);
            }

            var accounts = new DemoAccounts(sequencer, options, logger);
            var makers = new List<DemoMarketMaker>();
            foreach (var feed in feeds)
            {
                makers.Add(new DemoMarketMaker(sequencer, await accounts.FindOrOpenAsync($"maker-{feed.Underlying}", MakerFunding, stoppingToken), feed.Underlying, logger));
            }

            var taker = new DemoTaker(sequencer, await accounts.FindOrOpenAsync("taker", TakerFunding, stoppingToken), random, logger);
            logger.LogInformation(
                "Demo market on: signed oracle reports (5 reporters per underlying) of a random walk every {Tick} ms, market makers on accounts {Makers}, taker on account {Taker}.",
                options.DemoTickMillis,
                string.Join(", ", makers.Select(m => $"{m.AccountId} ({m.Underlying})")),
                taker.AccountId);

            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.DemoTickMillis), clock);
            bool first = true;
            do
            {
                if (!first)
                {
                    for (int i = 0; i < feeds.Count; i++)
                    {
                        await oracles[i].ReportAsync(feeds[i].Step(), stoppingToken);
                        await oracles[i].PublishSurfaceIfDueAsync(stoppingToken);
                    }
                }

                first = false;
                foreach (var maker in makers)
                {
                    await maker.RequoteAsync(stoppingToken);
                }

                if (random.NextDouble() < TakerChance)
                {
                    await taker.TradeAsync(stoppingToken);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (SequencerStoppedException)
        {
        }
        catch (Exception ex)
        {
            // The demo is a convenience: if it fails, say so and let the venue keep serving.
            logger.LogError(ex, "The demo market stopped.");
        }
    }
}
