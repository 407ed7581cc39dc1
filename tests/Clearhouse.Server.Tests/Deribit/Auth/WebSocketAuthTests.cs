using Clearhouse.Server.Deribit.Auth;
using Microsoft.Extensions.DependencyInjection;
using static Clearhouse.Server.Tests.Deribit.Auth.DeribitClient;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// <c>public/auth</c> over the WebSocket API, where it authenticates the whole connection
/// (https://docs.deribit.com/#public-auth), scopes, <c>private/logout</c>, and cancel on disconnect
/// (https://docs.deribit.com/#private-enable_cancel_on_disconnect).
/// </summary>
public sealed class WebSocketAuthTests(AuthServer fixture) : IClassFixture<AuthServer>
{
    private const string Future = "BTC_USDC-25DEC26";

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task A_private_method_on_an_unauthenticated_connection_is_refused_with_13009()
    {
        await using var socket = await DeribitSocket.ConnectAsync(Server);

        Assert.Equal(13009, await socket.ErrorCodeAsync("private/get_cancel_on_disconnect"));
    }

    [Fact]
    public async Task Client_signature_as_ccxt_pro_sends_it_authenticates_the_connection()
    {
        // ccxt.pro deribit authenticate(): timestamp = nonce = milliseconds, data = "", the
        // timestamp sent as a JSON number.
        var key = await Server.NewKeyAsync();
        long now = NowMillis();
        string nonce = now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var socket = await DeribitSocket.ConnectAsync(Server);

        var auth = await socket.ResultAsync("public/auth", ClientSignatureGrant(key, now, nonce));

        Assert.Equal("bearer", auth.GetProperty("token_type").GetString());
        Assert.False(string.IsNullOrEmpty(auth.GetProperty("access_token").GetString()));
        Assert.False(string.IsNullOrEmpty(auth.GetProperty("refresh_token").GetString()));
        var state = await socket.ResultAsync("private/get_cancel_on_disconnect");
        Assert.False(state.GetProperty("enabled").GetBoolean());
        Assert.Equal("connection", state.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task A_call_sent_right_behind_a_client_signature_auth_without_waiting_runs_as_the_authenticated_key()
    {
        // The grant waits for its nonce to be fsynced (so this server keeps a journal, unlike the
        // class's); the connection must not read the next call, and take its principal, before the
        // grant has finished.
        await using var server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0");
        var key = await server.NewKeyAsync();
        for (int round = 0; round < 5; round++)
        {
            await using var socket = await DeribitSocket.ConnectAsync(server);
            long now = NowMillis();
            string nonce = $"pipelined-{round}";
            int auth = await socket.SendAsync("public/auth", ClientSignatureGrant(key, now, nonce));
            int state = await socket.SendAsync("private/get_cancel_on_disconnect");

            var answers = new Dictionary<int, System.Text.Json.JsonElement>();
            while (answers.Count < 2)
            {
                var message = await socket.ReceiveAsync() ?? throw new InvalidOperationException("The server closed the connection.");
                answers[message.GetProperty("id").GetInt32()] = message;
            }

            Assert.True(answers[auth].TryGetProperty("result", out _), $"public/auth answered {answers[auth]}");
            Assert.True(answers[state].TryGetProperty("result", out _), $"the call behind public/auth answered {answers[state]}");
        }
    }

    [Fact]
    public async Task A_client_signature_with_a_wrong_secret_is_refused_with_13004_and_leaves_the_connection_unauthenticated()
    {
        var key = await Server.NewKeyAsync();
        long now = NowMillis();
        await using var socket = await DeribitSocket.ConnectAsync(Server);

        Assert.Equal(13004, await socket.ErrorCodeAsync("public/auth", new
        {
            grant_type = "client_signature",
            client_id = key.ClientId,
            timestamp = now,
            signature = SignGrant("not the secret", now, "n1", ""),
            nonce = "n1",
        }));
        Assert.Equal(13009, await socket.ErrorCodeAsync("private/get_cancel_on_disconnect"));
    }

    [Fact]
    public async Task A_replayed_client_signature_is_refused_on_another_connection()
    {
        var key = await Server.NewKeyAsync();
        long now = NowMillis();
        var grant = new { grant_type = "client_signature", client_id = key.ClientId, timestamp = now, signature = SignGrant(key.ClientSecret, now, "abc", "x"), nonce = "abc", data = "x" };
        await using (var first = await DeribitSocket.ConnectAsync(Server))
        {
            await first.ResultAsync("public/auth", grant);
        }

        await using var second = await DeribitSocket.ConnectAsync(Server);
        Assert.Equal(13009, await second.ErrorCodeAsync("public/auth", grant));
    }

    [Fact]
    public async Task An_expired_client_signature_is_refused_with_13009()
    {
        var key = await Server.NewKeyAsync();
        long old = NowMillis() - 120_000;
        await using var socket = await DeribitSocket.ConnectAsync(Server);

        Assert.Equal(13009, await socket.ErrorCodeAsync("public/auth", new
        {
            grant_type = "client_signature",
            client_id = key.ClientId,
            timestamp = old,
            signature = SignGrant(key.ClientSecret, old, "n", ""),
            nonce = "n",
        }));
    }

    [Fact]
    public async Task A_read_only_key_is_forbidden_a_trade_scope_method_with_13021()
    {
        var key = await Server.NewKeyAsync(ApiScopes.Read);
        await using var socket = await DeribitSocket.ConnectAsync(Server);
        await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret });

        Assert.Equal(13021, await socket.ErrorCodeAsync("private/enable_cancel_on_disconnect"));
        Assert.False((await socket.ResultAsync("private/get_cancel_on_disconnect")).GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task A_token_narrowed_to_read_is_forbidden_what_its_key_could_do()
    {
        var key = await Server.NewKeyAsync(ApiScopes.Read | ApiScopes.Trade);
        await using var socket = await DeribitSocket.ConnectAsync(Server);
        await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret, scope = "account:read" });

        Assert.Equal(13021, await socket.ErrorCodeAsync("private/enable_cancel_on_disconnect"));
    }

