using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>/metrics (Prometheus text format) and /openapi/v1.json, read from the real server.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task Metrics_count_commands_rejects_by_code_and_api_calls()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0");

        // One rejected command: a withdrawal from an account that does not exist (UnknownAccount).
        using (var rejected = await server.Http.PostAsync("/api/accounts/4242/withdraw", new StringContent("{\"amount\":\"1\"}", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.False(rejected.IsSuccessStatusCode);
        }

        using var anonymous = new HttpClient { BaseAddress = server.Address };
        using (var call = await anonymous.GetAsync("/api/v2/public/get_time"))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        string text = await server.Http.GetStringAsync("/metrics");
        Assert.Matches(@"clearhouse_commands_total\{outcome=""applied""\} [1-9]", text);
        Assert.Matches(@"clearhouse_commands_total\{outcome=""rejected""\} 1\b", text);
        Assert.Contains("clearhouse_rejects_total{code=\"" + (int)Core.Engine.RejectReason.UnknownAccount + "\",reason=\"UnknownAccount\"} 1", text);
        Assert.Contains("clearhouse_api_calls_total{method=\"public/get_time\",code=\"0\"} 1", text);
        Assert.Contains("clearhouse_insurance_fund_usdc", text);
        Assert.Matches(@"clearhouse_oracle_staleness_seconds\{underlying=""BTC""\} [0-9.]+", text);
        Assert.Contains("clearhouse_liquidation_events_total{kind=\"step\"} 0", text);

        // The process's garbage collector, for telling GC pauses from other stalls: the counters
        // are the runtime's own, and they only grow.
        double Value(string metrics, string series) =>
            double.Parse(System.Text.RegularExpressions.Regex.Match(metrics, "^" + System.Text.RegularExpressions.Regex.Escape(series) + " (\\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double allocated = Value(text, "clearhouse_gc_allocated_bytes_total");
        Assert.True(allocated > 0);
        Assert.True(Value(text, "clearhouse_gc_pause_seconds_total") >= 0);
        Assert.True(Value(text, "clearhouse_gc_collections_total{generation=\"2\"}") >= 0);
        // The allocated-bytes counter is the runtime's fast, imprecise one: it counts small objects
        // by the allocation buffers handed out, and a collection takes back what was left unused in
        // them, so a few kilobytes allocated between two reads may not show. 64 MiB of large arrays
        // (counted as they are allocated) must.
        var ballast = new List<byte[]>();
        for (int i = 0; i < 64; i++)
        {
            ballast.Add(new byte[1 << 20]);
        }

        GC.Collect(0);
        string later = await server.Http.GetStringAsync("/metrics");
        GC.KeepAlive(ballast);
        Assert.True(Value(later, "clearhouse_gc_collections_total{generation=\"0\"}") >= 1);
        double grown = Value(later, "clearhouse_gc_allocated_bytes_total") - allocated;
        Assert.True(grown >= 32 << 20, $"clearhouse_gc_allocated_bytes_total grew by {grown:N0} bytes across 64 MiB of allocations");
    }

    [Fact]
    public async Task Metrics_time_each_journal_commit_and_the_engine_threads_block_seals()
    {
        // A block every two commands, so that the five below seal at least two.
        await using var server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0", "--BlockMaxCommands", "2");
        var sequencer = server.Services.GetRequiredService<Sequencing.Sequencer>();
        long recovered = sequencer.Venue.LastSequence;
        for (int i = 0; i < 5; i++)
        {
            using var created = await server.Http.PostAsync("/api/accounts", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(created.IsSuccessStatusCode); // answered, so durable
        }

        // Every record this process journaled was in exactly one commit, and each commit was timed
        // in both phases. (The answers are released before the commit is reported: wait for it.)
        long journaled = sequencer.LastDurableSequence - recovered;
        Assert.True(journaled >= 5);
        string text = "";
        for (int attempt = 0; attempt < 100 && !text.Contains($"clearhouse_journal_commit_records_sum {journaled}\n", StringComparison.Ordinal); attempt++)
        {
            text = await server.Http.GetStringAsync("/metrics");
            await Task.Delay(attempt == 0 ? 0 : 20);
        }

        double Value(string series) =>
            double.Parse(System.Text.RegularExpressions.Regex.Match(text, "^" + System.Text.RegularExpressions.Regex.Escape(series) + " (\\S+)$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(journaled, Value("clearhouse_journal_commit_records_sum"));
        double commits = Value("clearhouse_journal_commit_records_count");
        Assert.InRange(commits, 1, journaled);
        Assert.Equal(commits, Value("clearhouse_journal_commit_seconds_count{phase=\"sync\"}"));
        Assert.Equal(commits, Value("clearhouse_journal_commit_seconds_count{phase=\"write\"}"));
        Assert.True(Value("clearhouse_journal_commit_seconds_sum{phase=\"sync\"}") > 0, "an fsync takes some time");

        Assert.Equal(sequencer.BlocksSealed, Value("clearhouse_blocks_sealed_total"));
        Assert.True(sequencer.BlocksSealed >= 2, $"{sequencer.BlocksSealed} blocks sealed");
        Assert.True(Value("clearhouse_block_seal_seconds_total") > 0, "sealing takes some time");
    }

    [Fact]
    public async Task State_changing_native_endpoints_need_the_operator_token()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0");
        var sequencer = server.Services.GetRequiredService<Sequencing.Sequencer>();
        long before = sequencer.LastStampedSequence;
        using var anonymous = new HttpClient { BaseAddress = server.Address };

        foreach (string token in new[] { "", "Bearer wrong-token-wrong-token", "Basic " + server.Services.GetRequiredService<Operations.OperatorCredential>().Token })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/accounts") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            if (token.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Authorization", token);
            }

            using var refused = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal((int)Api.GatewayReason.OperatorCredentialRequired, error.RootElement.GetProperty("code").GetInt32());
        }

        using (var cancel = await anonymous.DeleteAsync("/api/orders/1?accountId=1"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, cancel.StatusCode);
        }

        Assert.Equal(before, sequencer.LastStampedSequence); // nothing reached the engine
        using (var read = await anonymous.GetAsync("/api/instruments"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode); // reads stay open
        }

        using var allowed = await server.Http.PostAsync("/api/accounts", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
    }

    [Fact]
    public async Task The_operator_makes_lists_and_revokes_api_keys_through_the_native_api()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0");
        using var created = await server.Http.PostAsync("/api/accounts", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        int accountId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("accountId").GetInt32();
        using var anonymous = new HttpClient { BaseAddress = server.Address };

        using (var refused = await anonymous.PostAsync($"/api/accounts/{accountId}/api-keys", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var badScope = await server.Http.PostAsync($"/api/accounts/{accountId}/api-keys", new StringContent("{\"scopes\":\"read,admin\"}", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badScope.StatusCode);
        }

        using var made = await server.Http.PostAsync($"/api/accounts/{accountId}/api-keys", new StringContent("{\"scopes\":\"read\",\"name\":\"bot\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        var key = JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement;
        string clientId = key.GetProperty("clientId").GetString()!;
        string secret = key.GetProperty("clientSecret").GetString()!;
        Assert.Equal(["read"], key.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()));

        // The key works on the Deribit API, with its scope: reads yes, orders no (13021).
        string basic = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{secret}"));
        using (var read = new HttpRequestMessage(HttpMethod.Get, "/api/v2/private/get_account_summaries"))
        {
            read.Headers.TryAddWithoutValidation("Authorization", basic);
            using var answer = await anonymous.SendAsync(read);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using (var order = new HttpRequestMessage(HttpMethod.Get, "/api/v2/private/buy?instrument_name=BTC_USDC-PERPETUAL&amount=0.001&type=market"))
        {
            order.Headers.TryAddWithoutValidation("Authorization", basic);
            using var answer = await anonymous.SendAsync(order);
            Assert.Contains("13021", await answer.Content.ReadAsStringAsync());
        }

        string listed = await anonymous.GetStringAsync($"/api/accounts/{accountId}/api-keys");
        Assert.Contains(clientId, listed);
        Assert.DoesNotContain(secret, listed);
        using (var unknown = await anonymous.GetAsync("/api/accounts/99999/api-keys"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode); // as every per-account read
            Assert.Contains("UnknownAccount", await unknown.Content.ReadAsStringAsync());
        }

        using (var revoked = await server.Http.DeleteAsync($"/api/api-keys/{clientId}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        using var after = new HttpRequestMessage(HttpMethod.Get, "/api/v2/private/get_account_summaries");
        after.Headers.TryAddWithoutValidation("Authorization", basic);
        using var refusedAfter = await anonymous.SendAsync(after);
        Assert.Contains("13004", await refusedAfter.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_describes_the_native_rest_endpoints()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0");
        using var document = JsonDocument.Parse(await server.Http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/orders", out var orders), "POST /api/orders is not described");
        Assert.True(orders.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/api/accounts/{accountId}/margin", out _));
        // The Deribit JSON-RPC routes are documented in docs/api.md, not as REST resources.
        Assert.False(paths.TryGetProperty("/api/v2/{scope}/{method}", out _));
    }
}
