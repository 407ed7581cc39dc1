using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
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
        try
        {
            return RunAsync(options).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or System.Net.Sockets.SocketException)
        {
            // The server closes a client whose answers pile up past its outbound queue (docs/api.md): at
            // this rate the client, or the machine, did not keep up. A failed run, not a crash.
            Console.WriteLine($"the server closed the connection during the run ({ex.Message}): a slow-consumer cut-off, so this rate was not sustained");
            return 1;
        }
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
        var (socket, batching) = await ConnectAsync(options.WebSocket);
        using var _ = socket;
        await AuthenticateAsync(socket, options);

        Console.WriteLine($"warm-up: {options.WarmupSeconds} s at {options.Rate:N0}/s");
        await DriveAsync(socket, batching, options, options.WarmupSeconds, firstId: 1_000_000_000L, report: false);
        Console.WriteLine($"measured: {options.Seconds} s at {options.Rate:N0}/s, open loop");
        return await DriveAsync(socket, batching, options, options.Seconds, firstId: 2_000_000_000L, report: true);
    }

    /// <summary>
    /// Opens the WebSocket over a plain TCP connection (HTTP/1.1 upgrade handshake written here), so
    /// that the sender can put several frames in one socket write through <see cref="SendBatchingStream"/>.
    /// </summary>
    private static async Task<(WebSocket Socket, SendBatchingStream Batching)> ConnectAsync(Uri uri)
    {
        var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = new NetworkStream(tcp, ownsSocket: true);
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        string request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Host}:{uri.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));

        // The response head, a byte at a time so that nothing after it is consumed.
        var head = new List<byte>(256);
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            if (await stream.ReadAsync(one) == 0 || head.Count > 16 * 1024)
            {
                throw new InvalidOperationException("The server closed the connection during the WebSocket handshake.");
            }

            head.Add(one[0]);
        }

        string response = Encoding.ASCII.GetString(head.ToArray());
        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        if (!response.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || !response.Contains(accept, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The WebSocket handshake failed: " + response);
        }

        var batching = new SendBatchingStream(stream);
        return (WebSocket.CreateFromStream(batching, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero }), batching);
    }

    /// <summary>
    /// Under the client's WebSocket: between <see cref="BeginBatch"/> and <see cref="EndBatchAsync"/>
    /// the frames it writes are gathered and then written to the socket at once; other writes
    /// (the handshake's auth, pongs) go straight through. Reads pass through.
    /// </summary>
    private sealed class SendBatchingStream(Stream inner) : Stream
    {
        /// <summary>The server's frames read straight from the connection (after the handshake and the auth answer).</summary>
        public FrameReader Frames { get; } = new(inner);

        private readonly SemaphoreSlim gate = new(1, 1);
        private byte[] buffer = new byte[64 * 1024];
        private int buffered;
        private volatile bool batching;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void BeginBatch() => batching = true;

        public async ValueTask EndBatchAsync()
        {
            await gate.WaitAsync();
            try
            {
                batching = false;
                if (buffered > 0)
                {
                    int count = buffered;
                    buffered = 0;
                    await inner.WriteAsync(buffer.AsMemory(0, count));
                }
            }
            finally
            {
                gate.Release();
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                if (!batching)
                {
                    await inner.WriteAsync(source, cancellationToken);
                    return;
                }

                if (buffered + source.Length > buffer.Length)
                {
                    Array.Resize(ref buffer, Math.Max(buffer.Length * 2, buffered + source.Length));
                }

                source.Span.CopyTo(buffer.AsSpan(buffered));
                buffered += source.Length;
            }
            finally
            {
                gate.Release();
            }
        }

        public override Task WriteAsync(byte[] source, int offset, int count, CancellationToken cancellationToken) => WriteAsync(source.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] source, int offset, int count) => WriteAsync(source.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) => inner.ReadAsync(destination, cancellationToken);

        public override Task<int> ReadAsync(byte[] destination, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(destination, offset, count, cancellationToken);

        public override int Read(byte[] destination, int offset, int count) => inner.Read(destination, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                gate.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// Reads the server's WebSocket frames (unmasked, RFC 6455) straight from the connection, many
    /// per socket read, instead of one <c>ReceiveAsync</c> per message: the client's receive side
    /// costs less CPU, which this benchmark's machine shares with the server. Text and binary frames
    /// are returned whole; control frames are skipped (the server sends only unsolicited pongs).
    /// </summary>
    private sealed class FrameReader(Stream stream)
    {
        private int start;
        private int end;

        public byte[] Buffer { get; private set; } = new byte[1 << 20];

        /// <summary>The next complete data frame's payload in <see cref="Buffer"/>; false when more bytes are needed.</summary>
        public bool TryNext(out int offset, out int length)
        {
            while (true)
            {
                offset = 0;
                length = 0;
                int available = end - start;
                if (available < 2)
                {
                    return false;
                }

                byte first = Buffer[start];
                byte second = Buffer[start + 1];
                if ((second & 0x80) != 0 || (first & 0x80) == 0)
                {
                    throw new InvalidOperationException("Unexpected frame from the server (masked or fragmented).");
                }

                int header = 2;
                long payload = second & 0x7F;
                if (payload == 126)
                {
                    if (available < 4)
                    {
                        return false;
                    }

                    payload = (Buffer[start + 2] << 8) | Buffer[start + 3];
                    header = 4;
                }
                else if (payload == 127)
                {
                    if (available < 10)
                    {
                        return false;
                    }

                    payload = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(Buffer.AsSpan(start + 2, 8));
                    header = 10;
                }

                if (header + payload > Buffer.Length)
                {
                    var larger = new byte[(int)Math.Max(Buffer.Length * 2L, header + payload)];
                    Buffer.AsSpan(start, available).CopyTo(larger);
                    Buffer = larger;
                    end = available;
                    start = 0;
                }

                if (available < header + payload)
                {
                    return false;
                }

                offset = start + header;
                length = (int)payload;
                start += header + (int)payload;
                int opcode = first & 0x0F;
                if (opcode == 8)
                {
                    throw new InvalidOperationException("The server closed the WebSocket: " + Encoding.UTF8.GetString(Buffer, offset + 2, Math.Max(0, length - 2)));
                }

                if (opcode is 1 or 2)
                {
                    return true;
                }
            }
        }

        /// <summary>Reads more from the connection (compacting what is left of a partial frame to the front).</summary>
        public async ValueTask FillAsync()
        {
            if (start > 0)
            {
                Buffer.AsSpan(start, end - start).CopyTo(Buffer);
                end -= start;
                start = 0;
            }

            int read = await stream.ReadAsync(Buffer.AsMemory(end));
            if (read == 0)
            {
                throw new InvalidOperationException("The server closed the connection.");
            }

            end += read;
        }
    }

    private static async Task AuthenticateAsync(WebSocket socket, Options options)
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
    private static async Task<int> DriveAsync(WebSocket socket, SendBatchingStream batching, Options options, int seconds, long firstId, bool report)
    {
        // The warm-up ramps its rate linearly from a tenth of the target to the target (a cold
        // server — code not yet optimized by the JIT — is not run into a backlog it then has to
        // shed); the measured run is at the target rate from its first order.
        bool ramp = !report;
        long total = ramp ? (long)(options.Rate * seconds * 0.55) : (long)options.Rate * seconds;
        var due = new long[total];
        var histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
        long answered = 0;
        long errors = 0;
        string? firstError = null;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var receiver = Task.Run(async () =>
        {
            var frames = batching.Frames;
            while (Interlocked.Read(ref answered) < total)
            {
                if (!frames.TryNext(out int offset, out int length))
                {
                    await frames.FillAsync();
                    continue;
                }

                long now = Stopwatch.GetTimestamp();
                var message = frames.Buffer.AsSpan(offset, length);
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
        var clientCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        double ticksPerOrder = (double)Stopwatch.Frequency / options.Rate;
        long sent = 0;
        double rampTicks = (double)Stopwatch.Frequency * seconds;
        double rate = options.Rate / (double)Stopwatch.Frequency; // orders per tick at full rate

        // Orders due by `ticks` after the start on the ramp: the integral of rate × (0.1 + 0.9 t / T).
        double RampCount(double ticks) => rate * ((0.1 * ticks) + (0.45 * ticks * ticks / rampTicks));

        long ScheduledAt(long i) => ramp
            ? start + (long)((-0.1 * rate + Math.Sqrt((0.01 * rate * rate) + (1.8 * rate * i / rampTicks))) / (0.9 * rate / rampTicks))
            : start + (long)(i * ticksPerOrder);

        FineSleep.Prepare();
        while (sent < total)
        {
            long now = Stopwatch.GetTimestamp();
            long dueNow = Math.Min(total, (ramp ? (long)RampCount(now - start) : (long)((now - start) / ticksPerOrder)) + 1);
            if (dueNow <= sent)
            {
                // Nothing due yet: sleep until the next order is (a fine-grained sleep, not a spin, so
                // the server keeps both cores). Whatever the sleep overshoots counts against the
                // server, since every latency is measured from the order's own scheduled time.
                long next = ScheduledAt(sent);
                FineSleep.Until(next);
                continue;
            }

            // Everything due now goes out in one write to the socket, each order its own frame
            // (and its latency still counted from its own scheduled time).
            batching.BeginBatch();
            for (; sent < dueNow; sent++)
            {
                due[sent] = ScheduledAt(sent);
                int length = WriteOrder(frame, firstId + sent, (sent & 1) == 0 ? "private/buy"u8 : "private/sell"u8, instrument, amount, price);
                await socket.SendAsync(frame.AsMemory(0, length), WebSocketMessageType.Text, true, CancellationToken.None);
            }

            await batching.EndBatchAsync();
        }

        long sendEnd = Stopwatch.GetTimestamp();
        var finished = await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        long end = Stopwatch.GetTimestamp();
        long serverCpuEnd = ServerCpuMillis(options.ServerPid);
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpuStart;
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

            Console.WriteLine($"client CPU during the measured run: {clientCpu.TotalMilliseconds:N0} ms, {clientCpu.TotalMicroseconds / total:F1} µs per order, {clientCpu.TotalSeconds / allSeconds:F2} cores (this machine has {Environment.ProcessorCount})");

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
