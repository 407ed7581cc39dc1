using System.Net;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Transport;

namespace Clearhouse.Server.Deribit.Rpc;

public enum RpcTransport
{
    Http,
    WebSocket,
}

/// <summary>
/// One call in progress: how it came (HTTP or WebSocket, from which address), when it arrived
/// (<see cref="UsIn"/>, Unix µs), who is calling once authenticated, and — over WebSocket — the
/// connection, whose state (auth, subscriptions, heartbeat) outlives the call.
/// </summary>
public sealed class RpcContext
{
    public required RpcTransport Transport { get; init; }

    public required long UsIn { get; init; }

    public required IPAddress RemoteAddress { get; init; }

    /// <summary>The request's <c>id</c> as raw JSON, for an answer sent after the call returns (WebSocket).</summary>
    public byte[]? RequestId { get; init; }

    /// <summary>The WebSocket connection; null over HTTP.</summary>
    public DeribitConnection? Connection { get; init; }

    /// <summary>The caller, once authenticated (by header, by <c>access_token</c>, or by the connection's <c>public/auth</c>).</summary>
    public ApiPrincipal? Principal { get; set; }

    /// <summary>
    /// A call read from <paramref name="connection"/>'s WebSocket at <paramref name="usIn"/>: it runs
    /// as whoever the connection authenticated as, and its answer goes back on the connection.
    /// </summary>
    public static RpcContext ForWebSocket(DeribitConnection connection, long usIn, byte[]? requestId) => new()
    {
        Transport = RpcTransport.WebSocket,
        UsIn = usIn,
        RemoteAddress = connection.RemoteAddress,
        Connection = connection,
        Principal = connection.Principal,
        RequestId = requestId,
    };

    /// <summary>The caller; a handler of a private method can rely on it (the dispatcher checked it).</summary>
    public ApiPrincipal Caller => Principal ?? throw RpcError.Unauthorized("This method needs an authenticated caller.").ToException();
}
