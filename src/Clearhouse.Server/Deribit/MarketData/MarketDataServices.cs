namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>Public market data (currencies, instruments, book, ticker, trades) and the subscription channels.</summary>
public static class MarketDataServices
{
    public static void Add(IServiceCollection services)
    {
    }
}
