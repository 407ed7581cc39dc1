using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Clearhouse.Benchmarks.Api;

/// <summary>
/// Order entry over the Deribit-compatible WebSocket API, open loop, from this one client process:
/// <code>
/// dotnet run -c Release --project bench/Clearhouse.Benchmarks -- api-load --url http://127.0.0.1:5080
///     --client-id ID --client-secret SECRET [--rate 100000] [--seconds 10] [--warmup-seconds 3]
///     [--instrument BTC_USDC-PERPETUAL] [--price 50000] [--amount 0.001]
/// </code>
/// Open loop: request i is due at start + i / rate whether or not earlier answers came back, and its
/// latency is measured from that due time to its answer (HdrHistogram, µs). A server that stalls
/// therefore shows the stall in every request that should have been sent meanwhile — the
/// coordinated-omission correction — instead of the client politely waiting and hiding it.
/// The orders alternate buy and sell GTC limits at one price on one account: each crosses the
/// previous one, self-trade prevention cancels the resting one, so every request is a full order
/// placement through the matching engine and the book never grows. With the journal on (the
/// server's default), every answer is durable (fsync) before it is sent.
/// </summary>
public static partial class ApiLoadRun
{
    public static int Run(string[] args)
    {
        var options = Options.Parse(args);
        return RunAsync(options).GetAwaiter().GetResult();
    }

