using System.Runtime.CompilerServices;
using System.Text;
using Clearhouse.Server.Deribit.Transport;

namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>
/// Deribit's heartbeat (<c>public/set_heartbeat</c>): every interval the server looks at whether
/// the client sent any request since the last look. If it did, the server sends
/// <c>{"method":"heartbeat","params":{"type":"heartbeat"}}</c>; if it did not, it sends
/// <c>{"type":"test_request"}</c>, which the client answers with any request (Deribit asks for
/// <c>public/test</c>); a client still silent at the next tick is disconnected, provided that
/// tick comes at least nine tenths of an interval after the test request went out (else at the
/// first tick from then on).
/// The minimum interval is Deribit's 10 seconds; configuration key
/// <c>Deribit:MinHeartbeatSeconds</c> lowers it (tests use 1).
/// </summary>
public sealed class HeartbeatMonitor(TimeProvider clock, ILogger<HeartbeatMonitor> logger)
{
    public const int DefaultMinimumIntervalSeconds = 10;
    public const int MaximumIntervalSeconds = 3_600;

    /// <summary>The share of an interval a client has at least, after its test request went out, before the next check may disconnect it.</summary>
    private const double GraceFraction = 0.9;

    private static readonly byte[] TestRequest = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}""");
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}""");

    private readonly ConditionalWeakTable<DeribitConnection, CancellationTokenSource> running = [];

    /// <summary>The smallest interval <c>public/set_heartbeat</c> accepts, in seconds.</summary>
    public int MinimumIntervalSeconds { get; init; } = DefaultMinimumIntervalSeconds;

    /// <summary>Starts (or restarts with a new interval) the heartbeat of <paramref name="connection"/>.</summary>
    public void Start(DeribitConnection connection, TimeSpan interval)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.Closed);
        CancellationTokenSource? previous = null;
        lock (running)
        {
            if (running.TryGetValue(connection, out previous))
            {
                running.Remove(connection);
            }

            running.Add(connection, stop);
        }

        previous?.Cancel();
        _ = RunAsync(connection, interval, stop.Token);
    }

    public void Stop(DeribitConnection connection)
    {
        CancellationTokenSource? previous;
        lock (running)
        {
            if (running.TryGetValue(connection, out previous))
            {
                running.Remove(connection);
            }
        }

        previous?.Cancel();
    }

    private async Task RunAsync(DeribitConnection connection, TimeSpan interval, CancellationToken stop)
    {
        try
        {
            using var timer = new PeriodicTimer(interval, clock);
            long seen = connection.RequestsReceived;
            long testRequestedAt = -1; // when the unanswered test request went out; -1: none
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = connection.RequestsReceived;
                if (now != seen)
                {
                    seen = now;
                    testRequestedAt = -1;
                    connection.TrySend(Heartbeat);
                    continue;
                }

                if (testRequestedAt >= 0)
                {
                    // About an interval from the test request, not just the next tick: a tick handled
                    // late (a busy machine) is followed at once by the next, which would leave the
                    // client almost no time to answer. Not a whole interval to the microsecond
                    // either: the test request went out a little after its tick, so the next tick
                    // comes a little less than an interval later, and a strict comparison would
                    // give every silent client two intervals instead of one.
                    if (clock.GetElapsedTime(testRequestedAt) < interval * GraceFraction)
                    {
                        continue;
                    }

                    logger.LogInformation("WebSocket connection {Connection} did not answer its heartbeat test request.", connection.Id);
                    connection.Abort("heartbeat: no request within the interval after a test_request");
                    return;
                }

                testRequestedAt = clock.GetTimestamp();
                connection.TrySend(TestRequest);
            }
        }
        catch (OperationCanceledException)
        {
            // Disabled, replaced, or the connection closed.
        }
    }
}
