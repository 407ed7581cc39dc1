using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.MarketData;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Trading;
using Clearhouse.Server.Deribit.Transport;

namespace Clearhouse.Server.Deribit;

/// <summary>
/// The Deribit-compatible API (docs/api.md): JSON-RPC 2.0 over HTTP (<c>/api/v2/...</c>) and
/// WebSocket (<c>/ws/api/v2</c>), in front of the same sequencer as the native API. Its parts:
/// the transport (<see cref="DeribitHttp"/>, <see cref="DeribitWebSocket"/>), the dispatcher
/// (<see cref="RpcDispatcher"/>: method lookup, auth, scopes, rate limits) and the method modules
/// — auth (<see cref="AuthServices"/>), trading and account (<see cref="TradingServices"/>),
/// market data and subscriptions (<see cref="MarketDataServices"/>), system (<see cref="SystemModule"/>).
/// </summary>
public static class DeribitApi
{
    public const string WebSocketPath = "/ws/api/v2";

    public static IServiceCollection AddDeribitApi(this IServiceCollection services)
    {
        services.AddSingleton<DeribitConnections>();
        services.AddSingleton<RpcMethodTable>();
        services.AddSingleton<RpcDispatcher>();
        services.AddSingleton<IRpcModule, SystemModule>();
        AuthServices.Add(services);
        TradingServices.Add(services);
        MarketDataServices.Add(services);
        return services;
    }

    public static WebApplication MapDeribitApi(this WebApplication app)
    {
        app.UseWebSockets();
        DeribitHttp.Map(app);
        app.Map(WebSocketPath, (HttpContext http, RpcDispatcher dispatcher, DeribitConnections connections, ILoggerFactory loggers) =>
            DeribitWebSocket.HandleAsync(http, dispatcher, connections, loggers.CreateLogger("Clearhouse.Deribit.WebSocket"))).ExcludeFromDescription();
        return app;
    }
}
