using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Clearhouse.Server.Deribit.Auth;

namespace Clearhouse.Server.Deribit.Transport;

/// <summary>
/// One WebSocket client: who it authenticated as (auth applies to the whole connection, as on
/// Deribit), what it subscribed to, and its outbound queue. Everything sent to the client — answers
/// and notifications — goes through <see cref="TrySend"/> into a bounded queue that one writer loop
/// drains; a client that does not read fast enough fills it and is cut off (closed with 1008),
/// so a slow consumer can never hold up the engine or other clients.
/// </summary>
public sealed class DeribitConnection
{
    /// <summary>
    /// Messages that may wait for a slow client before it is cut off: about 0.65 s of answers at
    /// 100,000 orders/s, so that one fsync stall releasing a burst of answers while the client is
    /// descheduled is not taken for a slow consumer (16,384 was, in the API benchmark); at most some
    /// 30 MB of a client that stopped reading, until it is cut off.
    /// </summary>
    public const int OutboundCapacity = 65_536;

    private static long nextId;

    private readonly Channel<byte[]> outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(OutboundCapacity)
    {
        SingleReader = true,
        SingleWriter = false,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly CancellationTokenSource closed = new();
    private readonly Lock gate = new();
    private readonly HashSet<string> subscriptions = new(StringComparer.Ordinal);
    private readonly List<Action<DeribitConnection>> onClosed = [];
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

    /// <summary>Queues a message; false when the queue is full (the client is then cut off) or the connection closed.</summary>
    public bool TrySend(byte[] message)
    {
        if (outbound.Writer.TryWrite(message))
        {
            return true;
        }

        Abort("slow consumer: the client did not read its messages fast enough");
        return false;
    }

    /// <summary>Sends one subscription notification for <paramref name="channel"/> (serialized here, on the caller's thread).</summary>
    public bool Notify(string channel, object data)
    {
        if (IsClosed)
        {
            return false;
        }

        var output = new System.Buffers.ArrayBufferWriter<byte>(256);
        Rpc.RpcResponse.WriteNotification(output, channel, data);
        return TrySend(output.WrittenSpan.ToArray());
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

    internal ChannelReader<byte[]> Outbound => outbound.Reader;

    internal void MarkClosed()
    {
        if (Interlocked.Exchange(ref closing, 1) != 0)
        {
            return;
        }

        outbound.Writer.TryComplete();
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
