using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// The auth part of the Deribit API (docs/api.md): API keys (<see cref="ApiKeyStore"/>),
/// tokens (<see cref="AccessTokens"/>), replay protection (<see cref="ReplayGuard"/>), the
/// credential checks (<see cref="DeribitAuthenticator"/>), rate limits
/// (<see cref="TokenBucketRateLimiter"/>), <c>public/auth</c> and <c>private/logout</c>
/// (<see cref="AuthModule"/>), cancel on disconnect (<see cref="CancelOnDisconnectModule"/>), the
/// demo's key (<see cref="DemoApiKey"/>) and the operator's (<see cref="OperatorApiKey"/>).
/// </summary>
public static class AuthServices
{
    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ReplayGuard>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<DeribitAuthenticator>();
        services.AddSingleton<IApiAuthenticator>(sp => sp.GetRequiredService<DeribitAuthenticator>());
        services.AddSingleton<IRateLimiter, TokenBucketRateLimiter>();
        services.AddSingleton<WebSocketSessions>();
        services.AddSingleton<IRpcModule, AuthModule>();
        services.AddSingleton<IRpcModule, CancelOnDisconnectModule>();
        services.AddSingleton<DemoApiKey>();
        services.AddHostedService<AuthStartup>();
        services.AddHostedService<OperatorApiKey>();
    }
}
