using System.Collections.Frozen;
using System.Globalization;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// <c>public/auth</c> (grants <c>client_credentials</c>, <c>client_signature</c>,
/// <c>refresh_token</c>), <c>private/logout</c> and <c>private/list_api_keys</c>. Over WebSocket a successful <c>public/auth</c>
/// authenticates the whole connection, as on Deribit; over HTTP the client sends the access token
/// it got (<c>Authorization: Bearer</c> or <c>access_token</c>). See docs/api.md.
/// </summary>
public sealed class AuthModule(DeribitAuthenticator authenticator, AccessTokens tokens, ApiKeyStore keys, WebSocketSessions sessions) : IRpcModule
{
    private static readonly FrozenDictionary<string, GrantType> GrantTypes = new Dictionary<string, GrantType>
    {
        ["client_credentials"] = GrantType.ClientCredentials,
        ["client_signature"] = GrantType.ClientSignature,
        ["refresh_token"] = GrantType.RefreshToken,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public IEnumerable<RpcMethod> Methods() =>
    [
        // A client_signature grant waits for its nonce to reach the disk; calls behind it on the connection wait for it.
        new("public/auth", ApiScopes.None, RateClass.MarketData, Auth) { SessionChanging = true },
        new("private/logout", ApiScopes.None, RateClass.MarketData, Logout) { WebSocketOnly = true },
        new("private/list_api_keys", ApiScopes.Read, RateClass.Trading, ListApiKeys),
    ];

    /// <summary>The keys of the caller's account, without their secrets (unlike Deribit, which shows them).</summary>
    private ValueTask<object?> ListApiKeys(RpcContext context, RpcParams parameters)
    {
        int accountId = context.Caller.AccountId;
        var views = new List<ApiKeyView>();
        foreach (var key in keys.All)
        {
            if (key.AccountId == accountId)
            {
                views.Add(new ApiKeyView(key.ClientId, key.Name, DeribitScopes.Format(key.Scopes), Enabled: true, key.CreatedMillis));
            }
        }

        return ValueTask.FromResult<object?>(views);
    }

    private async ValueTask<object?> Auth(RpcContext context, RpcParams parameters)
    {
        var grant = parameters.Choice("grant_type", GrantTypes, required: true)!.Value;
        var requested = DeribitScopes.Parse(parameters.String("scope", maxLength: 1024));
        long now = context.UsIn;
        ApiPrincipal principal = grant switch
        {
            GrantType.ClientCredentials => authenticator.CheckSecret(
                parameters.String("client_id", required: true, maxLength: 128)!,
                parameters.String("client_secret", required: true, maxLength: 256)!).Principal,
            GrantType.ClientSignature => (await authenticator.CheckClientSignatureAsync(
                parameters.String("client_id", required: true, maxLength: 128)!,
                parameters.Integer("timestamp", 0, 9_000_000_000_000, required: true)!.Value,
                TextOrNumber(parameters, "nonce", DeribitAuthenticator.MaxNonceLength),
                parameters.String("data", maxLength: 4096) ?? "",
                parameters.String("signature", required: true, maxLength: 128)!,
                now)).Principal,
            _ => RedeemRefreshToken(parameters.String("refresh_token", required: true, maxLength: 256)!, requested, now),
        };

        principal = Narrow(principal, requested);

        var issued = tokens.Issue(principal, now);
        if (context.Connection is { } connection)
        {
            connection.Principal = principal;
            sessions.For(connection).Issued(issued);
        }

        context.Principal = principal;
        return new AuthResult(
            issued.AccessToken,
            (issued.AccessExpiresMicros - now) / 1_000_000,
            issued.RefreshToken,
            DeribitScopes.Format(principal.Scopes),
            "bearer");
    }

    /// <summary>Checks the narrowing first, so that a refused refresh does not use the refresh token up.</summary>
    private ApiPrincipal RedeemRefreshToken(string refreshToken, ApiScopes? requested, long now)
    {
        Narrow(tokens.PeekRefresh(refreshToken, now), requested);
        return tokens.Redeem(refreshToken, now);
    }

    /// <summary>The principal with only the scopes asked for (all, when none were); -32602 when that leaves none.</summary>
    private static ApiPrincipal Narrow(ApiPrincipal principal, ApiScopes? requested)
    {
        if (requested is not { } narrowed)
        {
            return principal;
        }

        var scopes = principal.Scopes & narrowed;
        return scopes != ApiScopes.None
            ? principal with { Scopes = scopes }
            : throw RpcError.InvalidParams("scope", $"The scope asked for grants nothing that API key '{principal.ClientId}' may do (it has {DeribitScopes.Format(principal.Scopes)}).").ToException();
    }

    /// <summary>
    /// Deribit's <c>private/logout</c>: ends the connection's tokens (unless
    /// <c>invalidate_token</c> is false) and closes the connection without cancelling orders even
    /// when cancel-on-disconnect is on. Like Deribit's, it has no answer: the socket closes.
    /// </summary>
    private ValueTask<object?> Logout(RpcContext context, RpcParams parameters)
    {
        bool invalidate = parameters.Bool("invalidate_token") ?? true;
        var connection = context.Connection!;
        var session = sessions.For(connection);
        session.DisableCancelOnDisconnect();
        if (invalidate)
        {
            foreach (var issued in session.TakeIssued())
            {
                tokens.Revoke(issued.AccessToken, issued.RefreshToken);
            }
        }

        connection.Principal = null;
        connection.Abort("logout");
        return ValueTask.FromResult<object?>("ok");
    }

    /// <summary>A parameter that some clients send as a string and others as a number (the nonce).</summary>
    private static string TextOrNumber(RpcParams parameters, string name, int maxLength)
    {
        try
        {
            return parameters.String(name, required: true, maxLength: maxLength)!;
        }
        catch (RpcException)
        {
            return parameters.Integer(name, long.MinValue, long.MaxValue, required: true)!.Value.ToString(CultureInfo.InvariantCulture);
        }
    }

    private enum GrantType
    {
        ClientCredentials,
        ClientSignature,
        RefreshToken,
    }

    /// <summary>One key as <c>private/list_api_keys</c> shows it (Deribit's field names).</summary>
    public sealed record ApiKeyView(string ClientId, string Name, string MaxScope, bool Enabled, long Timestamp);

    /// <summary>What <c>public/auth</c> answers (Deribit's fields; <c>expires_in</c> in seconds).</summary>
    public sealed record AuthResult(string AccessToken, long ExpiresIn, string RefreshToken, string Scope, string TokenType);
}

/// <summary>
/// Deribit's scope strings and ours. A key's <see cref="ApiScopes.Read"/> is Deribit's
/// <c>account:read trade:read wallet:read</c>, <see cref="ApiScopes.Trade"/> is
/// <c>trade:read_write</c>, <see cref="ApiScopes.Withdraw"/> is <c>wallet:read_write</c>.
/// </summary>
public static class DeribitScopes
{
    /// <summary>
    /// The scopes a <c>scope</c> parameter asks for (null when absent): Deribit strings or our
    /// words, separated by spaces. A <c>read_write</c> scope includes reading, as on Deribit, and so
    /// do our <c>trade</c> and <c>withdraw</c>, which stand for <c>trade:read_write</c> and
    /// <c>wallet:read_write</c>. Session words Deribit allows (<c>connection</c>, <c>session:NAME</c>,
    /// <c>expires:N</c>, ...) grant nothing here and are ignored: a scope of nothing but those asks for
    /// no narrowing (null), as on Deribit, where <c>scope=session:bot</c> gets the key's scopes.
    /// Anything else is refused.
    /// </summary>
    public static ApiScopes? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var scopes = ApiScopes.None;
        bool asked = false;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (word is "connection" or "mainaccount" || IsIgnoredPrefix(word))
            {
                continue;
            }

