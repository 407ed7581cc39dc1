namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>
/// Decides whether a call may run now. Called once per call after authentication, so it can charge
/// the caller's key (when there is one) and the caller's address; returns the 10028 error to answer
/// with, or null. Must be cheap and thread-safe: it runs on every request thread.
/// </summary>
public interface IRateLimiter
{
    RpcError? TryAcquire(RpcContext context, RateClass rateClass, long nowMicros);
}
