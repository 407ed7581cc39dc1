using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Xunit.Abstractions;

namespace Clearhouse.Server.Tests;

/// <summary>
/// "Acknowledged means durable", tested the hard way: the real server runs as a child process under
/// concurrent load and is killed with SIGKILL at random moments (seeded), then restarted on the same
/// data directory, again and again. After every restart: (a) every command whose answer a client
/// received is in the journal at the sequence the answer named, with the same content; (b) the state
/// the server recovered (its state hash and state root) equals a clean replay of the journal in this
/// process up to the same sequence; (c) the server serves again, and its blocks are the blocks the
/// clean replay seals. Environment overrides for longer runs: CLEARHOUSE_CRASH_ITERATIONS,
/// CLEARHOUSE_CRASH_SEED.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Clients = 6;
    private const long BlockIntervalMicros = 200_000;
    private const int BlockMaxCommands = 150;
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);

    /// <summary>Small blocks and frequent snapshots, so crashes land around both.</summary>
    private static readonly string[] Settings =
    [
        "--TickMillis", "50",
        "--BlockMillis", (BlockIntervalMicros / 1000).ToString(CultureInfo.InvariantCulture),
        "--BlockMaxCommands", BlockMaxCommands.ToString(CultureInfo.InvariantCulture),
        "--SnapshotEveryCommands", "400",
        "--SnapshotEverySeconds", "0",
    ];

    private long depositCounter;

    [Fact]
    public async Task Killed_at_random_moments_under_load_the_server_loses_no_acknowledged_command_and_recovers_the_state_of_a_clean_replay()
    {
        int iterations = EnvironmentInt("CLEARHOUSE_CRASH_ITERATIONS", 20);
        int seed = EnvironmentInt("CLEARHOUSE_CRASH_SEED", 20261125);
        var random = new Random(seed);
        string dataDirectory = TemporaryDirectory.Create("crash");
        var clock = Stopwatch.StartNew();
        var model = new JournalModel(dataDirectory, BlockIntervalMicros, BlockMaxCommands);
        var unverified = new ConcurrentQueue<Ack>();
        int[]? accounts = null;
        int instrumentId = 0;
        long verifiedAcks = 0;
        int fromSnapshot = 0, tornTails = 0;
        try
        {
            for (int i = 0; i <= iterations; i++)
            {
                await using var server = await ServerProcess.StartAsync(dataDirectory, StartPatience, Settings);
                var recovery = (await server.GetJsonAsync("/api/status")).GetProperty("recovery");
                long recovered = recovery.GetProperty("recoveredSequence").GetInt64();
                fromSnapshot += recovery.GetProperty("snapshotSequence").ValueKind == JsonValueKind.Number ? 1 : 0;
                tornTails += recovery.GetProperty("journalTornTail").ValueKind == JsonValueKind.String ? 1 : 0;

                // (b) the recovered state is the state of a clean replay up to the same sequence.
                model.CatchUp(recovered);
                model.AssertSameState(recovery);

                // (a) every acknowledged command is in the journal, as sent.
                while (unverified.TryDequeue(out var ack))
                {
                    Assert.True(ack.Sequence <= recovered, $"iteration {i}: command {ack.Sequence} was acknowledged but the journal ends at {recovered} (seed {seed})");
                    Assert.True(model.Commands.TryGetValue(ack.Sequence, out var journaled), $"acknowledged sequence {ack.Sequence} is not in the journal");
                    Assert.Equal(ack.Command, journaled with { Sequence = 0, TimestampMicros = 0 });
                    verifiedAcks++;
                }

                // (c) it serves, and its blocks are the replay's blocks.
                model.AssertSameBlocks(await AllBlocksAsync(server));
                if (accounts is null)
                {
                    instrumentId = (await server.GetJsonAsync("/api/instruments")).EnumerateArray()
                        .Single(e => e.GetProperty("name").GetString() == "BTC_USDC-PERPETUAL").GetProperty("id").GetInt32();
                    accounts = new int[Clients];
                    for (int c = 0; c < Clients; c++)
                    {
                        accounts[c] = await OpenAccountAsync(server.Http, unverified);
                    }
                }
                else
                {
                    Assert.True(await DepositAsync(server.Http, accounts[0], unverified), "a deposit after the restart was not accepted");
                }

                if (i == iterations)
                {
                    break;
                }

                // Load from concurrent clients, then SIGKILL at a random moment while it runs.
                var load = accounts.Select((account, c) => RunClientAsync(server.Http, account, instrumentId, new Random(seed + (i * 100) + c), unverified)).ToArray();
                await Task.Delay(random.Next(100, 700));
                server.Kill();
                await server.WaitForExitAsync();
                await Task.WhenAll(load);
            }

            output.WriteLine(
                $"{iterations} kills in {clock.Elapsed.TotalSeconds:F1} s (seed {seed}): {model.Sequence} journal records, {verifiedAcks} acknowledged commands verified, "
                + $"{model.Blocks.Count} blocks re-derived, {fromSnapshot} recoveries from a snapshot, {tornTails} torn tails truncated.");
            Assert.True(verifiedAcks > iterations, "the load produced too few acknowledged commands to mean anything");
        }
        finally
        {
            TemporaryDirectory.Delete(dataDirectory);
        }
    }

    private sealed record Ack(long Sequence, Command Command);

    /// <summary>
    /// One client: deposits of distinct amounts, limit orders around the index that sometimes
    /// trade, and cancels of its own earlier orders (some already filled: rejected, which is an
    /// acknowledged answer too). Every answer that carries a sequence is recorded. Ends when the
    /// server goes away.
    /// </summary>
    private async Task RunClientAsync(HttpClient http, int accountId, int instrumentId, Random random, ConcurrentQueue<Ack> acks)
    {
        var orders = new List<long>();
        try
        {
            while (true)
            {
                int roll = random.Next(100);
                if (roll < 30)
                {
                    await DepositAsync(http, accountId, acks);
                }
                else if (roll < 75 || orders.Count == 0)
                {
                    var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
                    decimal price = 95_000m + (random.Next(-400, 401) * 0.5m);
                    decimal amount = random.Next(1, 20) * 0.001m;
                    var (sequence, body) = await SendAsync(http, HttpMethod.Post, "/api/orders", new
                    {
                        accountId,
                        instrument = "BTC_USDC-PERPETUAL",
                        side = side == Side.Buy ? "buy" : "sell",
                        price = price.ToString(CultureInfo.InvariantCulture),
                        amount = amount.ToString(CultureInfo.InvariantCulture),
                    });
                    if (sequence > 0)
                    {
                        acks.Enqueue(new Ack(sequence, new PlaceOrder(accountId, instrumentId, side, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromDecimal(price), Quantity.FromDecimal(amount))));
                        if (body.TryGetProperty("orderId", out var id))
                        {
                            orders.Add(id.GetInt64());
                        }
                    }
                }
                else
                {
                    long orderId = orders[random.Next(orders.Count)];
                    orders.Remove(orderId);
                    var (sequence, _) = await SendAsync(http, HttpMethod.Delete, $"/api/orders/{orderId}?accountId={accountId}", null);
                    if (sequence > 0)
                    {
                        acks.Enqueue(new Ack(sequence, new CancelOrder(accountId, orderId)));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or JsonException)
        {
            // The server was killed: requests in flight get no answer and were never acknowledged.
        }
    }

    private async Task<bool> DepositAsync(HttpClient http, int accountId, ConcurrentQueue<Ack> acks)
    {
        // Distinct amounts, so each deposit is recognizable in the journal.
        long n = Interlocked.Increment(ref depositCounter);
        decimal amount = 1_000_000m + (n / 1_000_000m);
        var (sequence, body) = await SendAsync(http, HttpMethod.Post, $"/api/accounts/{accountId}/deposit", new { amount = amount.ToString(CultureInfo.InvariantCulture) });
        if (sequence > 0)
        {
            acks.Enqueue(new Ack(sequence, new Deposit(accountId, Money.FromDecimal(amount))));
        }

        return sequence > 0 && body.TryGetProperty("amount", out _);
    }

    private static async Task<int> OpenAccountAsync(HttpClient http, ConcurrentQueue<Ack> acks)
    {
        var (sequence, body) = await SendAsync(http, HttpMethod.Post, "/api/accounts", new { });
        Assert.True(sequence > 0, body.ToString());
        acks.Enqueue(new Ack(sequence, new CreateAccount()));
        return body.GetProperty("accountId").GetInt32();
    }

    /// <summary>Sends one request; returns the sequence its answer names (0 when none: refused at the gateway) and the body.</summary>
    private static async Task<(long Sequence, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        long sequence = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("sequence", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : 0;
        return (sequence, json);
    }

    internal static async Task<List<JsonElement>> AllBlocksAsync(ServerProcess server)
    {
        var blocks = new List<JsonElement>();
        while (true)
        {
            var page = await server.GetJsonAsync($"/api/blocks?from={blocks.Count + 1}&limit=1000");
            blocks.AddRange(page.EnumerateArray());
            if (page.GetArrayLength() < 1000)
            {
                return blocks;
            }
        }
    }

    private static int EnvironmentInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : fallback;
}
