using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Operations;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>The answer to one call: a result, or an error. Exactly one is set.</summary>
public readonly record struct RpcOutcome(object? Result, RpcError? Error)
{
    public static RpcOutcome Failed(RpcError error) => new(null, error);
}

/// <summary>
/// Runs one call, whatever the transport: finds the method, authenticates (an <c>access_token</c>
/// parameter, else what the transport established), checks the scope, charges the rate limit, then
/// runs the handler. Every refusal is an <see cref="RpcError"/> and happens before the handler runs,
/// so a refused call changes nothing.
/// </summary>
public sealed class RpcDispatcher(RpcMethodTable methods, IApiAuthenticator authenticator, IRateLimiter rateLimiter, TimeProvider clock, ILogger<RpcDispatcher> logger, VenueMetrics? metrics = null)
{
    public RpcMethodTable Methods => methods;

    public long NowMicros() => (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    /// <summary>Runs the call and records its outcome in the metrics (order entry: its latency too).</summary>
    public ValueTask<RpcOutcome> DispatchAsync(RpcContext context, RpcEnvelope request)
    {
        if (Start(context, request, out string metricName, out var running) is { } outcome)
        {
            Record(context, metricName, outcome);
            return ValueTask.FromResult(outcome);
        }

        return Finish(context, running, metricName, answer: null);
    }

    /// <summary>
    /// Runs the call and records its outcome, like <see cref="DispatchAsync"/>, for a caller that
    /// answers through a callback (the WebSocket): the outcome when the call finished at once, else
    /// null, and <paramref name="answer"/> is called with it once it finishes, on the thread that
    /// finishes it. One state machine per pending call, where awaiting <see cref="DispatchAsync"/>
    /// took two.
    /// </summary>
    public RpcOutcome? Dispatch(RpcContext context, RpcEnvelope request, Action<RpcContext, RpcOutcome> answer)
    {
        if (Start(context, request, out string metricName, out var running) is { } outcome)
        {
            Record(context, metricName, outcome);
            return outcome;
        }

        _ = Finish(context, running, metricName, answer);
        return null;
    }

    private void Record(RpcContext context, string metricName, RpcOutcome outcome) =>
        metrics?.ObserveCall(metricName, outcome.Error?.Code ?? 0, context.UsIn, NowMicros(), IsOrderEntry(metricName));

    private static bool IsOrderEntry(string method) => method is "private/buy" or "private/sell" or "private/edit" or "private/cancel";

    /// <summary>
    /// Checks and starts the call: its outcome when it finished at once (a refusal, or a handler that
    /// did not wait), else null with the handler's pending result in <paramref name="running"/>.
    /// </summary>
    private RpcOutcome? Start(RpcContext context, RpcEnvelope request, out string metricName, out ValueTask<object?> running)
    {
        running = default;
        if (!methods.TryGet(request.Method, out var method))
        {
            metricName = "unknown";
            return RpcOutcome.Failed(RpcError.MethodNotFound(request.Method));
        }

        metricName = method.Name;

        try
        {
            if (method.WebSocketOnly && context.Transport != RpcTransport.WebSocket)
            {
                return RpcOutcome.Failed(RpcError.MustBeWebSocket(method.Name));
            }

            long now = NowMicros();
            if (request.Params.String("access_token", maxLength: 512) is { } token)
            {
                context.Principal = authenticator.ValidateAccessToken(token, now);
            }

            if (method.Scope != ApiScopes.None || method.IsPrivate)
            {
                if (context.Principal is not { } principal)
                {
                    return RpcOutcome.Failed(RpcError.Unauthorized($"'{method.Name}' needs authentication: call public/auth, or sign the request."));
                }

                if (!principal.Allows(method.Scope))
                {
                    return RpcOutcome.Failed(RpcError.Forbidden($"The API key '{principal.ClientId}' does not have the {method.Scope.ToString().ToLowerInvariant()} scope that '{method.Name}' needs."));
                }
            }

            if (rateLimiter.TryAcquire(context, method.RateClass, now) is { } limited)
            {
                return RpcOutcome.Failed(limited);
            }

            var pending = method.Handler(context, request.Params);
            if (pending.IsCompletedSuccessfully)
            {
                return new RpcOutcome(pending.Result, null);
            }

            running = pending;
            return null;
        }
        catch (Exception ex)
        {
            return Fail(ex, method.Name);
        }
    }

    /// <summary>
    /// Waits for a handler that did not finish at once (an order waits for the engine and the
    /// journal), records the outcome and, when given, answers it.
    /// </summary>
    private async ValueTask<RpcOutcome> Finish(RpcContext context, ValueTask<object?> running, string name, Action<RpcContext, RpcOutcome>? answer)
    {
        RpcOutcome outcome;
        try
        {
            outcome = new RpcOutcome(await running.ConfigureAwait(false), null);
        }
        catch (Exception ex)
        {
            outcome = Fail(ex, name);
        }

        Record(context, name, outcome);
        answer?.Invoke(context, outcome);
        return outcome;
    }

    private RpcOutcome Fail(Exception ex, string name)
    {
        switch (ex)
        {
            case RpcException rpc:
                return RpcOutcome.Failed(rpc.Error);
            case SequencerStoppedException:
                return RpcOutcome.Failed(RpcError.Unavailable("The venue is shutting down; nothing was applied."));
            default:
                logger.LogError(ex, "Method {Method} failed.", name);
                return RpcOutcome.Failed(RpcError.Internal("The server failed while answering; see its log."));
        }
    }
}
