using System.Net;
using System.Net.WebSockets;
using System.Text;
using Clearhouse.Server.Sequencing;
using Clearhouse.Server.Tests.Deribit.Auth;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Clearhouse.Server.Tests.Deribit;

/// <summary>
/// 100,000 malformed requests against the real server on loopback — over HTTP GET, HTTP POST and
/// WebSocket, public and authenticated — and then: no 5xx, the server still answers, every answer is
/// a Deribit error object, and the engine's state hash is what it was before (nothing changed). Each
/// request carries at least one defect from <see cref="Defects"/> (the issue's list: NaN, ±Infinity,
/// negative and zero amounts, 2^63, 40-digit decimals, exponent notation, off-tick prices, duplicate
/// keys, unknown instruments, oversized bodies) or is not a request at all. Seeded: a failure names
/// its seed and request.
/// </summary>
public sealed class InputFuzzTests(ITestOutputHelper output)
{
    public const int Requests = 100_000;

    [Fact]
    public async Task Malformed_requests_get_errors_and_change_nothing()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--journal", "false", "--TickMillis", "0",
            "--RateLimitTradingPerSecond", "100000000", "--RateLimitTradingBurst", "100000000",
            "--RateLimitMarketDataPerSecond", "100000000", "--RateLimitMarketDataBurst", "100000000");
        var sequencer = server.Services.GetRequiredService<Sequencer>();
        var key = await server.NewKeyAsync(); // a funded account: a valid order would go through, so every request must carry a defect
        var (authStatus, auth) = await server.CallAsync(HttpMethod.Get, $"/api/v2/public/auth?grant_type=client_credentials&client_id={key.ClientId}&client_secret={key.ClientSecret}", null);
        Assert.Equal(200, authStatus);
        string token = auth.GetProperty("result").GetProperty("access_token").GetString()!;
        string before = await sequencer.QueryAsync(e => e.ComputeStateHashHex());

        int seed = Environment.GetEnvironmentVariable("FUZZ_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 20261125;
        var generator = new MalformedRequests(seed);
        int http = 0, webSocket = 0;
        var statusCounts = new Dictionary<int, int>();

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(server.Address.ToString().Replace("http://", "ws://") + "ws/api/v2"), CancellationToken.None);
        var receiver = ReceiveAllAsync(socket);

        using var throttle = new SemaphoreSlim(16);
        var tasks = new List<Task>();
        for (int i = 0; i < Requests; i++)
        {
            var request = generator.Next(i, token);
            if (request.Transport == FuzzTransport.WebSocket)
            {
                webSocket++;
                await socket.SendAsync(request.Body, WebSocketMessageType.Text, true, CancellationToken.None);
                continue;
            }

            http++;
            await throttle.WaitAsync();
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    using var message = request.ToHttp();
                    using var response = await server.Http.SendAsync(message);
                    int status = (int)response.StatusCode;
                    string body = await response.Content.ReadAsStringAsync();
                    lock (statusCounts)
                    {
                        statusCounts[status] = statusCounts.GetValueOrDefault(status) + 1;
                    }

                    Assert.True(status < 500, $"seed {seed} request {request.Index} ({request.Description}) got HTTP {status}: {body}");
                    Assert.True(status >= 400, $"seed {seed} request {request.Index} ({request.Description}) was accepted: {body}");
                    Assert.Contains("\"error\":{\"code\":", body);
                }
                finally
                {
                    throttle.Release();
                }
            }));

            if (tasks.Count >= 512)
            {
                await Task.WhenAll(tasks);
                tasks.Clear();
            }
        }

        await Task.WhenAll(tasks);

        // A final well-formed request on the same socket: everything before it has been read.
        await SendAsync(socket, "{\"jsonrpc\":\"2.0\",\"id\":\"end\",\"method\":\"public/test\"}");
        var answers = await receiver.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(answers.Where(a => !a.Contains("\"id\":\"end\"")), a => Assert.Contains("\"error\":{\"code\":", a));

        string after = await sequencer.QueryAsync(e => e.ComputeStateHashHex());
        Assert.Equal(before, after);
        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        output.WriteLine($"seed {seed}: {http:N0} over HTTP ({string.Join(", ", statusCounts.OrderBy(p => p.Key).Select(p => $"{p.Value:N0}× {p.Key}"))}), {webSocket:N0} over WebSocket ({answers.Count:N0} answers); state hash unchanged.");
    }

    private static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Reads answers until the one with id "end"; the server may also close the socket on a grossly oversized frame.</summary>
    private static async Task<List<string>> ReceiveAllAsync(ClientWebSocket socket)
    {
        var answers = new List<string>();
        var buffer = new byte[1 << 20];
        while (true)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The server closed the fuzz WebSocket: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            string text = Encoding.UTF8.GetString(buffer, 0, length);
            answers.Add(text);
            if (text.Contains("\"id\":\"end\""))
            {
                return answers;
            }
        }
    }
}
