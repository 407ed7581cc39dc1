using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>An access and refresh token pair as <c>public/auth</c> answers it.</summary>
public sealed record IssuedTokens(string AccessToken, long AccessExpiresMicros, string RefreshToken, ApiPrincipal Principal);

/// <summary>
/// The access and refresh tokens handed out by <c>public/auth</c>. A token is
/// <c>{id}.{secret}</c>: the id (random, not secret) finds it in memory, the secret (256 random
/// bits) is compared in constant time, so a lookup never reveals how much of a guess was right.
/// Tokens carry the principal they were issued for, possibly with fewer scopes than the key
/// (<c>scope</c> parameter); they stop working when they expire, when their key is revoked, and
/// when the server restarts (they are kept in memory only — clients sign in again).
/// A refresh token works once: using it replaces it with a new pair.
/// </summary>
public sealed class AccessTokens(ApiKeyStore keys, ServerOptions options)
{
    private const int IdBytes = 9;
    private const int SecretBytes = 32;

    /// <summary>Issues after which expired tokens are swept out.</summary>
    private const int SweepEveryIssues = 1024;

    private readonly ConcurrentDictionary<string, Grant> access = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Grant> refresh = new(StringComparer.Ordinal);
    private int issues;

    public long AccessLifetimeMicros { get; } = options.AccessTokenSeconds * 1_000_000L;

    public long RefreshLifetimeMicros { get; } = options.RefreshTokenSeconds * 1_000_000L;

    /// <summary>A new pair for <paramref name="principal"/>.</summary>
    public IssuedTokens Issue(ApiPrincipal principal, long nowMicros)
    {
        if (Interlocked.Increment(ref issues) % SweepEveryIssues == 0)
        {
            Sweep(nowMicros);
        }

        string accessToken = Add(access, principal, nowMicros + AccessLifetimeMicros);
        string refreshToken = Add(refresh, principal, nowMicros + RefreshLifetimeMicros);
        return new IssuedTokens(accessToken, nowMicros + AccessLifetimeMicros, refreshToken, principal);
    }

    /// <summary>The caller an access token stands for; throws 13009 when it is unknown, expired or its key was revoked.</summary>
    public ApiPrincipal Validate(string accessToken, long nowMicros) =>
        Find(access, accessToken, nowMicros, remove: false, "access token");

    /// <summary>Uses a refresh token up (it cannot be used again) and returns the caller it was issued for.</summary>
    public ApiPrincipal Redeem(string refreshToken, long nowMicros) =>
        Find(refresh, refreshToken, nowMicros, remove: true, "refresh token");

    /// <summary>The caller a refresh token stands for, leaving it unused; throws 13009 as <see cref="Redeem"/> would.</summary>
    public ApiPrincipal PeekRefresh(string refreshToken, long nowMicros) =>
        Find(refresh, refreshToken, nowMicros, remove: false, "refresh token");

    /// <summary>Ends tokens now (logout); unknown tokens are ignored.</summary>
    public void Revoke(string? accessToken, string? refreshToken)
    {
        if (accessToken is not null && Split(accessToken) is { } a)
        {
            access.TryRemove(a.Id, out _);
        }

        if (refreshToken is not null && Split(refreshToken) is { } r)
        {
            refresh.TryRemove(r.Id, out _);
        }
    }

    private static string Add(ConcurrentDictionary<string, Grant> table, ApiPrincipal principal, long expiresMicros)
    {
        while (true)
        {
            string id = ApiKeyStore.RandomText(IdBytes);
            string secret = ApiKeyStore.RandomText(SecretBytes);
            if (table.TryAdd(id, new Grant(Encoding.ASCII.GetBytes(secret), principal, expiresMicros)))
            {
                return $"{id}.{secret}";
            }
        }
    }

    private ApiPrincipal Find(ConcurrentDictionary<string, Grant> table, string token, long nowMicros, bool remove, string what)
    {
        if (Split(token) is not { } parts || !table.TryGetValue(parts.Id, out var grant)
            || !CryptographicOperations.FixedTimeEquals(grant.Secret, Encoding.ASCII.GetBytes(parts.Secret)))
        {
            throw Unauthorized($"The {what} is not valid: it is unknown, was already used, or was issued before the server restarted. Call public/auth again.");
        }

        if (grant.ExpiresMicros < nowMicros)
        {
            table.TryRemove(parts.Id, out _);
            throw Unauthorized($"The {what} expired; call public/auth again.");
        }

        // Redeeming removes the entry first, so that two concurrent uses cannot both succeed.
        if (remove && !table.TryRemove(new KeyValuePair<string, Grant>(parts.Id, grant)))
        {
            throw Unauthorized($"The {what} was already used; call public/auth again.");
        }

        if (!keys.TryGet(grant.Principal.ClientId, out _))
        {
            throw Unauthorized($"The API key '{grant.Principal.ClientId}' of this {what} was revoked.");
        }

        return grant.Principal;
    }

    private static (string Id, string Secret)? Split(string token)
    {
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        return dot <= 0 || dot == token.Length - 1 ? null : (token[..dot], token[(dot + 1)..]);
    }

    private void Sweep(long nowMicros)
    {
        foreach (var table in (ConcurrentDictionary<string, Grant>[])[access, refresh])
        {
            foreach (var (id, grant) in table)
            {
                if (grant.ExpiresMicros < nowMicros)
                {
                    table.TryRemove(id, out _);
                }
            }
        }
    }

    private static Rpc.RpcException Unauthorized(string reason) => Rpc.RpcError.Unauthorized(reason).ToException();

    private sealed record Grant(byte[] Secret, ApiPrincipal Principal, long ExpiresMicros);
}
