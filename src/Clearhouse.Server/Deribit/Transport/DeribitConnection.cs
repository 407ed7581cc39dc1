using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Transport;

/// <summary>
/// One WebSocket client: who it authenticated as (auth applies to the whole connection, as on
/// Deribit), what it subscribed to, and its outbound queue. Everything sent to the client — answers
/// and notifications — goes through <see cref="TrySend"/> into a bounded queue; a client that does
/// not read fast enough fills it and is cut off (closed with 1008), so a slow consumer can never
/// hold up the engine or other clients.
/// <para>
/// There is no writer thread: the thread that queues a message writes the queue out itself when no
/// write is in progress (one writer at a time; a write that must wait for the socket continues
/// asynchronously and later messages queue behind it). Answers the journal releases together are
/// completed inside an <see cref="AnswerBatch"/>, and the connection writes them out once, at the
/// end of the batch, in one transport write. This saves the two thread wake-ups per batch that a
/// writer loop costs (measured in docs/benchmarks.md).
/// </para>
/// </summary>
public sealed class DeribitConnection : IBatchedOutput
{
    /// <summary>
    /// Messages that may wait for a slow client before it is cut off: about 0.65 s of answers at
    /// 100,000 orders/s, so that one fsync stall releasing a burst of answers while the client is
    /// descheduled is not taken for a slow consumer (16,384 was, in the API benchmark); at most some
    /// 30 MB of a client that stopped reading, until it is cut off.
    /// </summary>
    public const int OutboundCapacity = 65_536;

    private static long nextId;

    private readonly Channel<OutboundMessage> outbound = Channel.CreateBounded<OutboundMessage>(new BoundedChannelOptions(OutboundCapacity)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly CancellationTokenSource closed = new();
    private readonly Lock gate = new();
    private readonly HashSet<string> subscriptions = new(StringComparer.Ordinal);
    private readonly List<Action<DeribitConnection>> onClosed = [];
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<ChannelReader<OutboundMessage>, ValueTask>? writeQueued;
    private int writing;
    private int closing;
    private long requestsReceived;

    public DeribitConnection(IPAddress remoteAddress)
    {
        RemoteAddress = remoteAddress;
        Id = Interlocked.Increment(ref nextId);
    }

    public long Id { get; }

    public IPAddress RemoteAddress { get; }

    /// <summary>Set by <c>public/auth</c>; every later call on the connection runs as this caller.</summary>
    public ApiPrincipal? Principal { get; set; }

    /// <summary>Cancelled when the connection closes, for whatever reason.</summary>
    public CancellationToken Closed => closed.Token;

    public bool IsClosed => Volatile.Read(ref closing) != 0;

    /// <summary>Why the server closed it, if it did (slow consumer, heartbeat missed).</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Requests received so far: the heartbeat checks that a client answered its <c>test_request</c> (any request counts).</summary>
    public long RequestsReceived => Volatile.Read(ref requestsReceived);

    /// <summary>Counts one request from the client. Only the connection's read loop calls it, so a plain store suffices (no locked increment on the order path).</summary>
    internal void CountRequest() => Volatile.Write(ref requestsReceived, requestsReceived + 1);

    /// <summary>
    /// Queues a message and sees that it is written; false when the queue is full (the client is
    /// then cut off) or the connection closed. The array is not copied: it may be shared with other
    /// connections (a market data notification, a heartbeat) and must not change afterwards.
    /// </summary>
    public bool TrySend(byte[] message) => TryQueue(new OutboundMessage(message, message.Length, Rented: false));

    /// <summary>
    /// Queues a copy of <paramref name="message"/> in a buffer rented from the shared pool, which goes
    /// back to the pool once written: for what is serialized for this connection alone (an answer),
    /// where a new array per message was the largest allocation of the order path.
    /// </summary>
    public bool TrySendCopy(ReadOnlySpan<byte> message)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(message.Length);
        message.CopyTo(buffer);
        var queued = new OutboundMessage(buffer, message.Length, Rented: true);
        if (TryQueue(queued))
        {
            return true;
        }

        queued.Release();
        return false;
    }

    private bool TryQueue(OutboundMessage message)
    {
        if (outbound.Writer.TryWrite(message))
        {
            if (!AnswerBatch.TryDefer(this))
            {
                WriteOut();
            }

            return true;
        }

        if (!IsClosed)
        {
            Abort("slow consumer: the client did not read its messages fast enough");
        }

        return false;
    }

    /// <summary>
    /// Completes once everything queued before the connection closed has been written (or writing
    /// failed): what a server-initiated close waits for before its close frame.
    /// </summary>
    internal Task Drained => drained.Task;

