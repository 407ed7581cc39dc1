using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Transport;

/// <summary>
/// <c>/ws/api/v2</c>: JSON-RPC over WebSocket. One loop reads requests and dispatches each at once
/// (a client may pipeline: it need not wait for an answer before sending the next request); answers
/// go back as they complete, through the connection's outbound queue, which the thread that queued
/// them writes to the socket (<see cref="DeribitConnection"/>). Because a handler submits to the
/// engine before its first await, requests of one connection reach the engine in the order they
/// were sent.
/// </summary>
public static class DeribitWebSocket
{
    public static async Task HandleAsync(HttpContext http, RpcDispatcher dispatcher, DeribitConnections connections, ILogger logger)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("This is the WebSocket endpoint of the Deribit-compatible API: connect with a WebSocket client.");
            return;
        }

        var (socket, batching) = await AcceptAsync(http);
        using var ownedSocket = socket;
        var connection = new DeribitConnection(http.Connection.RemoteIpAddress ?? IPAddress.Loopback);
        connections.Add(connection);
        connection.AttachWriter(reader => WriteQueuedAsync(socket, batching, reader));
        var writer = connection.Drained;
        var readDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.OnClosed(c =>
        {
            if (c.CloseReason is not null)
            {
                _ = CloseFromServerAsync(socket, c, writer, readDone.Task);
            }
        });
        try
        {
            await ReadLoopAsync(socket, connection, dispatcher);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away (or the server gave up waiting for its close frame); nothing to answer.
        }
        finally
        {
            readDone.TrySetResult();
            connection.MarkClosed();
            connections.Remove(connection);
            await writer;
            await CloseAsync(socket, connection, logger);
        }
    }

    /// <summary>
    /// Accepts the WebSocket. Over HTTP/1.1 the handshake is the one <c>AcceptWebSocketAsync</c>
    /// makes (no subprotocol, no compression), but the WebSocket runs over a
    /// <see cref="BatchingStream"/>, so that the writer loop can send what is queued in one write;
    /// anything else (HTTP/2 WebSockets) takes the framework's accept.
    /// </summary>
    private static async Task<(WebSocket Socket, BatchingStream? Batching)> AcceptAsync(HttpContext http)
    {
        var keepAlive = TimeSpan.FromSeconds(30);
        var upgrade = http.Features.Get<IHttpUpgradeFeature>();
        string? key = http.Request.Headers.SecWebSocketKey;
        if (upgrade is not { IsUpgradableRequest: true } || string.IsNullOrEmpty(key))
        {
            return (await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = keepAlive }), null);
        }

        http.Response.Headers.Connection = "Upgrade";
        http.Response.Headers.Upgrade = "websocket";
        http.Response.Headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        var stream = new BatchingStream(await upgrade.UpgradeAsync());
        return (WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = keepAlive }), stream);
    }

    private static async Task ReadLoopAsync(WebSocket socket, DeribitConnection connection, RpcDispatcher dispatcher)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        // Answers the calls that finish after Dispatch returns (orders wait for the journal): one
        // delegate per connection, not one per call.
        Action<RpcContext, RpcOutcome> answerLater = (context, outcome) => Answer(context.Connection!, context.RequestId, outcome, context.UsIn, dispatcher);
        while (!connection.IsClosed)
        {
            buffer.ResetWrittenCount();
            bool tooLarge = false;
            ValueWebSocketReceiveResult received;
            do
            {
                var memory = buffer.GetMemory(4096);
                // Not cancelled when the server closes the connection: that would abort the socket
                // without a close frame. CloseFromServerAsync sends one and waits for the client's.
                received = await socket.ReceiveAsync(memory, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (buffer.WrittenCount + received.Count > RpcEnvelope.MaxRequestBytes)
                {
                    tooLarge = true;
                    buffer.ResetWrittenCount(); // keep draining the frame without keeping it
                }
                else
                {
                    buffer.Advance(received.Count);
                }
            }
            while (!received.EndOfMessage);

            long usIn = dispatcher.NowMicros();
            connection.CountRequest();
            if (tooLarge)
            {
                Answer(connection, null, RpcOutcome.Failed(RpcError.RequestTooLarge(RpcEnvelope.MaxRequestBytes)), usIn, dispatcher);
                continue;
            }

            if (!RpcEnvelope.TryParse(buffer.WrittenMemory, out var request, out byte[]? id, out var error, dispatcher.Methods))
            {
                Answer(connection, id, RpcOutcome.Failed(error!), usIn, dispatcher);
                continue;
            }

            var context = RpcContext.ForWebSocket(connection, usIn, request!.Id);
            if (dispatcher.Methods.TryGet(request.Method, out var method) && method.SessionChanging)
            {
                Answer(connection, request.Id, await dispatcher.DispatchAsync(context, request), usIn, dispatcher);
            }
            else if (dispatcher.Dispatch(context, request, answerLater) is { } outcome)
            {
                Answer(connection, request.Id, outcome, usIn, dispatcher);
            }
        }
    }

    private static void Answer(DeribitConnection connection, byte[]? id, RpcOutcome outcome, long usIn, RpcDispatcher dispatcher)
    {
        // One writer per thread, reused: the answer is copied out into a pooled buffer for the queue.
        var output = answerBuffer ??= new ArrayBufferWriter<byte>(2048);
        output.ResetWrittenCount();
        long usOut = dispatcher.NowMicros();
        if (outcome.Error is { } error)
        {
            RpcResponse.WriteError(output, id, error, usIn, usOut);
        }
        else
        {
            RpcResponse.WriteResult(output, id, outcome.Result, usIn, usOut);
        }

        connection.TrySendCopy(output.WrittenSpan);
        if (output.Capacity > 64 * 1024)
        {
            answerBuffer = null; // a rare large answer: do not keep its buffer
        }
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? answerBuffer;

    /// <summary>
    /// Writes what is queued, in order, each message its own frame (the connection calls it, one
    /// caller at a time, from whichever thread queued a message while no write was in progress).
    /// With a <see cref="BatchingStream"/> the frames of everything queued at the moment (up to
    /// <see cref="BatchingStream.MaxBatchBytes"/>) go out in one transport write and one flush.
    /// </summary>
    private static async ValueTask WriteQueuedAsync(WebSocket socket, BatchingStream? batching, ChannelReader<OutboundMessage> reader)
    {
        if (batching is null)
        {
            while (reader.TryRead(out var message))
            {
                await socket.SendAsync(message.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                message.Release(); // the WebSocket copied it into its frame
            }

            return;
        }

        batching.BeginBatch();
        try
        {
            while (batching.Buffered < BatchingStream.MaxBatchBytes && reader.TryRead(out var message))
            {
                await socket.SendAsync(message.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                message.Release(); // the WebSocket copied it into its frame
            }
        }
        finally
        {
            await batching.EndBatchAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The server closes the connection (slow consumer, missed heartbeat, revoked key, logout): once
    /// the writer has sent what was queued, a close frame with the reason (1008) goes out and the
    /// client has <see cref="CloseGrace"/> to answer it; a client that does not, or whose socket is
    /// too full to take the close frame, has its connection aborted.
    /// </summary>
    private static async Task CloseFromServerAsync(WebSocket socket, DeribitConnection connection, Task writer, Task readDone)
    {
        try
        {
            if (await Task.WhenAny(writer, Task.Delay(CloseGrace)).ConfigureAwait(false) == writer && socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(CloseGrace);
                string reason = connection.CloseReason ?? "closed by the server";
                await socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, reason.Length > 120 ? reason[..120] : reason, timeout.Token).ConfigureAwait(false);
            }

            if (await Task.WhenAny(readDone, Task.Delay(CloseGrace)).ConfigureAwait(false) != readDone)
            {
                socket.Abort();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }

    /// <summary>How long a server-initiated close waits for the writer, and then for the client's close frame.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private static async Task CloseAsync(WebSocket socket, DeribitConnection connection, ILogger logger)
    {
        string? reason = connection.CloseReason;
        if (reason is not null)
        {
            logger.LogInformation("Closing WebSocket connection {Connection} from {Address}: {Reason}.", connection.Id, connection.RemoteAddress, reason);
        }

        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                string description = reason is null ? "bye" : reason.Length > 120 ? reason[..120] : reason;
                await socket.CloseOutputAsync(DeribitConnection.CloseStatusFor(connection.CloseReason), description, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // Closing a socket the client already dropped.
            }
        }
    }
}

/// <summary>The open WebSocket connections, for market data fan-out and metrics.</summary>
public sealed class DeribitConnections
{
    private readonly Lock gate = new();
    private DeribitConnection[] all = [];

    public IReadOnlyList<DeribitConnection> All => Volatile.Read(ref all);

    public int Count => All.Count;

    public void Add(DeribitConnection connection)
    {
        lock (gate)
        {
            all = [.. all, connection];
        }
    }

    public void Remove(DeribitConnection connection)
    {
        lock (gate)
        {
            all = [.. all.Where(c => c != connection)];
        }
    }
}
