using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// Checks the credentials Deribit clients send (docs/api.md):
/// <list type="bullet">
/// <item><c>Authorization: deri-hmac-sha256 id=ID,ts=MS,sig=HEX,nonce=NONCE</c> (how ccxt signs every
/// private REST call): <c>sig = hex(HMAC-SHA256(secret, ts\nnonce\nMETHOD\nURI\nbody\n))</c>, URI
/// being the path and query exactly as sent; the timestamp must be within the window and the
/// signature not seen before (<see cref="ReplayGuard"/>);</item>
/// <item><c>Authorization: Bearer TOKEN</c> and the <c>access_token</c> parameter (<see cref="AccessTokens"/>);</item>
/// <item><c>Authorization: Basic base64(client_id:client_secret)</c>.</item>
/// </list>
/// No credential gives null (public methods run; private ones are refused with 13009). A wrong
/// key, secret or signature is 13004 <c>invalid_credentials</c>; an expired, replayed or malformed
/// credential is 13009 <c>unauthorized</c>. Every secret, signature and token is compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>.
/// </summary>
public sealed class DeribitAuthenticator(ApiKeyStore keys, AccessTokens tokens, ReplayGuard replays) : IApiAuthenticator
{
    public const string SignatureScheme = "deri-hmac-sha256";

    /// <summary>Longest nonce accepted (Deribit does not say; ccxt's is 13 digits).</summary>
    public const int MaxNonceLength = 128;

    public ValueTask<ApiPrincipal?> AuthenticateHttpAsync(HttpCredentials credentials, long nowMicros)
    {
        if (credentials.Authorization is not { } header)
        {
            return ValueTask.FromResult<ApiPrincipal?>(null);
        }

        header = header.Trim();
        int space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            throw Malformed("The Authorization header must be 'deri-hmac-sha256 id=...,ts=...,sig=...,nonce=...', 'Bearer TOKEN' or 'Basic BASE64'.");
        }