    /// <summary>
    /// Attaches the transport: <paramref name="write"/> writes out what is queued (as much as it
    /// likes of it; it is called again while more is queued), never by two threads at once.
    /// Without a transport (tests) messages stay queued in <see cref="Outbound"/>.
    /// </summary>
    internal void AttachWriter(Func<ChannelReader<OutboundMessage>, ValueTask> write)
    {
        writeQueued = write;
        WriteOut();
    }

    void IBatchedOutput.Flush() => WriteOut();

    /// <summary>Writes the queue out on this thread unless a write is in progress (whose writer then takes what was queued meanwhile).</summary>
    private void WriteOut()
    {
        if (writeQueued is not null && Interlocked.CompareExchange(ref writing, 1, 0) == 0)
        {
            _ = WriteOutAsync(writeQueued);
        }
    }

    private async Task WriteOutAsync(Func<ChannelReader<OutboundMessage>, ValueTask> write)
    {
        var reader = outbound.Reader;
        try
        {
            while (true)
            {
                while (reader.TryPeek(out _))
                {
                    await write(reader).ConfigureAwait(false);
                }

                // Release, then look again: a message queued after the last look but before the
                // release found the write in progress and left it to this writer (the exchange is a
                // full fence, so one of the two sees the other).
                Interlocked.Exchange(ref writing, 0);
                if (reader.Completion.IsCompleted)
                {
                    drained.TrySetResult();
                    return;
                }

                if (!reader.TryPeek(out _) || Interlocked.CompareExchange(ref writing, 1, 0) != 0)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort("the connection failed while sending");
            drained.TrySetResult();
        }
    }

    /// <summary>Sends one subscription notification for <paramref name="channel"/> (serialized here, on the caller's thread).</summary>
    public bool Notify(string channel, object data)
    {
        if (IsClosed)
        {
            return false;
        }

        var output = new ArrayBufferWriter<byte>(256);
        Rpc.RpcResponse.WriteNotification(output, channel, data);
        return TrySendCopy(output.WrittenSpan);
    }

    /// <summary>Adds channels; returns the ones that were added (already subscribed ones count as added).</summary>
    public IReadOnlyList<string> Subscribe(IEnumerable<string> channels)
    {
        lock (gate)
        {
            var added = new List<string>();
            foreach (string channel in channels)
            {
                subscriptions.Add(channel);
                added.Add(channel);
            }

            return added;
        }
    }

    public IReadOnlyList<string> Unsubscribe(IEnumerable<string> channels)
    {
        lock (gate)
        {
            var removed = new List<string>();
            foreach (string channel in channels)
            {
                if (subscriptions.Remove(channel))
                {
                    removed.Add(channel);
                }
            }

            return removed;
        }
    }

    public IReadOnlyList<string> Subscriptions
    {
        get
        {
            lock (gate)
            {
                return [.. subscriptions];
            }
        }
    }

    public bool IsSubscribed(string channel)
    {
        lock (gate)
        {
            return subscriptions.Contains(channel);
        }
    }

    /// <summary>Runs <paramref name="callback"/> once when the connection closes (at once if it already has).</summary>
    public void OnClosed(Action<DeribitConnection> callback)
    {
        lock (gate)
        {
            if (!IsClosed)
            {
                onClosed.Add(callback);
                return;
            }
        }

        callback(this);
    }

    /// <summary>Closes the connection from the server's side, saying why.</summary>
    public void Abort(string reason)
    {
        CloseReason ??= reason;
        MarkClosed();
    }

    internal ChannelReader<OutboundMessage> Outbound => outbound.Reader;

    internal void MarkClosed()
    {
        if (Interlocked.Exchange(ref closing, 1) != 0)
        {
            return;
        }

        outbound.Writer.TryComplete();
        WriteOut(); // writes what is left, then completes Drained (or the writer in progress does)
        closed.Cancel();
        Action<DeribitConnection>[] callbacks;
        lock (gate)
        {
            callbacks = [.. onClosed];
            onClosed.Clear();
        }

        foreach (var callback in callbacks)
        {
            try
            {
                callback(this);
            }
            catch
            {
                // A close callback must not keep the others from running; each logs its own failures.
            }
        }
    }

    internal static WebSocketCloseStatus CloseStatusFor(string? reason) =>
        reason is null ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.PolicyViolation;
}

/// <summary>
/// One message in a connection's outbound queue: its bytes, and whether its buffer was rented from
/// <see cref="ArrayPool{T}.Shared"/> (then longer than <see cref="Length"/>, and returned by
/// <see cref="Release"/> once the message is written; one left behind by a closed connection is
/// simply collected).
/// </summary>
public readonly record struct OutboundMessage(byte[] Buffer, int Length, bool Rented)
{
    public ReadOnlyMemory<byte> Bytes => Buffer.AsMemory(0, Length);

    /// <summary>Gives a rented buffer back to the pool: once, after its bytes were written or dropped.</summary>
    public void Release()
    {
        if (Rented)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}
