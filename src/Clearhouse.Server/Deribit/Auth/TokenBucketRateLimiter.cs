using System.Collections.Concurrent;
using System.Net;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// Token buckets per API key and per remote address, one for each <see cref="RateClass"/>, so a
/// flood of market-data calls never spends the trading budget and the other way round. A call
/// needs a token from its address's bucket and, when authenticated, from its key's bucket too:
/// many keys behind one address share that address's budget, and one key used from many
/// addresses is still held to its own. Refused with 10028 <c>too_many_requests</c>.
/// <para>
/// Each bucket is one <see cref="long"/> updated with compare-and-swap (the generic cell rate
/// algorithm: the bucket stores the time at which it will be full again), so the check costs a
/// dictionary lookup and an interlocked operation, with no lock. Rates and bursts are
/// <see cref="ServerOptions"/> keys (<c>RateLimitTradingPerSecond</c>, <c>RateLimitTradingBurst</c>,
/// <c>RateLimitMarketDataPerSecond</c>, <c>RateLimitMarketDataBurst</c>).
/// </para>
/// </summary>
public sealed class TokenBucketRateLimiter : IRateLimiter
{
    /// <summary>Buckets kept before idle (full) ones are dropped.</summary>
    private const int SweepAboveBuckets = 10_000;

    private readonly BucketRule trading;
    private readonly BucketRule marketData;
    private readonly ConcurrentDictionary<string, BucketPair> byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, BucketPair> byAddress = new();
    private readonly long originMicros;
    private readonly Func<IPAddress, BucketPair> newAddressBuckets;
    private readonly Func<string, BucketPair> newKeyBuckets;
    private int sweeping;

    /// <summary>Buckets made since the last sweep, roughly (ConcurrentDictionary.Count takes every lock, too dear per call).</summary>
    private int created;

    public TokenBucketRateLimiter(ServerOptions options, TimeProvider clock)
        : this(
            new BucketRule(options.RateLimitTradingPerSecond, options.RateLimitTradingBurst),
            new BucketRule(options.RateLimitMarketDataPerSecond, options.RateLimitMarketDataBurst),
            (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond)
    {
    }

    /// <summary>For tests: explicit rules and the time (Unix µs) the limiter starts at.</summary>
    public TokenBucketRateLimiter(BucketRule trading, BucketRule marketData, long originMicros)
    {
        this.trading = trading;
        this.marketData = marketData;
        this.originMicros = originMicros;
        newAddressBuckets = _ => NewPair();
        newKeyBuckets = _ => NewPair();
    }

    public RpcError? TryAcquire(RpcContext context, RateClass rateClass, long nowMicros)
    {
        var rule = rateClass == RateClass.Trading ? trading : marketData;

        // Nanoseconds since the limiter started: a long holds 292 years of them.
        long now = Math.Max(0, nowMicros - originMicros) * 1000;
        var address = Normalize(context.RemoteAddress);
        var addressBuckets = byAddress.GetOrAdd(address, newAddressBuckets);
        if (!addressBuckets.For(rateClass).TryTake(rule, now, out long addressWait))
        {
            return Refuse(rateClass, rule, $"address {address}", addressWait);
        }

        if (context.Principal is { } principal)
        {
            var keyBuckets = byKey.GetOrAdd(principal.ClientId, newKeyBuckets);
            if (!keyBuckets.For(rateClass).TryTake(rule, now, out long keyWait))
            {
                // The key cannot go ahead: give the address its token back.
                addressBuckets.For(rateClass).Return(rule);
                return Refuse(rateClass, rule, $"API key '{principal.ClientId}'", keyWait);
            }
        }

        if (Volatile.Read(ref created) > SweepAboveBuckets)
        {
            Sweep(now);
        }

        return null;
    }

    private BucketPair NewPair()
    {
        Interlocked.Increment(ref created);
        return new BucketPair();
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static RpcError Refuse(RateClass rateClass, BucketRule rule, string who, long waitNanos) =>
        RpcError.TooManyRequests(
            $"Too many {(rateClass == RateClass.Trading ? "trading" : "market data")} requests from {who}: the limit is {rule.PerSecond}/s with bursts of {rule.Burst}. "
            + $"Retry in {Math.Max(1, (waitNanos + 999_999) / 1_000_000)} ms.");

    /// <summary>Drops buckets that are full again (idle): they behave exactly as new ones. Buckets in use stay.</summary>
    private void Sweep(long now)
    {
        if (Interlocked.Exchange(ref sweeping, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (var (address, pair) in byAddress)
            {
                if (pair.IsIdle(now))
                {
                    byAddress.TryRemove(address, out _);
                }
            }

            foreach (var (key, pair) in byKey)
            {
                if (pair.IsIdle(now))
                {
                    byKey.TryRemove(key, out _);
                }
            }
        }
        finally
        {
            Volatile.Write(ref created, 0);
            Volatile.Write(ref sweeping, 0);
        }
    }

    private sealed class BucketPair
    {
        public readonly Bucket Trading = new();
        public readonly Bucket MarketData = new();

        public Bucket For(RateClass rateClass) => rateClass == RateClass.Trading ? Trading : MarketData;

        public bool IsIdle(long now) => Trading.IsFull(now) && MarketData.IsFull(now);
    }

    /// <summary>
    /// One bucket: <see cref="fullAt"/> is when it will hold <see cref="BucketRule.Burst"/> tokens
    /// again (ns since the limiter's origin). Taking a token moves it one interval later; a take
    /// that would move it more than a burst's worth past now is refused.
    /// </summary>
    private sealed class Bucket
    {
        private long fullAt;

        public bool TryTake(BucketRule rule, long now, out long waitNanos)
        {
            while (true)
            {
                long current = Volatile.Read(ref fullAt);
                long next = Math.Max(current, now) + rule.IntervalNanos;
                if (next - now > rule.WindowNanos)
                {
                    waitNanos = next - now - rule.WindowNanos;
                    return false;
                }

                if (Interlocked.CompareExchange(ref fullAt, next, current) == current)
                {
                    waitNanos = 0;
                    return true;
                }
            }
        }

        public void Return(BucketRule rule) => Interlocked.Add(ref fullAt, -rule.IntervalNanos);

        public bool IsFull(long now) => Volatile.Read(ref fullAt) <= now;
    }
}

/// <summary>
/// A bucket's size: <paramref name="PerSecond"/> tokens a second, at most <paramref name="Burst"/>
/// at once. The interval per token is rounded down to whole nanoseconds, which favours the
/// caller by under a nanosecond per call.
/// </summary>
public sealed record BucketRule(int PerSecond, int Burst)
{
    public long IntervalNanos { get; } = Math.Max(1, 1_000_000_000L / Math.Max(1, PerSecond));

    public long WindowNanos => IntervalNanos * Burst;
}