        string scheme = header[..space];
        string value = header[(space + 1)..].Trim();
        if (scheme.Equals(SignatureScheme, StringComparison.OrdinalIgnoreCase))
        {
            return CheckSignedRequestAsync(value, credentials, nowMicros);
        }

        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult<ApiPrincipal?>(ValidateAccessToken(value, nowMicros));
        }

        if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult<ApiPrincipal?>(CheckBasic(value));
        }

        throw Malformed($"The Authorization scheme '{scheme}' is not supported: use deri-hmac-sha256, Bearer or Basic.");
    }

    public ApiPrincipal ValidateAccessToken(string accessToken, long nowMicros) => tokens.Validate(accessToken, nowMicros);

    /// <summary>The key with <paramref name="clientId"/> if <paramref name="clientSecret"/> is its secret; 13004 otherwise.</summary>
    public ApiKey CheckSecret(string clientId, string clientSecret)
    {
        var key = FindKey(clientId);
        return key.SecretMatches(clientSecret) ? key : throw InvalidCredentials($"The client secret is not the secret of API key '{clientId}'.");
    }

    /// <summary>
    /// Checks a <c>client_signature</c> grant: <c>signature = hex(HMAC-SHA256(secret, timestamp\nnonce\ndata))</c>,
    /// the timestamp within the window and the signature not used before (durably: the task
    /// completes once its nonce is on disk).
    /// </summary>
    public async ValueTask<ApiKey> CheckClientSignatureAsync(string clientId, long timestampMillis, string nonce, string data, string signatureHex, long nowMicros)
    {
        var key = FindKey(clientId);
        CheckTimestamp(timestampMillis, nowMicros);
        CheckNonce(nonce);
        byte[] presented = DecodeSignature(signatureHex);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.SecretBytes);
        hmac.AppendData(Encoding.UTF8.GetBytes($"{timestampMillis.ToString(CultureInfo.InvariantCulture)}\n{nonce}\n{data}"));
        Verify(hmac, presented, clientId);
        await RememberAsync(key, timestampMillis, nonce, presented, nowMicros).ConfigureAwait(false);
        return key;
    }

    private async ValueTask<ApiPrincipal?> CheckSignedRequestAsync(string value, HttpCredentials credentials, long nowMicros)
    {
        string? id = null, ts = null, sig = null, nonce = null;
        foreach (string part in value.Split(','))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Malformed($"The {SignatureScheme} header has a part without a value: '{Shorten(part.Trim())}'. Expected id=...,ts=...,sig=...,nonce=....");
            }

            string field = part[(equals + 1)..].Trim();
            switch (part[..equals].Trim())
            {
                case "id":
                    SetOnce(ref id, field, "id");
                    break;
                case "ts":
                    SetOnce(ref ts, field, "ts");
                    break;
                case "sig":
                    SetOnce(ref sig, field, "sig");
                    break;
                case "nonce":
                    SetOnce(ref nonce, field, "nonce");
                    break;
                default:
                    break; // as with unknown parameters, extras are ignored
            }
        }

        if (id is null || ts is null || sig is null || nonce is null)
        {
            string missing = string.Join(", ", new[] { ("id", id), ("ts", ts), ("sig", sig), ("nonce", nonce) }.Where(p => p.Item2 is null).Select(p => p.Item1));
            throw Malformed($"The {SignatureScheme} header lacks {missing}.");
        }

        if (!long.TryParse(ts, NumberStyles.None, CultureInfo.InvariantCulture, out long timestampMillis))
        {
            throw Malformed($"ts must be the time in milliseconds since 1970, not '{Shorten(ts)}'.");
        }

        var key = FindKey(id);
        CheckTimestamp(timestampMillis, nowMicros);
        CheckNonce(nonce);
        byte[] presented = DecodeSignature(sig);

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.SecretBytes);
        hmac.AppendData(Encoding.UTF8.GetBytes($"{ts}\n{nonce}\n{credentials.HttpMethod.ToUpperInvariant()}\n{credentials.PathAndQuery}\n"));
        hmac.AppendData(credentials.Body.Span);
        hmac.AppendData("\n"u8);
        Verify(hmac, presented, id);
        await RememberAsync(key, timestampMillis, nonce, presented, nowMicros).ConfigureAwait(false);
        return key.Principal;
    }

    private static void SetOnce(ref string? slot, string value, string name)
    {
        if (slot is not null)
        {
            throw Malformed($"The {SignatureScheme} header gives '{name}' twice.");
        }

        slot = value;
    }

    private ApiPrincipal CheckBasic(string value)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value));
        }
        catch (FormatException)
        {
            throw Malformed("A Basic Authorization header must carry base64(client_id:client_secret).");
        }

        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw Malformed("A Basic Authorization header must carry base64(client_id:client_secret).");
        }

        return CheckSecret(decoded[..colon], decoded[(colon + 1)..]).Principal;
    }

    private ApiKey FindKey(string clientId) =>
        keys.TryGet(clientId, out var key) ? key : throw InvalidCredentials($"There is no API key with client id '{Shorten(clientId)}'.");

    private void CheckTimestamp(long timestampMillis, long nowMicros)
    {
        if (!replays.IsWithinWindow(timestampMillis, nowMicros))
        {
            throw Malformed(
                $"The timestamp {timestampMillis} is {Math.Abs((nowMicros / 1000) - timestampMillis) / 1000.0:0.###} s from the server's clock ({nowMicros / 1000}); "
                + $"a signature is valid for {replays.WindowMicros / 1_000_000} s. Sign with the current time.");
        }
    }

    private static void CheckNonce(string nonce)
    {
        if (nonce.Length == 0 || nonce.Length > MaxNonceLength)
        {
            throw Malformed($"The nonce must be 1 to {MaxNonceLength} characters.");
        }
    }

    private static byte[] DecodeSignature(string hex)
    {
        // Not a signature at all: a malformed credential (13009), not a wrong one (13004).
        if (hex.Length != 64)
        {
            throw Malformed("The signature must be 64 hexadecimal digits (HMAC-SHA256).");
        }

        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw Malformed("The signature must be 64 hexadecimal digits (HMAC-SHA256).");
        }
    }

    private static void Verify(IncrementalHash hmac, byte[] presented, string clientId)
    {
        Span<byte> expected = stackalloc byte[32];
        hmac.GetHashAndReset(expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            throw InvalidCredentials($"The signature does not match the request signed with the secret of API key '{clientId}': check the secret, and that the method, path, query and body signed are those sent.");
        }
    }

    private async ValueTask RememberAsync(ApiKey key, long timestampMillis, string nonce, byte[] signature, long nowMicros)
    {
        if (!await replays.TryUseAsync(key.ClientId, timestampMillis, nonce, signature, nowMicros).ConfigureAwait(false))
        {
            throw Malformed($"This signed request (ts {timestampMillis}, nonce '{Shorten(nonce)}') was already used: a signature is accepted once. Sign again with a new nonce.");
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static RpcException Malformed(string reason) => RpcError.Unauthorized(reason).ToException();

    private static RpcException InvalidCredentials(string reason) => RpcError.InvalidCredentials(reason).ToException();
}
