using System.Text;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Microsoft.Extensions.DependencyInjection;
using static Clearhouse.Server.Tests.Deribit.Auth.DeribitClient;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// HTTP credentials against the real server: the <c>deri-hmac-sha256</c> header as ccxt 4.5.84
/// builds it (deribit.ts <c>sign()</c>: nonce = ts = milliseconds, lowercase hex), Bearer tokens, the
/// <c>access_token</c> parameter and Basic credentials
/// (https://docs.deribit.com/#authentication). Every missing, wrong, expired, replayed or forged
/// credential is refused, with 13009 (unauthorized) or 13004 (invalid_credentials).
/// </summary>
public sealed class SignedRequestTests(AuthServer fixture) : IClassFixture<AuthServer>
{
    private const string ListKeys = "/api/v2/private/list_api_keys";

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task A_private_method_without_credentials_is_refused_with_13009()
    {
        string reason = AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, authorization: null));
        Assert.Contains("needs authentication", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_signed_as_ccxt_signs_it_runs_as_the_key_and_never_shows_a_secret()
    {
        var key = await Server.NewKeyAsync();
        var other = await Server.NewKeyAsync();

        var keys = AssertResult(await Server.SignedGetAsync(key, ListKeys + "?extended=true"));

        var only = Assert.Single(keys.EnumerateArray());
        Assert.Equal(key.ClientId, only.GetProperty("client_id").GetString());
        Assert.Equal("account:read trade:read_write wallet:read_write", only.GetProperty("max_scope").GetString());
        Assert.False(only.TryGetProperty("client_secret", out _));
        Assert.DoesNotContain(other.ClientId, keys.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_signed_with_a_wrong_secret_is_refused_with_13004()
    {
        var key = await Server.NewKeyAsync();
        string header = SignatureHeader(key.ClientId, key.ClientSecret + "x", "GET", ListKeys);

        AssertError(13004, await Server.CallAsync(HttpMethod.Get, ListKeys, header));
    }

    [Fact]
    public async Task An_unknown_client_id_is_refused_with_13004()
    {
        var key = await Server.NewKeyAsync();
        string header = SignatureHeader("nosuchkey", key.ClientSecret, "GET", ListKeys);

        string reason = AssertError(13004, await Server.CallAsync(HttpMethod.Get, ListKeys, header));
        Assert.Contains("no API key", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changing_the_query_after_signing_is_refused()
    {
        var key = await Server.NewKeyAsync();
        string header = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys + "?currency=BTC");

        AssertError(13004, await Server.CallAsync(HttpMethod.Get, ListKeys + "?currency=ETH", header));
    }

    [Fact]
    public async Task Changing_the_body_after_signing_is_refused()
    {
        var key = await Server.NewKeyAsync();
        string signed = """{"jsonrpc":"2.0","id":1,"method":"private/list_api_keys","params":{}}""";
        string sent = """{"jsonrpc":"2.0","id":2,"method":"private/list_api_keys","params":{}}""";
        string header = SignatureHeader(key.ClientId, key.ClientSecret, "POST", "/api/v2", signed);

        AssertError(13004, await Server.CallAsync(HttpMethod.Post, "/api/v2", header, sent));

        // The same body as signed goes through: the body is what the signature covers.
        string fresh = SignatureHeader(key.ClientId, key.ClientSecret, "POST", "/api/v2", signed);
        AssertResult(await Server.CallAsync(HttpMethod.Post, "/api/v2", fresh, signed));
    }

    [Fact]
    public async Task Changing_the_http_method_after_signing_is_refused()
    {
        var key = await Server.NewKeyAsync();
        string body = """{"jsonrpc":"2.0","id":1,"method":"private/list_api_keys","params":{}}""";
        string header = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys, body);

        AssertError(13004, await Server.CallAsync(HttpMethod.Post, ListKeys, header, body));
    }

    [Theory]
    [InlineData(-61)]
    [InlineData(-3600)]
    [InlineData(+61)]
    public async Task A_timestamp_outside_the_60_second_window_is_refused_with_13009(int secondsOff)
    {
        var key = await Server.NewKeyAsync();
        string header = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys, ts: NowMillis() + (secondsOff * 1000L));

        string reason = AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, header));
        Assert.Contains("valid for 60 s", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replayed_signed_request_is_refused_with_13009()
    {
        var key = await Server.NewKeyAsync();
        string header = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys);

        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys, header));
        string reason = AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, header));
        Assert.Contains("already used", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_different_requests_signed_in_the_same_millisecond_with_ccxts_nonce_both_run()
    {
        // ccxt's nonce is its millisecond clock, so parallel calls can share ts and nonce; only an
        // identical signature is a replay.
        var key = await Server.NewKeyAsync();
        long now = NowMillis();
        string first = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys + "?n=1", ts: now);
        string second = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys + "?n=2", ts: now);

        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys + "?n=1", first));
        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys + "?n=2", second));
    }

    [Theory]
    [InlineData("deri-hmac-sha256 id=abc,ts=123")]
    [InlineData("deri-hmac-sha256 id=a,id=b,ts=1,sig=00,nonce=1")]
    [InlineData("deri-hmac-sha256 nonsense")]
    [InlineData("Token abc")]
    [InlineData("deri-hmac-sha256")]
    public async Task A_malformed_authorization_header_is_refused_with_13009_even_on_a_public_method(string header)
    {
        AssertError(13009, await Server.CallAsync(HttpMethod.Get, "/api/v2/public/test", header));
    }

    [Theory]
    [InlineData("zz")]
    [InlineData("not-hex-not-hex-not-hex-not-hex-not-hex-not-hex-not-hex-not-hex-")]
    public async Task A_signature_that_is_not_64_hex_digits_is_malformed_and_refused_with_13009(string sig)
    {
        var key = await Server.NewKeyAsync();
        string header = $"deri-hmac-sha256 id={key.ClientId},ts={NowMillis()},sig={sig},nonce=1";

        string reason = AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, header));
        Assert.Contains("64 hexadecimal digits", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_signature_on_a_public_method_is_refused_too()
    {
        var key = await Server.NewKeyAsync();
        string header = SignatureHeader(key.ClientId, "wrong", "GET", "/api/v2/public/test");

        AssertError(13004, await Server.CallAsync(HttpMethod.Get, "/api/v2/public/test", header));
    }

    [Fact]
    public async Task Basic_credentials_work_and_a_wrong_secret_in_them_is_refused_with_13004()
    {
        var key = await Server.NewKeyAsync();
        string good = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.ClientId}:{key.ClientSecret}"));
        string bad = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.ClientId}:{key.ClientSecret[..^1]}"));

        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys, good));
        AssertError(13004, await Server.CallAsync(HttpMethod.Get, ListKeys, bad));
    }

    [Fact]
    public async Task A_client_credentials_token_works_as_bearer_header_and_as_access_token_parameter()
    {
        var key = await Server.NewKeyAsync();
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null));
        string token = auth.GetProperty("access_token").GetString()!;
        Assert.Equal("bearer", auth.GetProperty("token_type").GetString());
        Assert.Equal(900, auth.GetProperty("expires_in").GetInt64());
        Assert.Equal("account:read trade:read_write wallet:read_write", auth.GetProperty("scope").GetString());

        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys, "Bearer " + token));
        AssertResult(await Server.CallAsync(HttpMethod.Get, $"{ListKeys}?access_token={Uri.EscapeDataString(token)}", null));
        AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, "Bearer " + token[..^2] + "xx"));
        AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, "Bearer not-a-token"));
    }

    [Fact]
    public async Task Client_credentials_with_a_wrong_secret_are_refused_with_13004()
    {
        var key = await Server.NewKeyAsync();

        AssertError(13004, await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret=wrong", null));
    }

    [Fact]
    public async Task An_access_token_is_refused_once_it_expired()
    {
        var key = await Server.NewKeyAsync();
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null));
        string token = auth.GetProperty("access_token").GetString()!;
        var authenticator = Server.Services.GetRequiredService<IApiAuthenticator>();
        long issuedAround = Server.Services.GetRequiredService<RpcDispatcher>().NowMicros();

        Assert.Equal(key.ClientId, authenticator.ValidateAccessToken(token, issuedAround + 890_000_000).ClientId);
        var expired = Assert.Throws<RpcException>(() => authenticator.ValidateAccessToken(token, issuedAround + 901_000_000));
        Assert.Equal(13009, expired.Error.Code);
        Assert.Contains("expired", expired.Error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refresh_token_gives_a_new_pair_once_and_cannot_be_used_again()
    {
        // A key that may trade but not read: every scope word includes reading, so account:read is
        // one it has nothing of.
        var key = await Server.NewKeyAsync(ApiScopes.Trade);
        var first = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null));
        string refresh = first.GetProperty("refresh_token").GetString()!;

        // A refused refresh (a scope the key does not have) leaves the refresh token unused.
        AssertError(-32602, await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=refresh_token&scope=account:read&refresh_token={Uri.EscapeDataString(refresh)}", null));

        var second = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=refresh_token&refresh_token={Uri.EscapeDataString(refresh)}", null));
        string newAccess = second.GetProperty("access_token").GetString()!;
        Assert.NotEqual(first.GetProperty("access_token").GetString(), newAccess);
        Assert.NotEqual(refresh, second.GetProperty("refresh_token").GetString());
        AssertResult(await Server.CallAsync(HttpMethod.Get, "/api/v2/private/cancel_all", "Bearer " + newAccess));

        string reason = AssertError(13009, await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=refresh_token&refresh_token={Uri.EscapeDataString(refresh)}", null));
        Assert.Contains("refresh token", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_of_a_revoked_key_stop_working()
    {
        var key = await Server.NewKeyAsync();
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null));
        string token = auth.GetProperty("access_token").GetString()!;
        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys, "Bearer " + token));

        Assert.True(Server.Services.GetRequiredService<ApiKeyStore>().Revoke(key.ClientId));

        AssertError(13009, await Server.CallAsync(HttpMethod.Get, ListKeys, "Bearer " + token));
        AssertError(13004, await Server.SignedGetAsync(key, ListKeys));
    }

    [Fact]
    public async Task A_narrower_scope_asked_for_at_auth_is_what_the_token_gets()
    {
        var key = await Server.NewKeyAsync(ApiScopes.Read | ApiScopes.Trade);
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}&scope=account:read", null));
        Assert.Equal("account:read trade:read wallet:read", auth.GetProperty("scope").GetString());

        // Asking for more than the key has gives only what it has.
        var wider = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}&scope=wallet:read_write%20trade:read_write", null));
        Assert.Equal("account:read trade:read_write wallet:read", wider.GetProperty("scope").GetString());

        AssertError(-32602, await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}&scope=everything", null));
    }

    [Theory]
    [InlineData("trade", "account:read trade:read_write wallet:read")]
    [InlineData("withdraw", "account:read trade:read wallet:read_write")]
    [InlineData("trade:read_write", "account:read trade:read_write wallet:read")]
    public async Task Our_words_trade_and_withdraw_include_reading_like_the_read_write_scopes_they_stand_for(string scope, string granted)
    {
        var key = await Server.NewKeyAsync();
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}&scope={scope}", null));
        Assert.Equal(granted, auth.GetProperty("scope").GetString());
        AssertResult(await Server.CallAsync(HttpMethod.Get, ListKeys, "Bearer " + auth.GetProperty("access_token").GetString()));
    }

    [Theory]
    [InlineData("connection")]
    [InlineData("session:bot")]
    [InlineData("session:bot expires:600")]
    public async Task A_scope_of_session_words_only_narrows_nothing_as_on_Deribit(string scope)
    {
        var key = await Server.NewKeyAsync(ApiScopes.Read | ApiScopes.Trade);
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}&scope={Uri.EscapeDataString(scope)}", null));
        Assert.Equal("account:read trade:read_write wallet:read", auth.GetProperty("scope").GetString());
    }
}

/// <summary>A server without the demo and without the journal, for the auth tests that do not restart it.</summary>
public sealed class AuthServer : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
