using Clearhouse.Core.Engine;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Genesis;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// The demo market, on unless <c>--demo false</c>: every <see cref="ServerOptions.DemoTickMillis"/>
/// it moves each underlying's price one random-walk step, which five simulated reporters sign and
/// submit (<see cref="DemoOracle"/>: the index is the median of their reports, and a signed
/// volatility surface gives the options their marks), lets one market maker per underlying
/// re-quote its perpetual, futures and options, and now and then lets a taker cross the spread
/// (futures and options) and a trader with an isolated perpetual position trade. The accounts use
/// every margin mode: the BTC maker is on portfolio margin (<see cref="PortfolioMarginUnderlying"/>),
/// the ETH maker and the taker on standard margin, the isolated trader isolates its
/// <see cref="IsolatedInstrument"/> position. Liquidations happen too: the index jumps now and
/// then (<see cref="RandomWalkIndex.JumpEverySteps"/>) and two gamblers hold
/// <see cref="GamblerInstrument"/> at about 45× leverage, one long and one short
/// (<see cref="DemoGambler"/>), so every jump liquidates one of them; on a fresh venue the demo
/// puts <see cref="InsuranceFunding"/> into the insurance fund first, so that the fund can take over
/// what the book does not absorb. Its accounts are created and funded through commands at first
/// start, like any client's, and found again after a restart (<see cref="DemoAccounts"/>). It also
/// opens a funded account for API clients and prints its key (<see cref="DemoApiKey"/>).
/// </summary>
public sealed class DemoMarket(Sequencer sequencer, VenueGenesis genesis, ServerOptions options, TimeProvider clock, DemoApiKey demoApiKey, ILogger<DemoMarket> logger) : BackgroundService
{
    public static readonly Money MakerFunding = Money.FromWhole(10_000_000);
    public static readonly Money TakerFunding = Money.FromWhole(1_000_000);
    public static readonly Money IsolatedTraderFunding = Money.FromWhole(250_000);

    /// <summary>Chance per tick that the taker trades.</summary>
    public const double TakerChance = 0.35;

    /// <summary>Chance per tick that the isolated trader trades.</summary>
    public const double IsolatedTraderChance = 0.2;

    /// <summary>The underlying whose market maker uses portfolio margin.</summary>
    public const string PortfolioMarginUnderlying = "BTC";

    /// <summary>The instrument the isolated trader holds an isolated position in.</summary>
    public const string IsolatedInstrument = "BTC_USDC-PERPETUAL";

    /// <summary>The instrument the gamblers bet on.</summary>
    public const string GamblerInstrument = "BTC_USDC-PERPETUAL";

    /// <summary>What the demo deposits into the insurance fund on a fresh venue (a governance <c>DepositInsuranceFund</c>).</summary>
    public static readonly Money InsuranceFunding = Money.FromWhole(1_000_000);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await genesis.Listed.WaitAsync(stoppingToken);
            if (genesis.Fresh)
            {
                var funded = await sequencer.SubmitAsync(new DepositInsuranceFund(InsuranceFunding), stoppingToken);
                if (!funded.IsAccepted)
                {
                    logger.LogWarning("Demo: the insurance fund deposit was refused ({Reason}).", funded.Reason);
                }
            }

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
            await demoApiKey.SetUpAsync(accounts, stoppingToken);
            var makers = new List<DemoMarketMaker>();
            foreach (var feed in feeds)
            {
                int makerAccount = await accounts.FindOrOpenAsync($"maker-{feed.Underlying}", MakerFunding, stoppingToken);
                var mode = feed.Underlying == PortfolioMarginUnderlying ? MarginMode.Portfolio : MarginMode.Standard;
                await EnsureMarginModeAsync(makerAccount, mode, stoppingToken);
                makers.Add(new DemoMarketMaker(sequencer, makerAccount, feed.Underlying, logger));
            }

            var taker = new DemoTaker(sequencer, await accounts.FindOrOpenAsync("taker", TakerFunding, stoppingToken), random, logger);
            var isolatedTrader = new DemoIsolatedTrader(sequencer, await accounts.FindOrOpenAsync("isolated-trader", IsolatedTraderFunding, stoppingToken), IsolatedInstrument, random, logger);
            await isolatedTrader.SetUpAsync(stoppingToken);
            DemoGambler[] gamblers =
            [
                new(sequencer, await accounts.FindOrOpenAsync("gambler-long", DemoGambler.Stake, stoppingToken), GamblerInstrument, Side.Buy, logger),
                new(sequencer, await accounts.FindOrOpenAsync("gambler-short", DemoGambler.Stake, stoppingToken), GamblerInstrument, Side.Sell, logger),
            ];
            logger.LogInformation(
                "Demo market on: signed oracle reports (5 reporters per underlying) of a random walk with a jump every {Jump} steps, every {Tick} ms, market makers on accounts {Makers}, taker on account {Taker} (standard margin), isolated {Instrument} trader on account {Isolated}, {Leverage}x gamblers on accounts {Long} (long) and {Short} (short).",
                RandomWalkIndex.JumpEverySteps,
                options.DemoTickMillis,
                string.Join(", ", makers.Select(m => $"{m.AccountId} ({m.Underlying}, {(m.Underlying == PortfolioMarginUnderlying ? "portfolio" : "standard")} margin)")),
                taker.AccountId,
                IsolatedInstrument,
                isolatedTrader.AccountId,
                DemoGambler.LeverageTarget,
                gamblers[0].AccountId,
                gamblers[1].AccountId);

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

                if (random.NextDouble() < IsolatedTraderChance)
                {
                    await isolatedTrader.TradeAsync(stoppingToken);
                }

                foreach (var gambler in gamblers)
                {
                    await gambler.TurnAsync(stoppingToken);
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

    /// <summary>Puts a demo account in <paramref name="mode"/> unless it already is (a restarted demo finds it so).</summary>
    private async Task EnsureMarginModeAsync(int accountId, MarginMode mode, CancellationToken ct)
    {
        var current = await sequencer.QueryAsync(e => e.TryGetAccount(accountId, out var account) ? account.MarginMode : MarginMode.Standard, ct);
        if (current == mode)
        {
            return;
        }

        var result = await sequencer.SubmitAsync(new SetMarginMode(accountId, mode), ct);
        if (!result.IsAccepted)
        {
            logger.LogWarning("Demo account {Account}: could not switch to {Mode} margin ({Reason}).", accountId, mode, result.Reason);
        }
    }
}
