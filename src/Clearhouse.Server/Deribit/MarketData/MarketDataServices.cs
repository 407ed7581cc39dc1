using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>Public market data (currencies, instruments, book, ticker, trades), subscriptions, heartbeats and the market data channels.</summary>
public static class MarketDataServices
{
    public static void Add(IServiceCollection services)
    {
        // The tape watches every command from before the sequencer starts: resolving it (the feed,
        // a hosted service, does at host start) adds it as an observer.
        services.AddSingleton(sp =>
        {
            var tape = new PublicTradeTape();
            sp.GetRequiredService<Sequencer>().AddObserver(tape);
            return tape;
        });
        services.AddSingleton(sp => new HeartbeatMonitor(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<HeartbeatMonitor>>())
        {
            MinimumIntervalSeconds = sp.GetRequiredService<IConfiguration>().GetValue("Deribit:MinHeartbeatSeconds", HeartbeatMonitor.DefaultMinimumIntervalSeconds),
        });
        services.AddSingleton<MarketDataFeed>();
        services.AddSingleton<IChannelProvider>(sp => sp.GetRequiredService<MarketDataFeed>());
        services.AddHostedService(sp => sp.GetRequiredService<MarketDataFeed>());
        services.AddSingleton<IRpcModule, MarketDataModule>();
        services.AddSingleton<IRpcModule, SubscriptionModule>();
    }
}
