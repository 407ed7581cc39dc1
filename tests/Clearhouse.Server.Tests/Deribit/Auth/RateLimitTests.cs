using System.Net;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using static Clearhouse.Server.Tests.Deribit.Auth.DeribitClient;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// Token buckets per key and per address, one per rate class. The bucket tests pass the clock
/// explicitly (µs), so they need no sleeps; the server tests use a tiny market-data budget.
/// Refusals are Deribit's 10028 too_many_requests (https://docs.deribit.com/#rate-limits).
/// </summary>
public sealed class RateLimitTests
{
    private const long Start = 1_700_000_000_000_000;
    private static readonly IPAddress Home = IPAddress.Loopback;
    private static readonly IPAddress Elsewhere = IPAddress.Parse("10.1.2.3");

    [Fact]
    public void A_bucket_gives_its_burst_at_once_then_refuses_until_time_refills_it()
    {
        var limiter = Limiter(trading: new BucketRule(PerSecond: 10, Burst: 5));
        var context = Context(Home, "k1");

        for (int i = 0; i < 5; i++)
        {
            Assert.Null(limiter.TryAcquire(context, RateClass.Trading, Start));
        }

        var refused = limiter.TryAcquire(context, RateClass.Trading, Start);
        Assert.NotNull(refused);
        Assert.Equal(10028, refused.Code);
        Assert.Equal("too_many_requests", refused.Message);
        Assert.Contains("Retry in", refused.Reason, StringComparison.Ordinal);

        // 10 per second: one token every 100 ms.
        Assert.NotNull(limiter.TryAcquire(context, RateClass.Trading, Start + 99_000));
        Assert.Null(limiter.TryAcquire(context, RateClass.Trading, Start + 100_000));
        Assert.NotNull(limiter.TryAcquire(context, RateClass.Trading, Start + 100_000));

        // Idle for a long time: the burst again, never more.
        for (int i = 0; i < 5; i++)
        {
            Assert.Null(limiter.TryAcquire(context, RateClass.Trading, Start + 60_000_000));
        }

        Assert.NotNull(limiter.TryAcquire(context, RateClass.Trading, Start + 60_000_000));
    }

    [Fact]
    public void A_market_data_flood_leaves_the_trading_budget_whole_and_the_other_way_round()
    {
        var limiter = Limiter(trading: new BucketRule(10, 3), marketData: new BucketRule(10, 3));
        var context = Context(Home, "k1");
        while (limiter.TryAcquire(context, RateClass.MarketData, Start) is null)
        {
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Null(limiter.TryAcquire(context, RateClass.Trading, Start));
        }

        Assert.NotNull(limiter.TryAcquire(context, RateClass.Trading, Start));
        Assert.NotNull(limiter.TryAcquire(context, RateClass.MarketData, Start));
    }

    [Fact]
    public void Keys_behind_one_address_share_its_budget()
    {
        var limiter = Limiter(trading: new BucketRule(10, 4));
        for (int i = 0; i < 4; i++)
        {
            Assert.Null(limiter.TryAcquire(Context(Home, "k1"), RateClass.Trading, Start));
        }

        var refused = limiter.TryAcquire(Context(Home, "k2"), RateClass.Trading, Start);
        Assert.NotNull(refused);
        Assert.Contains("address", refused.Reason, StringComparison.Ordinal);

        // Another address with a fresh key is not affected.
        Assert.Null(limiter.TryAcquire(Context(Elsewhere, "k2"), RateClass.Trading, Start));
    }

    [Fact]
    public void One_key_from_many_addresses_is_held_to_its_own_budget_and_a_refused_key_costs_the_address_nothing()
    {
        var limiter = Limiter(trading: new BucketRule(10, 2));
        Assert.Null(limiter.TryAcquire(Context(Home, "k1"), RateClass.Trading, Start));
        Assert.Null(limiter.TryAcquire(Context(Elsewhere, "k1"), RateClass.Trading, Start));

        var refused = limiter.TryAcquire(Context(IPAddress.Parse("10.9.9.9"), "k1"), RateClass.Trading, Start);
        Assert.NotNull(refused);
        Assert.Contains("API key 'k1'", refused.Reason, StringComparison.Ordinal);

        // 10.9.9.9 was refused for its key: its address still has both tokens for another key.
        Assert.Null(limiter.TryAcquire(Context(IPAddress.Parse("10.9.9.9"), "k2"), RateClass.Trading, Start));
        Assert.Null(limiter.TryAcquire(Context(IPAddress.Parse("10.9.9.9"), "k2"), RateClass.Trading, Start));
    }

    [Fact]
    public void An_ipv4_mapped_address_shares_the_bucket_of_its_ipv4_address()
    {
        var limiter = Limiter(marketData: new BucketRule(10, 1));
        Assert.Null(limiter.TryAcquire(Context(Home, null), RateClass.MarketData, Start));

        Assert.NotNull(limiter.TryAcquire(Context(Home.MapToIPv6(), null), RateClass.MarketData, Start));
    }

    [Fact]
    public void Concurrent_callers_never_get_more_than_the_burst()
    {
        var limiter = Limiter(trading: new BucketRule(1, 1000));
        int granted = 0;
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 1000; i++)
            {
                if (limiter.TryAcquire(Context(Home, "k1"), RateClass.Trading, Start) is null)
                {
                    Interlocked.Increment(ref granted);
                }
            }
        });

        Assert.Equal(1000, granted);
    }

    [Fact]
    public async Task On_the_server_a_market_data_flood_is_refused_with_10028_while_trading_calls_still_run()
    {
        await using var server = await RunningServer.StartAsync(
            demo: false, "--journal", "false", "--TickMillis", "0", "--RateLimitMarketDataPerSecond", "1", "--RateLimitMarketDataBurst", "20");
        var key = await server.NewKeyAsync();

        int refused = 0;
        for (int i = 0; i < 60; i++)
        {
            var answer = await server.CallAsync(HttpMethod.Get, "/api/v2/public/test", null);
            if (answer.Status == 429)
            {
                Assert.Equal(10028, answer.Body.ErrorCode());
                refused++;
            }
        }

        Assert.True(refused > 0, "60 calls against a burst of 20 at 1/s should be refused at least once");
        AssertResult(await server.SignedGetAsync(key, "/api/v2/private/list_api_keys"));
    }

    private static TokenBucketRateLimiter Limiter(BucketRule? trading = null, BucketRule? marketData = null) =>
        new(trading ?? new BucketRule(1_000_000, 1_000_000), marketData ?? new BucketRule(1_000_000, 1_000_000), Start);

    private static RpcContext Context(IPAddress address, string? clientId) => new()
    {
        Transport = RpcTransport.Http,
        UsIn = Start,
        RemoteAddress = address,
        Principal = clientId is null ? null : new ApiPrincipal(clientId, 1, ApiScopes.Read | ApiScopes.Trade),
    };
}
