using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Clearhouse.Server;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Operations;
using HdrHistogram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Benchmarks.Api;

/// <summary>
/// What one WebSocket connection's read thread spends on an order once its frame is read: the
/// work <c>DeribitWebSocket.ReadLoopAsync</c> does on the socket thread for every request (stamp,
/// parse, authenticate, rate-limit, validate, submit to the engine), without the socket. One
/// connection's requests are all read on one thread, so this bounds the orders one connection can
/// carry, and how much of that thread a given rate takes (docs/benchmarks.md).
/// <code>
/// dotnet bench/Clearhouse.Benchmarks/bin/Release/net10.0/Clearhouse.Benchmarks.dll read-thread [--orders 1000000] [--window 256] [-- server options]
/// </code>
/// The real server runs in this process (the same composition root as <c>dotnet run</c>, demo off,
/// a fresh data directory; the journal on unless the server options say <c>--journal false</c>),
/// with this project's GC settings (workstation, non-concurrent), not the server's own.
/// One thread feeds it the load client's own order frames (buy and sell in turn at one price, so
/// every order is a full placement through matching), keeping at most <c>--window</c> orders
/// unanswered, and times the two parts of each request on that thread.
/// </summary>
public static class ReadThreadRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        int split = Array.IndexOf(args, "--");
        string[] own = split < 0 ? args : args[..split];
        string[] serverArgs = split < 0 ? [] : args[(split + 1)..];
        int orders = int.Parse(Get(own, "--orders", "1000000"), CultureInfo.InvariantCulture);
        int window = int.Parse(Get(own, "--window", "256"), CultureInfo.InvariantCulture);

        string data = Directory.CreateTempSubdirectory("clearhouse-read-thread-").FullName;
        var app = ClearhouseServer.Build(
        [
            "--urls", "http://127.0.0.1:0", "--demo", "false", "--data-dir", data, "--Logging:LogLevel:Default", "Warning", .. serverArgs,
        ]);
        try
        {
            await app.StartAsync();
            var principal = await OpenFundedAccountAsync(app);
            var dispatcher = app.Services.GetRequiredService<RpcDispatcher>();
            Console.WriteLine($"read thread: {orders:N0} orders (after {orders / 5:N0} to warm up), at most {window} unanswered; server options: {(serverArgs.Length == 0 ? "defaults" : string.Join(' ', serverArgs))}");
            Drive(dispatcher, principal, orders / 5, window, report: false);
            return Drive(dispatcher, principal, orders, window, report: true);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static int Drive(RpcDispatcher dispatcher, ApiPrincipal principal, int orders, int window, bool report)
    {
        var connection = new DeribitConnection(IPAddress.Loopback) { Principal = principal };
        long answered = 0;
        long errors = 0;
        string? firstError = null;
        Action<RpcContext, RpcOutcome> answerLater = (_, outcome) =>
        {
            if (outcome.Error is { } error)
            {
                Interlocked.Increment(ref errors);
                firstError ??= $"{error.Code} {error.Message}";
            }

            Interlocked.Increment(ref answered);
        };

        var frames = OrderFrames(orders);
        var parse = new LongHistogram(TimeStamp.Seconds(10), 3);
        var dispatch = new LongHistogram(TimeStamp.Seconds(10), 3);
        long parseTicks = 0;
        long dispatchTicks = 0;
        long waitedTicks = 0;
        double nanosPerTick = 1e9 / Stopwatch.Frequency;
        var thread = new Thread(() =>
        {
            for (int i = 0; i < frames.Length; i++)
            {
                long waitStart = Stopwatch.GetTimestamp();
                while (i - Volatile.Read(ref answered) >= window)
                {
                    Thread.SpinWait(20);
                }

                // As the read loop: stamp, parse, then build the call's context and dispatch it.
                long t0 = Stopwatch.GetTimestamp();
                long usIn = dispatcher.NowMicros();
                if (!RpcEnvelope.TryParse(frames[i], out var request, out _, out var error, dispatcher.Methods))
                {
                    throw new InvalidOperationException($"The order frame did not parse: {error}");
                }

                long t1 = Stopwatch.GetTimestamp();
                var context = RpcContext.ForWebSocket(connection, usIn, request!.Id);
                if (dispatcher.Dispatch(context, request, answerLater) is { } outcome)
                {
                    answerLater(context, outcome);
                }

                long t2 = Stopwatch.GetTimestamp();
                waitedTicks += t0 - waitStart;
                parseTicks += t1 - t0;
                dispatchTicks += t2 - t1;
                parse.RecordValue((long)((t1 - t0) * nanosPerTick));
                dispatch.RecordValue((long)((t2 - t1) * nanosPerTick));
            }
        })
        { Name = "read-thread driver" };

        long gcBefore = GC.CollectionCount(0);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        long start = Stopwatch.GetTimestamp();
        thread.Start();
        thread.Join();
        var giveUpAt = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (Volatile.Read(ref answered) < orders)
        {
            if (Stopwatch.GetTimestamp() > giveUpAt)
            {
                Console.WriteLine($"only {Volatile.Read(ref answered):N0} of {orders:N0} answered within 30 s after the last order");
                return 1;
            }

            Thread.Sleep(1);
        }

        long end = Stopwatch.GetTimestamp();
        double seconds = (end - start) / (double)Stopwatch.Frequency;
        if (!report)
        {
            return 0;
        }

        double parseMean = parseTicks * nanosPerTick / orders;
        double dispatchMean = dispatchTicks * nanosPerTick / orders;
        Console.WriteLine($"orders: {orders:N0} in {seconds:F2} s ({orders / seconds:N0}/s closed loop); errors {errors:N0}{(firstError is null ? "" : $" (first: {firstError})")}");
        Console.WriteLine($"per order on the read thread (ns): parse p50 {parse.GetValueAtPercentile(50):N0} mean {parseMean:N0}; dispatch p50 {dispatch.GetValueAtPercentile(50):N0} p99 {dispatch.GetValueAtPercentile(99):N0} mean {dispatchMean:N0}");
        Console.WriteLine($"read thread busy {parseMean + dispatchMean:N0} ns per order: at most {1e9 / (parseMean + dispatchMean):N0} orders/s on one connection before its socket reads; waited for answers {waitedTicks * 100.0 / (end - start):F0}% of the run");
        Console.WriteLine($"process: {GC.CollectionCount(0) - gcBefore} gen0 collections, {(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)orders:N0} bytes allocated per order (all threads)");
        return errors == 0 ? 0 : 1;
    }

    /// <summary>The load client's order frames, ids from 1, buy and sell in turn at one price.</summary>
    private static byte[][] OrderFrames(int count)
    {
        var frames = new byte[count][];
        var buffer = new byte[512];
        byte[] instrument = "BTC_USDC-PERPETUAL"u8.ToArray();
        byte[] amount = "0.001"u8.ToArray();
        byte[] price = "50000"u8.ToArray();
        for (int i = 0; i < count; i++)
        {
            int length = ApiLoadRun.WriteOrder(buffer, i + 1, i % 2 == 0 ? "private/buy"u8 : "private/sell"u8, instrument, amount, price);
            frames[i] = buffer.AsSpan(0, length).ToArray();
        }

        return frames;
    }

    /// <summary>Opens and funds an account through the operator's native API, as <c>bench/api-load.sh</c> does; returns it as a trading caller.</summary>
    private static async Task<ApiPrincipal> OpenFundedAccountAsync(WebApplication app)
    {
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", app.Services.GetRequiredService<OperatorCredential>().Token);
        using var created = await http.PostAsync("/api/accounts", null);
        created.EnsureSuccessStatusCode();
        int account = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("accountId").GetInt32();
        using var deposit = await http.PostAsJsonAsync($"/api/accounts/{account}/deposit", new { amount = "100000000" });
        deposit.EnsureSuccessStatusCode();
        return new ApiPrincipal("read-thread", account, ApiScopes.Read | ApiScopes.Trade);
    }

    private static string Get(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
