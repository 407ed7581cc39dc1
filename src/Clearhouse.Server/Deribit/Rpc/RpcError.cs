namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>
/// A Deribit error object: <c>{"code":10009,"message":"not_enough_funds","data":{"reason":...,"param":...}}</c>.
/// <see cref="Message"/> is Deribit's short token (what ccxt and Deribit clients match on);
/// <see cref="Reason"/> is the sentence a person reads. Codes are Deribit's, so that existing clients
/// raise the right exception (ccxt: 10009 → InsufficientFunds, 10004 → OrderNotFound, 13009 →
/// AuthenticationError, 10028 → DDoSProtection, -32602 → BadRequest; docs/api.md has the table).
/// </summary>
public sealed record RpcError(int Code, string Message, string? Reason = null, string? Param = null)
{
    public RpcException ToException() => new(this);

    // JSON-RPC's own.
    public static RpcError ParseError(string reason) => new(-32700, "Parse error", reason);

    public static RpcError InvalidRequest(string reason) => new(-32600, "Invalid Request", reason);

    public static RpcError MethodNotFound(string method) => new(-32601, "Method not found", $"There is no method '{method}'.", "method");

    public static RpcError InvalidParams(string param, string reason) => new(-32602, "Invalid params", reason, param);

    public static RpcError MissingParam(string param) => new(-32602, "Invalid params", $"'{param}' is required.", param);

    // Deribit's.
    public static RpcError Unauthorized(string reason) => new(13009, "unauthorized", reason);

    public static RpcError InvalidCredentials(string reason) => new(13004, "invalid_credentials", reason);

    public static RpcError Forbidden(string reason) => new(13021, "forbidden", reason);

    public static RpcError TooManyRequests(string reason) => new(10028, "too_many_requests", reason);

    public static RpcError UnknownInstrument(string name) =>
        new(10020, "invalid_or_unsupported_instrument", $"There is no instrument named '{name}'.", "instrument_name");

    public static RpcError OrderNotFound(string orderId) => new(10004, "order_not_found", $"There is no order '{orderId}' of this account.", "order_id");

    public static RpcError RequestTooLarge(int limit) => new(11050, "bad_request", $"The request is larger than {limit} bytes.");

    public static RpcError MustBeWebSocket(string method) => new(10030, "must_be_websocket_request", $"'{method}' works only over the WebSocket API (/ws/api/v2).");

    public static RpcError Unavailable(string reason) => new(10040, "retry", reason);

    public static RpcError Internal(string reason) => new(11094, "internal_server_error", reason);
}

/// <summary>Thrown by a handler to answer with <see cref="Error"/>; nothing was changed.</summary>
public sealed class RpcException(RpcError error) : Exception(error.Reason ?? error.Message)
{
    public RpcError Error { get; } = error;
}
