namespace Clearhouse.Server.Deribit.Trading;

/// <summary>The trading and account methods (private/buy, sell, edit, cancel…, positions, account summaries).</summary>
public static class TradingServices
{
    public static void Add(IServiceCollection services)
    {
    }
}