            asked = true;
            scopes |= word switch
            {
                "read" or "account:read" or "account:read_write" or "trade:read" or "wallet:read" => ApiScopes.Read,
                "trade" or "trade:read_write" => ApiScopes.Trade | ApiScopes.Read,
                "withdraw" or "wallet:read_write" => ApiScopes.Withdraw | ApiScopes.Read,
                _ => throw RpcError.InvalidParams("scope", $"Unknown scope '{word}': use account:read, trade:read, trade:read_write, wallet:read, wallet:read_write (or read, trade, withdraw).").ToException(),
            };
        }

        return asked ? scopes : null;
    }

    /// <summary>Deribit's scope string for <paramref name="scopes"/>.</summary>
    public static string Format(ApiScopes scopes)
    {
        var words = new List<string>(3);
        if ((scopes & ApiScopes.Read) != 0)
        {
            words.Add("account:read");
        }

        if ((scopes & ApiScopes.Trade) != 0)
        {
            words.Add("trade:read_write");
        }
        else if ((scopes & ApiScopes.Read) != 0)
        {
            words.Add("trade:read");
        }

        if ((scopes & ApiScopes.Withdraw) != 0)
        {
            words.Add("wallet:read_write");
        }
        else if ((scopes & ApiScopes.Read) != 0)
        {
            words.Add("wallet:read");
        }

        return string.Join(' ', words);
    }

    private static bool IsIgnoredPrefix(string word) =>
        word.StartsWith("session:", StringComparison.Ordinal) || word.StartsWith("expires:", StringComparison.Ordinal)
        || word.StartsWith("name:", StringComparison.Ordinal) || word.StartsWith("block_trade:", StringComparison.Ordinal)
        || word.StartsWith("block_rfq:", StringComparison.Ordinal) || word.StartsWith("custody:", StringComparison.Ordinal);
}
