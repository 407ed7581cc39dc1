using System.Text.Json.Serialization;
using Clearhouse.Core.Engine;

namespace Clearhouse.Server.Api;

/// <summary>
/// The body of every error answer: <c>code</c> is a <see cref="RejectReason"/> (the engine refused
/// the command) or a <see cref="GatewayReason"/> (900–999: the request never reached the engine),
/// <c>reason</c> the enum name, <c>message</c> a sentence, <c>field</c> the offending field when one is known.
/// </summary>
public sealed record ApiError(
    int Code,
    string Reason,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Sequence = null)
{
    public static ApiError From(RejectReason reason, long? sequence = null) =>
        new((int)reason, reason.ToString(), RejectReasons.Describe(reason), Sequence: sequence);

    public static ApiError From(GatewayReason reason, string? field = null, string? message = null) =>
        new((int)reason, reason.ToString(), message ?? GatewayReasons.Describe(reason), field);

    /// <summary>404 for things that do not exist, 503 while shutting down, 500 for our own failures, 400 for everything else.</summary>
    [JsonIgnore]
    public int HttpStatus => Code switch
    {
        (int)RejectReason.UnknownAccount or (int)RejectReason.UnknownInstrument
            or (int)RejectReason.UnknownOrder or (int)RejectReason.UnknownUnderlying
            or (int)GatewayReason.UnknownBlock or (int)GatewayReason.AccountNotYetInBlock
            or (int)GatewayReason.UnknownLiquidation =>  StatusCodes.Status404NotFound,
        (int)GatewayReason.OperatorCredentialRequired => StatusCodes.Status401Unauthorized,
        (int)GatewayReason.EngineUnavailable => StatusCodes.Status503ServiceUnavailable,
        (int)GatewayReason.InternalError => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };

    public IResult ToResult() => Results.Json(this, statusCode: HttpStatus);
}