    [Fact]
    public async Task An_access_token_parameter_authenticates_one_call_on_an_unauthenticated_connection()
    {
        var key = await Server.NewKeyAsync();
        var auth = AssertResult(await Server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null));
        string token = auth.GetProperty("access_token").GetString()!;
        await using var socket = await DeribitSocket.ConnectAsync(Server);

        await socket.ResultAsync("private/get_cancel_on_disconnect", new { access_token = token });
        Assert.Equal(13009, await socket.ErrorCodeAsync("private/get_cancel_on_disconnect", new { access_token = "bogus.token" }));
    }

    [Fact]
    public async Task Closing_a_connection_with_cancel_on_disconnect_cancels_the_accounts_orders()
    {
        var key = await Server.NewKeyAsync();
        await PlaceRestingBidAsync(key.AccountId);
        var socket = await DeribitSocket.ConnectAsync(Server);
        await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret });

        Assert.Equal("ok", (await socket.ResultAsync("private/enable_cancel_on_disconnect", new { scope = "connection" })).GetString());
        Assert.True((await socket.ResultAsync("private/get_cancel_on_disconnect")).GetProperty("enabled").GetBoolean());
        await socket.DisposeAsync();

        Assert.True(await RunningServer.EventuallyAsync(async () => await OpenOrderCountAsync(key.AccountId) == 0, TimeSpan.FromSeconds(10)), "the order should have been cancelled");
    }

    [Fact]
    public async Task Closing_a_connection_after_disabling_cancel_on_disconnect_leaves_the_orders()
    {
        var key = await Server.NewKeyAsync();
        await PlaceRestingBidAsync(key.AccountId);
        var socket = await DeribitSocket.ConnectAsync(Server);
        await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret });
        await socket.ResultAsync("private/enable_cancel_on_disconnect");
        await socket.ResultAsync("private/disable_cancel_on_disconnect");

        // The server runs its close callbacks before it answers the close handshake, and a later
        // query reaches the engine after any cancel they submitted.
        await socket.DisposeAsync();

        Assert.Equal(1, await OpenOrderCountAsync(key.AccountId));
    }

    [Fact]
    public async Task Cancel_on_disconnect_is_refused_over_http_and_for_the_account_scope()
    {
        var key = await Server.NewKeyAsync();
        AssertError(10030, await Server.SignedGetAsync(key, "/api/v2/private/enable_cancel_on_disconnect"));

        await using var socket = await DeribitSocket.ConnectAsync(Server);
        await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret });
        Assert.Equal(-32602, await socket.ErrorCodeAsync("private/enable_cancel_on_disconnect", new { scope = "account" }));
    }

    [Fact]
    public async Task Logout_closes_the_connection_ends_its_tokens_and_does_not_cancel_orders()
    {
        var key = await Server.NewKeyAsync();
        await PlaceRestingBidAsync(key.AccountId);
        await using var socket = await DeribitSocket.ConnectAsync(Server);
        var auth = await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret });
        string token = auth.GetProperty("access_token").GetString()!;
        await socket.ResultAsync("private/enable_cancel_on_disconnect");

        // Like Deribit's, logout has no answer: the server closes the connection.
        await Assert.ThrowsAsync<InvalidOperationException>(() => socket.CallAsync("private/logout"));

        AssertError(13009, await Server.CallAsync(HttpMethod.Get, "/api/v2/private/list_api_keys", "Bearer " + token));
        Assert.Equal(1, await OpenOrderCountAsync(key.AccountId));
    }

    [Fact]
    public async Task Revoking_a_key_closes_the_connections_authenticated_with_it()
    {
        var key = await Server.NewKeyAsync();
        await using var socket = await DeribitSocket.ConnectAsync(Server);
        await socket.ResultAsync("public/auth", new { grant_type = "client_credentials", client_id = key.ClientId, client_secret = key.ClientSecret });

        Assert.True(Server.Services.GetRequiredService<ApiKeyStore>().Revoke(key.ClientId));

        // The server cuts the connection: a close frame, or (an abort during a pending receive) a reset.
        try
        {
            Assert.Null(await socket.ReceiveAsync());
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
        }
    }

    /// <summary>A <c>client_signature</c> grant as ccxt.pro sends it: empty data, the timestamp as a JSON number.</summary>
    private static object ClientSignatureGrant(ApiKey key, long now, string nonce) => new
    {
        grant_type = "client_signature",
        client_id = key.ClientId,
        timestamp = now,
        signature = SignGrant(key.ClientSecret, now, nonce, ""),
        nonce,
        data = "",
    };

    private async Task PlaceRestingBidAsync(int accountId)
    {
        await Server.PlaceOkAsync(new { accountId, instrument = Future, side = "buy", type = "limit", price = "90000.5", amount = "0.25" });
        Assert.Equal(1, await OpenOrderCountAsync(accountId));
    }

    private async Task<int> OpenOrderCountAsync(int accountId) =>
        (await Server.GetOkAsync($"/api/accounts/{accountId}")).GetProperty("openOrders").GetArrayLength();
}
