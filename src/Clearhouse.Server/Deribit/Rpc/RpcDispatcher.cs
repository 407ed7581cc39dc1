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
        var pending = RunAsync(context, request, out string metricName);
        if (pending.IsCompletedSuccessfully)
        {
            Record(context, metricName, pending.Result);
        }

        // Otherwise the handler is still running, and AwaitAndRecord records it when it completes.
        return pending;
    }

    private void Record(RpcContext context, string metricName, RpcOutcome outcome) =>
        metrics?.ObserveCall(metricName, outcome.Error?.Code ?? 0, context.UsIn, NowMicros(), IsOrderEntry(metricName));

    private static bool IsOrderEntry(string method) => method is "private/buy" or "private/sell" or "private/edit" or "private/cancel";

    private ValueTask<RpcOutcome> RunAsync(RpcContext context, RpcEnvelope request, out string metricName)
    {
        if (!methods.TryGet(request.Method, out var method))
        {
            metricName = "unknown";
            return ValueTask.FromResult(RpcOutcome.Failed(RpcError.MethodNotFound(request.Method)));
        }

        metricName = method.Name;

        try
        {
            if (method.WebSocketOnly && context.Transport != RpcTransport.WebSocket)
            {
                return ValueTask.FromResult(RpcOutcome.Failed(RpcError.MustBeWebSocket(method.Name)));
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
                    return ValueTask.FromResult(RpcOutcome.Failed(RpcError.Unauthorized($"'{method.Name}' needs authentication: call public/auth, or sign the request.")));
                }

                if (!principal.Allows(method.Scope))
                {
                    return ValueTask.FromResult(RpcOutcome.Failed(RpcError.Forbidden($"The API key '{principal.ClientId}' does not have the {method.Scope.ToString().ToLowerInvariant()} scope that '{method.Name}' needs.")));
                }
            }

            if (rateLimiter.TryAcquire(context, method.RateClass, now) is { } limited)
            {
                return ValueTask.FromResult(RpcOutcome.Failed(limited));
            }

            var pending = method.Handler(context, request.Params);
            return pending.IsCompletedSuccessfully ? ValueTask.FromResult(new RpcOutcome(pending.Result, null)) : AwaitAndRecord(context, pending, method.Name);
        }
        catch (Exception ex)
        {
            return ValueTask.FromResult(Fail(ex, method.Name));
        }
    }

    /// <summary>
    /// Waits for a handler that did not finish at once (an order waits for the engine and the
    /// journal) and records the outcome: one state machine per such call, where awaiting and
    /// recording separately took two.
    /// </summary>
    private async ValueTask<RpcOutcome> AwaitAndRecord(RpcContext context, ValueTask<object?> pending, string name)
    {
        RpcOutcome outcome;
        try
        {
            outcome = new RpcOutcome(await pending.ConfigureAwait(false), null);
        }
        catch (Exception ex)
        {
            outcome = Fail(ex, name);
        }

        Record(context, name, outcome);
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
