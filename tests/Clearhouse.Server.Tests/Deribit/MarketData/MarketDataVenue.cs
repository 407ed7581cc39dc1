using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests.Deribit.MarketData;

/// <summary>
/// A quiet server (genesis only, no demo, no journal) for the market data tests, with helpers that
/// make books and trades by submitting commands to the sequencer directly, and that call the
/// Deribit API over HTTP GET (as ccxt does). Heartbeats may be as short as 1 s here.
/// </summary>
public sealed class MarketDataVenue : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    public Sequencer Sequencer => Server.Services.GetRequiredService<Sequencer>();

    public async Task InitializeAsync() =>
        Server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--Deribit:MinHeartbeatSeconds", "1");

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public int InstrumentId(string name) => Sequencer.Instruments.TryGetId(name, out int id) ? id : throw new ArgumentException(name);

    public async Task<int> FundedAccountAsync()
    {
        var created = await Sequencer.SubmitAsync(new CreateAccount());
        int accountId = created.Events[0].AccountId;
        Assert.True((await Sequencer.SubmitAsync(new Deposit(accountId, Money.FromWhole(100_000_000)))).IsAccepted);
        return accountId;
    }

    public async Task<CommandResult> LimitAsync(int accountId, string instrument, Side side, decimal price, decimal amount)
    {
        var result = await Sequencer.SubmitAsync(new PlaceOrder(accountId, InstrumentId(instrument), side, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromDecimal(price), Quantity.FromDecimal(amount)));
        Assert.True(result.IsAccepted, $"{side} {amount} {instrument} @ {price}: {result.Reason}");
        return result;
    }

    /// <summary>GET /api/v2/{method}?query; returns the HTTP status and the parsed body.</summary>
    public async Task<(int Status, JsonElement Body)> CallAsync(string method, string query = "")
    {
        var (status, body) = await Server.GetAsync($"/api/v2/{method}{(query.Length > 0 ? "?" + query : string.Empty)}");
        return (status, body);
    }

    /// <summary>A call that must succeed: its <c>result</c>.</summary>
    public async Task<JsonElement> ResultAsync(string method, string query = "")
    {
        var (status, body) = await CallAsync(method, query);
        Assert.True(status == 200, $"{method}?{query} answered {status}: {body}");
        return body.GetProperty("result");
    }

    public Task<DeribitSocket> ConnectAsync() => DeribitSocket.ConnectAsync(Server.Address);
}

/// <summary>A WebSocket client of /ws/api/v2 that reads every message into a queue in the background.</summary>
public sealed class DeribitSocket : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private readonly ClientWebSocket socket;
    private readonly Channel<JsonElement> inbox = Channel.CreateUnbounded<JsonElement>();
    private readonly Task reader;
    private int nextId;

    private DeribitSocket(ClientWebSocket socket)
    {
        this.socket = socket;
        reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Completes when the server closed the connection (or it failed).</summary>
    public Task Closed => reader;

    /// <summary>The close frame the server sent, once <see cref="Closed"/> completed with one (null: the connection dropped without one).</summary>
    public (WebSocketCloseStatus? Status, string? Description) CloseFrame => (socket.CloseStatus, socket.CloseStatusDescription);

    public static async Task<DeribitSocket> ConnectAsync(Uri server, bool read = true)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{server.Host}:{server.Port}/ws/api/v2"), CancellationToken.None);
        return new DeribitSocket(socket);
    }

    public async Task<int> SendAsync(string method, object? parameters = null)
    {
        int id = Interlocked.Increment(ref nextId);
        string json = JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method, @params = parameters ?? new { } });
        await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);
        return id;
    }

    /// <summary>Sends a request and waits for its answer (other messages that arrive meanwhile are kept aside, in order).</summary>
    public async Task<JsonElement> CallAsync(string method, object? parameters = null)
    {
        int id = await SendAsync(method, parameters);
        return await NextAsync(m => m.TryGetProperty("id", out var i) && i.GetInt32() == id);
    }

    private readonly List<JsonElement> aside = [];

    /// <summary>The next message (kept aside earlier or arriving now) that matches.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match)
    {
        for (int i = 0; i < aside.Count; i++)
        {
            if (match(aside[i]))
            {
                var found = aside[i];
                aside.RemoveAt(i);
                return found;
            }
        }

        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var message = await inbox.Reader.ReadAsync(timeout.Token);
            if (match(message))
            {
                return message;
            }

            aside.Add(message);
        }
    }

    /// <summary>The next notification on <paramref name="channel"/>: its <c>data</c>.</summary>
    public async Task<JsonElement> NextOnAsync(string channel, Func<JsonElement, bool>? match = null)
    {
        var message = await NextAsync(m => m.TryGetProperty("method", out var method) && method.GetString() == "subscription"
            && m.GetProperty("params").GetProperty("channel").GetString() == channel
            && (match is null || match(m.GetProperty("params").GetProperty("data"))));
        return message.GetProperty("params").GetProperty("data");
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                message.Write(buffer, 0, received.Count);
                if (received.EndOfMessage)
                {
                    inbox.Writer.TryWrite(JsonDocument.Parse(message.ToArray()).RootElement.Clone());
                    message.SetLength(0);
                }
            }
        }
        catch (WebSocketException)
        {
            // The server dropped the connection.
        }
        finally
        {
            inbox.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        await reader.ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
