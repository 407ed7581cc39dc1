namespace Clearhouse.Server.Deribit.Auth;

/// <summary>What an API key may do. A method names the one scope it needs (<see cref="Rpc.RpcMethod.Scope"/>).</summary>
[Flags]
public enum ApiScopes
{
    None = 0,

    /// <summary>Read the account: orders, trades, positions, balances, private subscriptions.</summary>
    Read = 1,

    /// <summary>Place, edit and cancel orders.</summary>
    Trade = 2,

    /// <summary>Move funds out of the account.</summary>
    Withdraw = 4,
}

/// <summary>Who is calling: the API key (its client id), the venue account it trades for, and what it may do.</summary>
public sealed record ApiPrincipal(string ClientId, int AccountId, ApiScopes Scopes)
{
    public bool Allows(ApiScopes needed) => (Scopes & needed) == needed;
}

/// <summary>What a signed HTTP request brings to be checked: the method, the path and query as sent, the body, the Authorization header.</summary>
public readonly record struct HttpCredentials(string HttpMethod, string PathAndQuery, ReadOnlyMemory<byte> Body, string? Authorization);

/// <summary>
/// Checks credentials. <see cref="AuthenticateHttpAsync"/> reads an HTTP request's Authorization header
/// (<c>deri-hmac-sha256</c> signature or <c>Bearer</c> token); <see cref="ValidateAccessToken"/> checks a token
/// given as the <c>access_token</c> parameter. Both return null when no credential was given at all
/// and throw an <see cref="Rpc.RpcException"/> (13004/13009) when one was given and is wrong.
/// A signed request's check completes only once its nonce is durable, without blocking the caller.
/// </summary>
public interface IApiAuthenticator
{
    ValueTask<ApiPrincipal?> AuthenticateHttpAsync(HttpCredentials credentials, long nowMicros);

    ApiPrincipal ValidateAccessToken(string accessToken, long nowMicros);
}
