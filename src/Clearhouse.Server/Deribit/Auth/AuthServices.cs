using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>PLACEHOLDER until the auth module lands: no credential is valid, no rate limit.</summary>
public static class AuthServices
{
    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<IApiAuthenticator, NoCredentials>();
        services.AddSingleton<IRateLimiter, Unlimited>();
    }

    private sealed class NoCredentials : IApiAuthenticator
    {
        public ApiPrincipal? AuthenticateHttp(HttpCredentials credentials, long nowMicros) =>
            credentials.Authorization is null ? null : throw RpcError.InvalidCredentials("No API keys are configured.").ToException();

        public ApiPrincipal ValidateAccessToken(string accessToken, long nowMicros) =>
            throw RpcError.InvalidCredentials("No API keys are configured.").ToException();
    }

    private sealed class Unlimited : IRateLimiter
    {
        public RpcError? TryAcquire(RpcContext context, RateClass rateClass, long nowMicros) => null;
    }
}