    private sealed record Options(Uri WebSocket, string ClientId, string ClientSecret, int Rate, int Seconds, int WarmupSeconds, string Instrument, string Price, string Amount, int ServerPid)
    {
        public static Options Parse(string[] args)
        {
            string Get(string name, string? fallback = null)
            {
                int i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required.");
            }

            string url = Get("--url", "http://127.0.0.1:5080").TrimEnd('/');
            return new Options(
                new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal).Replace("https://", "wss://", StringComparison.Ordinal) + "/ws/api/v2"),
                Get("--client-id"),
                Get("--client-secret"),
                int.Parse(Get("--rate", "100000"), CultureInfo.InvariantCulture),
                int.Parse(Get("--seconds", "10"), CultureInfo.InvariantCulture),
                int.Parse(Get("--warmup-seconds", "3"), CultureInfo.InvariantCulture),
                Get("--instrument", "BTC_USDC-PERPETUAL"),
                Get("--price", "50000"),
                Get("--amount", "0.001"),
                int.Parse(Get("--server-pid", "0"), CultureInfo.InvariantCulture));
        }
    }

    private static async Task<int> RunAsync(Options options)
    {
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(options.WebSocket, CancellationToken.None);
        await AuthenticateAsync(socket, options);

        Console.WriteLine($"warm-up: {options.WarmupSeconds} s at {options.Rate:N0}/s");
        await DriveAsync(socket, options, options.WarmupSeconds, firstId: 1_000_000_000L, report: false);
        Console.WriteLine($"measured: {options.Seconds} s at {options.Rate:N0}/s, open loop");
        return await DriveAsync(socket, options, options.Seconds, firstId: 2_000_000_000L, report: true);
    }

    private static async Task AuthenticateAsync(ClientWebSocket socket, Options options)
    {
        string auth = JsonSerializer.Serialize(new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "public/auth",
            @params = new { grant_type = "client_credentials", client_id = options.ClientId, client_secret = options.ClientSecret },
        });
        await socket.SendAsync(Encoding.UTF8.GetBytes(auth), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        using var answer = JsonDocument.Parse(buffer.AsMemory(0, received.Count));
        if (!answer.RootElement.TryGetProperty("result", out _))
        {
            throw new InvalidOperationException("public/auth failed: " + Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
    }

    /// <summary>Sends <c>rate × seconds</c> orders on schedule; returns 0 when every one was answered without error.</summary>
    private static async Task<int> DriveAsync(ClientWebSocket socket, Options options, int seconds, long firstId, bool report)
    {
        long total = (long)options.Rate * seconds;
        var due = new long[total];
        var histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        long answered = 0;
        long errors = 0;
        string? firstError = null;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var receiver = Task.Run(async () =>
        {
            var buffer = new byte[1 << 20];
            while (Interlocked.Read(ref answered) < total)
            {
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                long now = Stopwatch.GetTimestamp();
                var message = buffer.AsSpan(0, length);
                if (!TryReadId(message, out long id) || id < firstId || id >= firstId + total)
                {
                    continue; // a notification or an answer to something else
                }

                long index = id - firstId;
                histogram.RecordValue(Math.Max(0, (now - due[index]) * 1_000_000 / Stopwatch.Frequency));
                if (message.IndexOf("\"error\""u8) >= 0)
                {
                    if (Interlocked.Increment(ref errors) == 1)
                    {
                        firstError = Encoding.UTF8.GetString(message);
                    }
                }

                Interlocked.Increment(ref answered);
            }

            done.TrySetResult();
        });

        byte[] instrument = Encoding.UTF8.GetBytes(options.Instrument);
        byte[] price = Encoding.UTF8.GetBytes(options.Price);
        byte[] amount = Encoding.UTF8.GetBytes(options.Amount);
        var frame = new byte[512];
        long serverCpuStart = ServerCpuMillis(options.ServerPid);
        long start = Stopwatch.GetTimestamp();
        double ticksPerOrder = (double)Stopwatch.Frequency / options.Rate;
        long sent = 0;
        FineSleep.Prepare();
        while (sent < total)
        {
            long now = Stopwatch.GetTimestamp();
            long dueNow = Math.Min(total, (long)((now - start) / ticksPerOrder) + 1);
            if (dueNow <= sent)
            {
                // Nothing due yet: sleep until the next order is (a fine-grained sleep, not a spin, so
                // the server keeps both cores). Whatever the sleep overshoots counts against the
                // server, since every latency is measured from the order's own scheduled time.
                long next = start + (long)(sent * ticksPerOrder);
                FineSleep.Until(next);
                continue;
            }

            for (; sent < dueNow; sent++)
            {
                due[sent] = start + (long)(sent * ticksPerOrder);
                int length = WriteOrder(frame, firstId + sent, (sent & 1) == 0 ? "private/buy"u8 : "private/sell"u8, instrument, amount, price);
                await socket.SendAsync(frame.AsMemory(0, length), WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }

        long sendEnd = Stopwatch.GetTimestamp();
        var finished = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        long end = Stopwatch.GetTimestamp();
        long serverCpuEnd = ServerCpuMillis(options.ServerPid);
        if (finished != done.Task)
        {
            Console.WriteLine($"only {Interlocked.Read(ref answered):N0} of {total:N0} answered within 30 s after the last send");
            return 1;
        }

        if (report)
        {
            double sendSeconds = (sendEnd - start) / (double)Stopwatch.Frequency;
            double allSeconds = (end - start) / (double)Stopwatch.Frequency;
            Console.WriteLine($"orders: {total:N0}; offered {total / sendSeconds:N0}/s over {sendSeconds:F2} s; answered {total / allSeconds:N0}/s (all answers within {allSeconds:F2} s); errors {errors:N0}");
            Console.WriteLine($"order→ack latency (µs, from the scheduled send time): p50 {histogram.GetValueAtPercentile(50):N0}  p90 {histogram.GetValueAtPercentile(90):N0}  p99 {histogram.GetValueAtPercentile(99):N0}  p99.9 {histogram.GetValueAtPercentile(99.9):N0}  max {histogram.GetMaxValue():N0}");
            if (serverCpuStart >= 0 && serverCpuEnd >= 0)
            {
                long cpu = serverCpuEnd - serverCpuStart;
                Console.WriteLine($"server CPU during the measured run: {cpu:N0} ms (user + system), {cpu * 1000.0 / total:F1} µs per order, {cpu / 1000.0 / allSeconds:F2} cores");
            }

            if (firstError is not null)
            {
                Console.WriteLine("first error: " + firstError);
            }
        }

        return errors == 0 ? 0 : 1;
    }

    /// <summary>User + system CPU of the server process so far (Linux /proc), in ms; -1 when not known.</summary>
    private static long ServerCpuMillis(int pid)
    {
        if (pid <= 0 || !File.Exists($"/proc/{pid}/stat"))
        {
            return -1;
        }

        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd on
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
        return ticks * 10; // USER_HZ is 100 on Linux
    }

    /// <summary>Writes <c>{"jsonrpc":"2.0","id":N,"method":M,"params":{"instrument_name":…,"amount":…,"type":"limit","price":…}}</c>.</summary>
    private static int WriteOrder(byte[] frame, long id, ReadOnlySpan<byte> method, byte[] instrument, byte[] amount, byte[] price)
    {
        var span = frame.AsSpan();
        int n = 0;
        Append(span, ref n, "{\"jsonrpc\":\"2.0\",\"id\":"u8);
        Utf8Formatter.TryFormat(id, span[n..], out int written);
        n += written;
        Append(span, ref n, ",\"method\":\""u8);
        Append(span, ref n, method);
        Append(span, ref n, "\",\"params\":{\"instrument_name\":\""u8);
        Append(span, ref n, instrument);
        Append(span, ref n, "\",\"amount\":"u8);
        Append(span, ref n, amount);
        Append(span, ref n, ",\"type\":\"limit\",\"price\":"u8);
        Append(span, ref n, price);
        Append(span, ref n, "}}"u8);
        return n;
    }

    private static void Append(Span<byte> span, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[n..]);
        n += bytes.Length;
    }

    /// <summary>The numeric <c>"id"</c> of an answer, found without parsing the whole message.</summary>
    private static bool TryReadId(ReadOnlySpan<byte> message, out long id)
    {
        id = 0;
        int at = message.IndexOf("\"id\":"u8);
        return at >= 0 && Utf8Parser.TryParse(message[(at + 5)..], out id, out _);
    }

    /// <summary>
    /// Sleeps with microsecond resolution on Linux (nanosleep with the thread's timer slack cut to
    /// 1 µs, instead of the default 50 µs); elsewhere falls back to yielding the core.
    /// </summary>
    private static partial class FineSleep
    {
        private static readonly bool Linux = OperatingSystem.IsLinux();

        [ThreadStatic]
        private static bool prepared;

        public static void Prepare()
        {
            if (Linux && !prepared)
            {
                _ = prctl(29 /* PR_SET_TIMERSLACK */, 1, 0, 0, 0);
                prepared = true;
            }
        }

        public static void Until(long timestamp)
        {
            long ticks = timestamp - Stopwatch.GetTimestamp();
            if (ticks <= 0)
            {
                return;
            }

            if (!Linux)
            {
                Thread.Yield();
                return;
            }

            Prepare(); // the loop may have moved to another thread after an await
            long nanos = ticks * 1_000_000_000 / Stopwatch.Frequency;
            var request = new TimeSpec { Seconds = nanos / 1_000_000_000, Nanoseconds = nanos % 1_000_000_000 };
            _ = nanosleep(in request, IntPtr.Zero);
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [LibraryImport("libc", SetLastError = false)]
        private static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

        [LibraryImport("libc", SetLastError = false)]
        private static partial int nanosleep(in TimeSpec request, IntPtr remaining);
    }
}
