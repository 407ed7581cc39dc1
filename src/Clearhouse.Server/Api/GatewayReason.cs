using Clearhouse.Core.Engine;

namespace Clearhouse.Server.Api;

/// <summary>
/// Why the gateway refused a request before building a command: the request never reached the
/// engine. Numbered in 900–999, a range Core's <see cref="RejectReason"/> does not use, so one
/// <c>code</c> field in API errors covers both. Stable: never renumbered.
/// </summary>
public enum GatewayReason : ushort
{
    /// <summary>The body is not a JSON object.</summary>
    MalformedRequest = 900,

    /// <summary>A required field or query parameter is missing.</summary>
    MissingField = 901,

    /// <summary>The body has a field this endpoint does not know (a typo would otherwise be ignored).</summary>
    UnknownField = 902,

    /// <summary>A field has the wrong JSON type or a value outside its allowed set (e.g. side "up").</summary>
    InvalidValue = 903,

    /// <summary>A decimal field is not a plain decimal number: NaN, Infinity, empty, or not a number.</summary>
    MalformedDecimal = 904,

    /// <summary>A decimal field has more decimal places than its type keeps (6 for prices and money, 8 for amounts).</summary>
    TooManyDecimals = 905,

    /// <summary>A number is too large (or too small) for its type.</summary>
    NumberOutOfRange = 906,

    /// <summary>No block has been sealed (and published) at that height yet.</summary>
    UnknownBlock = 910,

    /// <summary>The account exists but is not in the latest sealed block yet (opened after it): ask again after the next block.</summary>
    AccountNotYetInBlock = 911,

    /// <summary>No liquidation step with that sequence and index is kept (never happened, or older than the steps the server keeps).</summary>
    UnknownLiquidation = 912,

    /// <summary>A state-changing native endpoint was called without the operator token (docs/native-api.md).</summary>
    OperatorCredentialRequired = 920,

    /// <summary>The engine is shutting down; nothing was applied.</summary>
    EngineUnavailable = 950,

    /// <summary>The server failed; the request may or may not have been applied (see the logs).</summary>
    InternalError = 999,
}

public static class GatewayReasons
{
    public static string Describe(GatewayReason reason) => reason switch
    {
        GatewayReason.MalformedRequest => "The request body must be a JSON object.",
        GatewayReason.MissingField => "A required field is missing.",
        GatewayReason.UnknownField => "The request has a field this endpoint does not accept.",
        GatewayReason.InvalidValue => "A field has a value of the wrong type or outside its allowed set.",
        GatewayReason.MalformedDecimal => "A decimal must be a plain decimal number (as a JSON number or string); NaN and infinity are not numbers.",
        GatewayReason.TooManyDecimals => "The number has more decimal places than the venue keeps (prices and money 6, amounts 8).",
        GatewayReason.NumberOutOfRange => "The number is outside the range the venue can represent.",
        GatewayReason.UnknownBlock => "No block has been sealed at that height yet.",
        GatewayReason.AccountNotYetInBlock => "The account was opened after the latest sealed block; its proof is available once the next block is sealed.",
        GatewayReason.UnknownLiquidation => "No liquidation step with that sequence and index is kept.",
        GatewayReason.OperatorCredentialRequired => "State-changing native endpoints need the operator token: send 'Authorization: Bearer <token>' (the token is in operator-token in the data directory).",
        GatewayReason.EngineUnavailable => "The engine is shutting down; the request was not applied.",
        GatewayReason.InternalError => "The server failed while handling the request.",
        _ => $"Refused ({(int)reason}).",
    };
}
