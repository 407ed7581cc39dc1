using System.Net;
using System.Text;
using Clearhouse.Server.Deribit.MarketData;
using Clearhouse.Server.Deribit.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clearhouse.Server.Tests.Deribit.MarketData;

/// <summary>
/// The heartbeat's rule on a clock the test drives: a client gets a whole interval from the moment
/// its test request went out, even when the test request itself went out late.
/// </summary>
public sealed class HeartbeatMonitorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider clock = new();
    private readonly DeribitConnection connection = new(IPAddress.Loopback);

    private async Task<string> SentAsync()
    {
        var message = await connection.Outbound.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.UTF8.GetString(message.Bytes.Span);
    }

    /// <summary>Advances the clock, then gives the monitor's loop (on the thread pool) time to act on it.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        clock.Advance(by);
        await Task.Delay(100);
    }

    [Fact]
    public async Task A_silent_client_is_disconnected_a_whole_interval_after_its_test_request_and_not_before()
    {
        new HeartbeatMonitor(clock, NullLogger<HeartbeatMonitor>.Instance).Start(connection, Interval);

        await AdvanceAsync(Interval);
        Assert.Contains("test_request", await SentAsync());
        await AdvanceAsync(Interval - TimeSpan.FromSeconds(1));
        Assert.False(connection.IsClosed);
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.True(connection.IsClosed);
        Assert.Contains("heartbeat", connection.CloseReason);
    }

    [Fact]
    public async Task A_test_request_sent_a_little_after_its_tick_does_not_give_the_client_a_second_interval()
    {
        new HeartbeatMonitor(clock, NullLogger<HeartbeatMonitor>.Instance).Start(connection, Interval);

        // The tick is handled 50 ms late, so the next one comes 9.95 s after the test request:
        // that check disconnects, as the doc says, rather than the one after it.
        await AdvanceAsync(Interval + TimeSpan.FromMilliseconds(50));
        Assert.Contains("test_request", await SentAsync());
        await AdvanceAsync(Interval - TimeSpan.FromMilliseconds(50));
        Assert.True(connection.IsClosed);
    }

    [Fact]
    public async Task A_client_that_answers_gets_a_heartbeat_and_stays()
    {
        new HeartbeatMonitor(clock, NullLogger<HeartbeatMonitor>.Instance).Start(connection, Interval);

        await AdvanceAsync(Interval);
        Assert.Contains("test_request", await SentAsync());
        connection.CountRequest();
        await AdvanceAsync(Interval);
        Assert.Contains("\"type\":\"heartbeat\"", await SentAsync());
        Assert.False(connection.IsClosed);
    }

    [Fact]
    public async Task A_test_request_that_went_out_late_still_leaves_the_client_a_whole_interval()
    {
        new HeartbeatMonitor(clock, NullLogger<HeartbeatMonitor>.Instance).Start(connection, Interval);

        // The first tick is handled 9.9 s late (a busy machine): the test request goes out then,
        // and the next tick is due 0.1 s later.
        await AdvanceAsync(Interval + TimeSpan.FromSeconds(9.9));
        Assert.Contains("test_request", await SentAsync());
        await AdvanceAsync(TimeSpan.FromSeconds(0.1));
        Assert.False(connection.IsClosed); // 0.1 s after the test request is no interval

        connection.CountRequest(); // the client answers within its interval
        await AdvanceAsync(Interval);
        Assert.Contains("\"type\":\"heartbeat\"", await SentAsync());
        Assert.False(connection.IsClosed);
    }
}
