using System.Text.RegularExpressions;
using Clearhouse.Server.Deribit.Auth;
using Microsoft.Extensions.DependencyInjection;
using static Clearhouse.Server.Tests.Deribit.Auth.DeribitClient;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// What auth keeps across a restart on the same data directory: the API keys (api-keys.json,
/// readable by the owner only), the used nonces (auth/nonces.log: a signed request replayed after a
/// restart is still refused), and the demo's key (the same key again). Tokens are not kept.
/// </summary>
public sealed partial class AuthRestartTests
{
    private const string ListKeys = "/api/v2/private/list_api_keys";

    [Fact]
    public async Task A_signed_request_replayed_after_a_restart_is_refused_while_the_key_still_works()
    {
        string data = TemporaryDirectory.Create("auth-restart");
        try
        {
            ApiKey key;
            string header;
            string token;
            await using (var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"))
            {
                key = await server.NewKeyAsync();
                header = SignatureHeader(key.ClientId, key.ClientSecret, "GET", ListKeys);
                AssertResult(await server.CallAsync(HttpMethod.Get, ListKeys, header));
                token = AssertResult(await server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null))
                    .GetProperty("access_token").GetString()!;
            }

            await using (var restarted = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"))
            {
                string reason = AssertError(13009, await restarted.CallAsync(HttpMethod.Get, ListKeys, header));
                Assert.Contains("already used", reason, StringComparison.Ordinal);

                // The key itself survived: a freshly signed request runs. Tokens did not.
                AssertResult(await restarted.SignedGetAsync(key, ListKeys));
                AssertError(13009, await restarted.CallAsync(HttpMethod.Get, ListKeys, "Bearer " + token));
            }
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task The_key_file_and_the_nonce_log_are_readable_by_the_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string data = TemporaryDirectory.Create("auth-modes");
        try
        {
            await using var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0");
            var key = await server.NewKeyAsync();
            AssertResult(await server.SignedGetAsync(key, ListKeys));

            string keyFile = Path.Combine(data, ApiKeyStore.FileName);
            string nonceLog = Path.Combine(data, ReplayGuard.RelativePath);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(nonceLog));
            Assert.Contains(key.ClientSecret, await File.ReadAllTextAsync(keyFile), StringComparison.Ordinal);
            Assert.DoesNotContain(key.ClientId, await File.ReadAllTextAsync(nonceLog), StringComparison.Ordinal);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task Without_the_journal_keys_are_kept_in_memory_only()
    {
        string data = TemporaryDirectory.Create("auth-memory");
        try
        {
            await using var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--journal", "false", "--TickMillis", "0");
            var key = await server.NewKeyAsync();
            AssertResult(await server.SignedGetAsync(key, ListKeys));

            Assert.False(File.Exists(Path.Combine(data, ApiKeyStore.FileName)));
            Assert.False(File.Exists(Path.Combine(data, ReplayGuard.RelativePath)));
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task The_demo_key_has_every_scope_and_is_the_same_after_a_restart()
    {
        string data = TemporaryDirectory.Create("auth-demo");
        try
        {
            ApiKey first;
            await using (var server = await RunningServer.StartAsync(demo: true, "--data-dir", data, "--DemoSeed", "7"))
            {
                first = await server.Services.GetRequiredService<DemoApiKey>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(ApiScopes.Read | ApiScopes.Trade | ApiScopes.Withdraw, first.Scopes);
                var account = await server.GetOkAsync($"/api/accounts/{first.AccountId}");
                Assert.Equal("1000000", account.GetProperty("cash").GetString());
                AssertResult(await server.SignedGetAsync(first, ListKeys));
            }

            await using (var restarted = await RunningServer.StartAsync(demo: true, "--data-dir", data, "--DemoSeed", "7"))
            {
                var again = await restarted.Services.GetRequiredService<DemoApiKey>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(first.ClientId, again.ClientId);
                Assert.Equal(first.ClientSecret, again.ClientSecret);
                Assert.Equal(first.AccountId, again.AccountId);
                Assert.Single(restarted.Services.GetRequiredService<ApiKeyStore>().All, k => k.AccountId == first.AccountId);
            }
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task The_demo_server_process_prints_its_key_as_client_id_and_client_secret_lines()
    {
        string data = TemporaryDirectory.Create("auth-demo-process");
        try
        {
            (string Id, string Secret) first;
            await using (var server = await ServerProcess.StartAsync(data, TimeSpan.FromSeconds(60), "--demo", "true", "--DemoTickMillis", "200"))
            {
                first = await PrintedKeyAsync(server);
                string header = SignatureHeader(first.Id, first.Secret, "GET", ListKeys);
                using var request = new HttpRequestMessage(HttpMethod.Get, ListKeys);
                request.Headers.TryAddWithoutValidation("Authorization", header);
                using var response = await server.Http.SendAsync(request);
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }

            await using (var restarted = await ServerProcess.StartAsync(data, TimeSpan.FromSeconds(60), "--demo", "true", "--DemoTickMillis", "200"))
            {
                Assert.Equal(first, await PrintedKeyAsync(restarted));
            }
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task An_operator_makes_a_key_for_an_existing_account_with_CreateApiKey_once()
    {
        string data = TemporaryDirectory.Create("auth-operator");
        try
        {
            int accountId;
            await using (var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"))
            {
                accountId = await server.OpenFundedAccountAsync();
            }

            for (int start = 0; start < 2; start++)
            {
                await using var server = await RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0", "--CreateApiKey", $"{accountId}:read:bot");
                var keys = server.Services.GetRequiredService<ApiKeyStore>();
                Assert.True(await RunningServer.EventuallyAsync(() => Task.FromResult(keys.All.Any(k => k.Name == "bot")), TimeSpan.FromSeconds(10)));
                var made = Assert.Single(keys.All);
                Assert.Equal((accountId, ApiScopes.Read, "bot"), (made.AccountId, made.Scopes, made.Name));
                AssertResult(await server.SignedGetAsync(made, ListKeys));
            }
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task With_a_two_second_token_lifetime_a_bearer_token_works_then_is_refused_as_expired()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0", "--AccessTokenSeconds", "2");
        var key = await server.NewKeyAsync();
        var auth = AssertResult(await server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null));
        Assert.Equal(2, auth.GetProperty("expires_in").GetInt64());
        string bearer = "Bearer " + auth.GetProperty("access_token").GetString();
        AssertResult(await server.CallAsync(HttpMethod.Get, ListKeys, bearer));

        string reason = "";
        Assert.True(await RunningServer.EventuallyAsync(
            async () =>
            {
                var answer = await server.CallAsync(HttpMethod.Get, ListKeys, bearer);
                reason = answer.Status == 400 ? answer.Body.ErrorReason() : "";
                return answer.Status == 400 && answer.Body.ErrorCode() == 13009;
            },
            TimeSpan.FromSeconds(15)));
        Assert.Contains("expired", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_key_file_stops_the_start_with_a_message()
    {
        string data = TemporaryDirectory.Create("auth-damaged");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(data, ApiKeyStore.FileName), "{\"keys\": [ {\"clientId\": ");

            var error = await Assert.ThrowsAsync<ServerConfigurationException>(() => RunningServer.StartAsync(demo: false, "--data-dir", data, "--TickMillis", "0"));
            Assert.Contains(ApiKeyStore.FileName, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    [Theory]
    [InlineData("x")]
    [InlineData("3:admin")]
    [InlineData("3:,")]
    public void A_malformed_CreateApiKey_stops_the_start_with_a_message(string value)
    {
        var error = Assert.Throws<ServerConfigurationException>(() => ApiKeyRequest.Parse(value));
        Assert.Contains("CreateApiKey", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(string Id, string Secret)> PrintedKeyAsync(ServerProcess server)
    {
        Match id = Match.Empty, secret = Match.Empty;
        bool printed = await RunningServer.EventuallyAsync(
            () =>
            {
                string output = server.Output;
                id = ClientIdLine().Match(output);
                secret = ClientSecretLine().Match(output);
                return Task.FromResult(id.Success && secret.Success);
            },
            TimeSpan.FromSeconds(60));
        Assert.True(printed, $"no client_id=/client_secret= lines in:\n{server.Output}");
        return (id.Groups[1].Value, secret.Groups[1].Value);
    }

    [GeneratedRegex(@"^client_id=([A-Za-z0-9_-]{8,})\r?$", RegexOptions.Multiline)]
    private static partial Regex ClientIdLine();

    [GeneratedRegex(@"^client_secret=([A-Za-z0-9_-]{32,})\r?$", RegexOptions.Multiline)]
    private static partial Regex ClientSecretLine();
}
