using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clearhouse.Server.Deribit.Auth;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// Talks to the Deribit-compatible API the way clients do: requests signed like ccxt 4.5.84's
/// <c>deribit.sign()</c> (<c>deri-hmac-sha256 id=...,ts=...,sig=...,nonce=...</c>, nonce and ts both the
/// millisecond clock, lowercase hex), and JSON-RPC over a WebSocket.
/// </summary>
public static class DeribitClient
{
    public static long NowMillis() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>hex(HMAC-SHA256(secret, ts\nnonce\nMETHOD\nURI\nbody\n)), lowercase: Deribit's request signature.</summary>
    public static string SignRequest(string secret, string ts, string nonce, string method, string uri, string body) =>
        Hmac(secret, $"{ts}\n{nonce}\n{method}\n{uri}\n{body}\n");

    /// <summary>hex(HMAC-SHA256(secret, timestamp\nnonce\ndata)): the <c>client_signature</c> grant.</summary>
    public static string SignGrant(string secret, long timestamp, string nonce, string data) =>
        Hmac(secret, $"{timestamp.ToString(CultureInfo.InvariantCulture)}\n{nonce}\n{data}");

    public static string Hmac(string secret, string text) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(text)));

    /// <summary>The header ccxt sends for <paramref name="method"/> <paramref name="uri"/>, signed now (or at <paramref name="ts"/>).</summary>
    public static string SignatureHeader(string clientId, string secret, string method, string uri, string body = "", long? ts = null, string? nonce = null)
    {
        string time = (ts ?? NowMillis()).ToString(CultureInfo.InvariantCulture);
        nonce ??= time;
        return $"deri-hmac-sha256 id={clientId},ts={time},sig={SignRequest(secret, time, nonce, method, uri, body)},nonce={nonce}";
    }

    /// <summary>Sends a request with the given Authorization header (none when null).</summary>
    public static async Task<(int Status, JsonElement Body)> CallAsync(this RunningServer server, HttpMethod method, string uri, string? authorization, string? body = null)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>A GET signed as ccxt signs it.</summary>
    public static Task<(int Status, JsonElement Body)> SignedGetAsync(this RunningServer server, ApiKey key, string uri) =>
        server.CallAsync(HttpMethod.Get, uri, SignatureHeader(key.ClientId, key.ClientSecret, "GET", uri));

    /// <summary>A new key for a new funded account.</summary>
    public static async Task<ApiKey> NewKeyAsync(this RunningServer server, ApiScopes scopes = ApiScopes.Read | ApiScopes.Trade | ApiScopes.Withdraw)
    {
        int accountId = await server.OpenFundedAccountAsync();
        return await server.Services.GetRequiredService<ApiKeyStore>().CreateAsync(accountId, scopes, "test");
    }

    public static int ErrorCode(this JsonElement body) => body.GetProperty("error").GetProperty("code").GetInt32();

    public static string ErrorReason(this JsonElement body) => body.GetProperty("error").GetProperty("data").GetProperty("reason").GetString()!;

    /// <summary>Asserts a Deribit error answer with <paramref name="code"/> and returns its reason.</summary>
    public static string AssertError(int code, (int Status, JsonElement Body) answer)
    {
        Assert.True(answer.Body.TryGetProperty("error", out _), $"expected error {code}, got {answer.Body}");
        Assert.Equal(code, answer.Body.ErrorCode());
        Assert.Equal(code == 10028 ? 429 : 400, answer.Status);
        return answer.Body.ErrorReason();
    }

    public static JsonElement AssertResult((int Status, JsonElement Body) answer)
    {
        Assert.True(answer.Status == 200, $"expected a result, got {answer.Status}: {answer.Body}");
        return answer.Body.GetProperty("result");
    }
}

/// <summary>A JSON-RPC WebSocket client of <c>/ws/api/v2</c>: one call at a time, notifications skipped.</summary>
public sealed class DeribitSocket : IAsyncDisposable
{
    private readonly ClientWebSocket socket = new();
    private int nextId;

    private DeribitSocket()
    {
    }

    public WebSocketState State => socket.State;

    public static async Task<DeribitSocket> ConnectAsync(RunningServer server)
    {
        var client = new DeribitSocket();
        var uri = new UriBuilder(server.Address) { Scheme = "ws", Path = "/ws/api/v2" }.Uri;
        await client.socket.ConnectAsync(uri, CancellationToken.None);
        return client;
    }

    /// <summary>Sends a request without waiting for its answer; returns its id.</summary>
    public async Task<int> SendAsync(string method, object? parameters = null)
    {
        int id = ++nextId;
        byte[] request = JsonSerializer.SerializeToUtf8Bytes(new { jsonrpc = "2.0", id, method, @params = parameters ?? new { } });
        await socket.SendAsync(request, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        return id;
    }

    /// <summary>Sends a request and returns the whole answer (result or error).</summary>
    public async Task<JsonElement> CallAsync(string method, object? parameters = null)
    {
        int id = await SendAsync(method, parameters);
        while (true)
        {
            var message = await ReceiveAsync() ?? throw new InvalidOperationException($"The server closed the connection instead of answering {method}.");
            if (message.TryGetProperty("id", out var answerId) && answerId.ValueKind == JsonValueKind.Number && answerId.GetInt32() == id)
            {
                return message;
            }
        }
    }

    public async Task<JsonElement> ResultAsync(string method, object? parameters = null)
    {
        var answer = await CallAsync(method, parameters);
        Assert.True(answer.TryGetProperty("result", out var result), $"{method} answered {answer}");
        return result;
    }

    public async Task<int> ErrorCodeAsync(string method, object? parameters = null)
    {
        var answer = await CallAsync(method, parameters);
        Assert.True(answer.TryGetProperty("error", out var error), $"{method} should have failed: {answer}");
        return error.GetProperty("code").GetInt32();
    }

    /// <summary>The next message, or null once the server closed the connection.</summary>
    public async Task<JsonElement?> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        using var text = new MemoryStream();
        WebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(buffer, timeout.Token);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            text.Write(buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);

        return JsonDocument.Parse(text.ToArray()).RootElement.Clone();
    }

    /// <summary>Closes from the client's side and waits for the server's close frame.</summary>
    public async Task CloseAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (WebSocketException)
        {
        }

        socket.Dispose();
    }
}
