using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>The trading and account methods (private/buy, sell, edit, cancel…, positions, account summaries) and the user channels.</summary>
public static class TradingServices
{
    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<OrderTracker>();
        services.AddSingleton<UserChannels>();
        services.AddSingleton<IChannelProvider>(sp => sp.GetRequiredService<UserChannels>());
        services.AddSingleton<IRpcModule, TradingModule>();
        services.AddSingleton<IRpcModule, AccountModule>();
        services.AddHostedService<OrderTrackerStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<UserChannels>());
    }
}

/// <summary>
/// Puts the <see cref="OrderTracker"/> in front of the engine before it starts: in
/// <see cref="StartingAsync"/>, which the host runs for every lifecycle service before any hosted
/// service's <c>StartAsync</c> (the sequencer's included), it adds the tracker as an observer and
/// queues the seed of open orders as the first item of the engine's queue — so the tracker sees the
/// recovered state and then every command, with nothing in between.
/// </summary>
internal sealed class OrderTrackerStartup(Sequencer sequencer, OrderTracker tracker, UserChannels channels, ILogger<OrderTrackerStartup> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        tracker.Attach(channels);
        sequencer.AddObserver(tracker);
        _ = SeedAsync();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SeedAsync()
    {
        try
        {
            await sequencer.QueryAsync(engine =>
            {
                tracker.Seed(engine);
                return 0;
            }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not seed the open orders of the Deribit API's order tracker.");
        }
    }
}
