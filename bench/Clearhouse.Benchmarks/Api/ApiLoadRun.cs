using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
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
///     [--instrument BTC_USDC-PERPETUAL] [--price 50000] [--amount 0.001] [--send-interval-us 0]
///     [--connections 1] [--spin]
/// </code>
/// With <c>--connections N</c> the process opens N WebSocket connections (one API key) and deals
/// the orders to them in turn: the server reads each connection's requests in order on one socket
/// thread, so N connections spread that work over N threads, as a trading firm's gateway would.
/// With <c>--spin</c> the sender waits for the next order's due time, and each receiver for the
/// server's answers, by spinning instead of sleeping: a core each (for a machine that has cores to
/// spare), and no wake-up that comes late, as a latency-sensitive trading client runs.
/// Open loop: request i is due at start + i / rate whether or not earlier answers came back, and its
/// latency is measured from that due time to its answer (HdrHistogram, µs). A server that stalls
/// therefore shows the stall in every request that should have been sent meanwhile — the
/// coordinated-omission correction — instead of the client politely waiting and hiding it.
/// The orders alternate buy and sell GTC limits at one price on one account (on each connection):
/// each crosses the previous one, self-trade prevention cancels the resting one, so every request is a full order
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
            var connections = new ClientConnection[options.Connections];
            try
            {
                for (int c = 0; c < connections.Length; c++)
                {
                    connections[c] = ClientConnection.Open(options.WebSocket);
                    Authenticate(connections[c], options);
                }

                string over = (connections.Length == 1 ? "one connection" : $"{connections.Length} connections, orders dealt to them in turn")
                    + (options.Spin ? ", sender and receivers spinning" : "");
                Console.WriteLine($"warm-up: {options.WarmupSeconds} s at {options.Rate:N0}/s over {over}");
                Drive(connections, options, options.WarmupSeconds, firstId: 1_000_000_000L, report: false);
                Console.WriteLine($"measured: {options.Seconds} s at {options.Rate:N0}/s over {over}, open loop");
                return Drive(connections, options, options.Seconds, firstId: 2_000_000_000L, report: true);
            }
            finally
            {
                foreach (var connection in connections)
                {
                    connection?.Dispose();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ClosedByServerException)
        {
            // The server closes a client whose answers pile up past its outbound queue (docs/api.md): at
            // this rate the client, or the machine, did not keep up. A failed run, not a crash.
            Console.WriteLine($"the server closed the connection during the run ({ex.Message}): a slow-consumer cut-off, so this rate was not sustained");
            return 1;
        }
    }

    private sealed record Options(Uri Http, Uri WebSocket, string ClientId, string ClientSecret, int Rate, int Seconds, int WarmupSeconds, string Instrument, string Price, string Amount, int ServerPid, int SendIntervalMicros, int Connections, bool Spin)
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
                new Uri(url),
                new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal).Replace("https://", "wss://", StringComparison.Ordinal) + "/ws/api/v2"),
                Get("--client-id"),
                Get("--client-secret"),
                int.Parse(Get("--rate", "100000"), CultureInfo.InvariantCulture),
                int.Parse(Get("--seconds", "10"), CultureInfo.InvariantCulture),
                int.Parse(Get("--warmup-seconds", "3"), CultureInfo.InvariantCulture),
                Get("--instrument", "BTC_USDC-PERPETUAL"),
                Get("--price", "50000"),
                Get("--amount", "0.001"),
                int.Parse(Get("--server-pid", "0"), CultureInfo.InvariantCulture),
                int.Parse(Get("--send-interval-us", "0"), CultureInfo.InvariantCulture),
                Math.Clamp(int.Parse(Get("--connections", "1"), CultureInfo.InvariantCulture), 1, 64),
                args.Contains("--spin"));
        }
    }

    /// <summary>
    /// The client's end of the WebSocket, on a plain blocking TCP socket with the frames written and
    /// read here (RFC 6455; the HTTP/1.1 upgrade handshake too). Nothing is asynchronous: the sender
    /// writes every order due in one <c>send</c> from its own thread, and the receiver blocks in
    /// <c>recv</c> on its own. A socket used asynchronously even once goes through the runtime's
    /// epoll thread and a thread-pool hop for every read, two wake-ups where one will do: on the
    /// benchmark's 2-core VM the client shares the cores with the server, so every wake-up it saves
    /// is the server's (measured: docs/benchmarks.md).
    /// </summary>
    private sealed class ClientConnection : IDisposable
    {
        private readonly Socket socket;
        private readonly NetworkStream stream;
        private byte[] sendBuffer = new byte[64 * 1024];
        private int sendLength;
        private uint maskState = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);

        private ClientConnection(Socket socket)
        {
            this.socket = socket;
            stream = new NetworkStream(socket, ownsSocket: true);
            Frames = new FrameReader(stream, socket);
        }

        /// <summary>The server's frames, read straight from the connection.</summary>
        public FrameReader Frames { get; }

        public static ClientConnection Open(Uri uri)
        {
            var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            tcp.Connect(uri.Host, uri.Port);
            var connection = new ClientConnection(tcp);
            connection.Handshake(uri);
            return connection;
        }

        /// <summary>Adds one text frame, masked as a client's must be (RFC 6455 §5.3), to what <see cref="Flush"/> sends.</summary>
        public void Queue(ReadOnlySpan<byte> payload)
        {
            int needed = sendLength + payload.Length + 14;
            if (needed > sendBuffer.Length)
            {
                Array.Resize(ref sendBuffer, Math.Max(sendBuffer.Length * 2, needed));
            }

            var frame = sendBuffer.AsSpan(sendLength);
            frame[0] = 0x81; // FIN, text
            int header;
            if (payload.Length < 126)
            {
                frame[1] = (byte)(0x80 | payload.Length);
                header = 2;
            }
            else if (payload.Length <= ushort.MaxValue)
            {
                frame[1] = 0x80 | 126;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)payload.Length);
                header = 4;
            }
            else
            {
                frame[1] = 0x80 | 127;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)payload.Length);
                header = 10;
            }

            // xorshift32: a fresh masking key per frame, cheaply (the key only keeps proxies from
            // reading the frames as something else; nothing here relies on its secrecy).
            maskState ^= maskState << 13;
            maskState ^= maskState >> 17;
            maskState ^= maskState << 5;
            Span<byte> mask = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(mask, maskState);
            mask.CopyTo(frame[header..]);
            var body = frame.Slice(header + 4, payload.Length);
            for (int i = 0; i < payload.Length; i++)
            {
                body[i] = (byte)(payload[i] ^ mask[i & 3]);
            }

            sendLength += header + 4 + payload.Length;
        }

        /// <summary>Sends every queued frame with one write.</summary>
        public void Flush()
        {
            if (sendLength > 0)
            {
                stream.Write(sendBuffer, 0, sendLength);
                sendLength = 0;
            }
        }

        public void Dispose() => stream.Dispose();

        private void Handshake(Uri uri)
        {
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            string request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Host}:{uri.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            stream.Write(Encoding.ASCII.GetBytes(request));

            // The response head, a byte at a time so that nothing after it is consumed.
            var head = new List<byte>(256);
            var one = new byte[1];
            while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
            {
                if (stream.Read(one) == 0 || head.Count > 16 * 1024)
                {
                    throw new ClosedByServerException("The server closed the connection during the WebSocket handshake.");
                }

                head.Add(one[0]);
            }

            string response = Encoding.ASCII.GetString(head.ToArray());
            string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            if (!response.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || !response.Contains(accept, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The WebSocket handshake failed: " + response);
            }
        }
    }

    /// <summary>The server closed the WebSocket or the connection.</summary>
    private sealed class ClosedByServerException(string message) : Exception(message);

    /// <summary>
    /// Reads the server's WebSocket frames (unmasked, RFC 6455) straight from the connection, many
    /// per socket read, instead of one <c>ReceiveAsync</c> per message: the client's receive side
    /// costs less CPU, which this benchmark's machine shares with the server. Text and binary frames
    /// are returned whole; control frames are skipped (the server sends only unsolicited pongs).
    /// </summary>
    private sealed class FrameReader(Stream stream, Socket socket)
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
                    throw new ClosedByServerException("The server closed the WebSocket: " + Encoding.UTF8.GetString(Buffer, offset + 2, Math.Max(0, length - 2)));
                }

                if (opcode is 1 or 2)
                {
                    return true;
                }
            }
        }

        /// <summary>
        /// Wait for the server's bytes by spinning on the socket instead of blocking in <c>recv</c>
        /// (<c>--spin</c>): a core of its own, and no wake-up when the answer comes.
        /// </summary>
        public bool Spin { get; set; }

        /// <summary>Blocks until more arrives from the connection (compacting what is left of a partial frame to the front).</summary>
        public void Fill()
        {
            while (Spin && socket.Available == 0)
            {
                Thread.SpinWait(10);
            }

            if (start > 0)
            {
                Buffer.AsSpan(start, end - start).CopyTo(Buffer);
                end -= start;
                start = 0;
            }

            int read = stream.Read(Buffer.AsSpan(end));
            if (read == 0)
            {
                throw new ClosedByServerException("The server closed the connection.");
            }

            end += read;
        }
    }

    private static void Authenticate(ClientConnection connection, Options options)
    {
        string auth = JsonSerializer.Serialize(new
        {
            jsonrpc = "2.0",
            id = 1,
            method = "public/auth",
            @params = new { grant_type = "client_credentials", client_id = options.ClientId, client_secret = options.ClientSecret },
        });
        connection.Queue(Encoding.UTF8.GetBytes(auth));
        connection.Flush();
        var frames = connection.Frames;
        int offset;
        int length;
        while (!frames.TryNext(out offset, out length))
        {
            frames.Fill();
        }

        using var answer = JsonDocument.Parse(frames.Buffer.AsMemory(offset, length));
        if (!answer.RootElement.TryGetProperty("result", out _))
        {
            throw new InvalidOperationException("public/auth failed: " + Encoding.UTF8.GetString(frames.Buffer, offset, length));
        }
    }

    /// <summary>
    /// Sends <c>rate × seconds</c> orders on schedule, order i on connection i mod N, all from this
    /// thread; one receiver thread per connection. Returns 0 when every one was answered without error.
    /// </summary>
    private static int Drive(ClientConnection[] connections, Options options, int seconds, long firstId, bool report)
    {
        // The warm-up ramps its rate linearly from a tenth of the target to the target (a cold
        // server — code not yet optimized by the JIT — is not run into a backlog it then has to
        // shed); the measured run is at the target rate from its first order.
        bool ramp = !report;
        long total = ramp ? (long)(options.Rate * seconds * 0.55) : (long)options.Rate * seconds;
        var due = new long[total];
        var written = new long[total]; // when the order's frame was handed to the socket (Stopwatch ticks)
        int n = connections.Length;
        var histograms = new LongHistogram[n];
        var splits = new LatencySplit[n];
        long answered = 0;
        long errors = 0;
        string? firstError = null;
        Exception? receiveFailure = null;

        // Each receiver blocks in recv on its own thread (see ClientConnection), until its
        // connection's share of the orders is answered; each records into histograms of its own.
        var receivers = new Thread[n];
        var receiverTimes = new ThreadTimes[n]; // each receiver's own, over the run
        for (int c = 0; c < n; c++)
        {
            int k = c;
            long expected = (total - k + n - 1) / n; // orders k, k + n, k + 2n, ...
            var histogram = histograms[k] = new LongHistogram(TimeStamp.Seconds(60), 3);
            var hops = splits[k] = new LatencySplit();
            var connection = connections[k];
            connection.Frames.Spin = options.Spin;
            receivers[k] = new Thread(() =>
            {
                var begin = report ? ThisThreadTimes() : default;
                try
                {
                    var frames = connection.Frames;
                    long mine = 0;
                    while (mine < expected)
                    {
                        if (!frames.TryNext(out int offset, out int length))
                        {
                            frames.Fill();
                            continue;
                        }

                        long now = Stopwatch.GetTimestamp();
                        var message = frames.Buffer.AsSpan(offset, length);
                        if (!TryReadId(message, out long id) || id < firstId || id >= firstId + total)
                        {
                            continue; // a notification or an answer to something else
                        }

                        long index = id - firstId;
                        long dueAt = Volatile.Read(ref due[index]);
                        histogram.RecordValue(Math.Max(0, (now - dueAt) * 1_000_000 / Stopwatch.Frequency));
                        hops.Record(message, dueAt, Volatile.Read(ref written[index]), now);
                        if (message.IndexOf("\"error\""u8) >= 0)
                        {
                            if (Interlocked.Increment(ref errors) == 1)
                            {
                                firstError = Encoding.UTF8.GetString(message);
                            }
                        }

                        mine++;
                        Interlocked.Increment(ref answered);
                    }
                }
                catch (Exception ex)
                {
                    receiveFailure = ex;
                }
                finally
                {
                    receiverTimes[k] = report ? ThisThreadTimes() - begin : default;
                }
            })
            { IsBackground = true, Name = $"receiver {k}" }; // Linux keeps 15 characters of a thread name
            receivers[k].Start();
        }

        var pending = new bool[n]; // connections with orders queued and not yet flushed

        byte[] instrument = Encoding.UTF8.GetBytes(options.Instrument);
        byte[] price = Encoding.UTF8.GetBytes(options.Price);
        byte[] amount = Encoding.UTF8.GetBytes(options.Amount);
        var frame = new byte[512];
        var gcStart = report ? ServerMetrics.Read(options.Http) : null;
        long serverCpuStart = ServerCpuMillis(options.ServerPid);
        var threadsStart = report ? ThreadTimesOf(options.ServerPid) : [];
        var senderStart = report ? ThisThreadTimes() : default;
        var stealStart = StealTicks();
        var clientCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        int clientGcStart = GC.CollectionCount(0);
        var clientPauseStart = GC.GetTotalPauseDuration();
        long start = Stopwatch.GetTimestamp();
        double ticksPerOrder = (double)Stopwatch.Frequency / options.Rate;
        long sent = 0;
        double rampTicks = (double)Stopwatch.Frequency * seconds;
        double rate = options.Rate / (double)Stopwatch.Frequency; // orders per tick at full rate
        long sendIntervalTicks = options.SendIntervalMicros * Stopwatch.Frequency / 1_000_000;

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
                // With a send interval the client wakes at most once per interval and sends what
                // fell due meanwhile: fewer, larger writes, as a busy trading client makes them.
                // The wait still counts, since each order's latency starts at its own due time.
                long next = ScheduledAt(sent);
                if (sendIntervalTicks > 0)
                {
                    long sinceStart = next - start;
                    next = start + ((sinceStart + sendIntervalTicks - 1) / sendIntervalTicks * sendIntervalTicks);
                }

                if (options.Spin)
                {
                    while (Stopwatch.GetTimestamp() < next)
                    {
                        Thread.SpinWait(10);
                    }
                }
                else
                {
                    FineSleep.Until(next);
                }

                continue;
            }

            // Everything due now goes out in one write to the socket, each order its own frame
            // (and its latency still counted from its own scheduled time).
            long batchStart = sent;
            for (; sent < dueNow; sent++)
            {
                Volatile.Write(ref due[sent], ScheduledAt(sent));
                // Buy and sell alternate on each connection (not just overall): the server reads each
                // connection's batch in turn, so consecutive orders from one connection meet in the
                // book, and each must cross the one before it for the book to stay empty.
                bool buy = ((sent / n) & 1) == 0;
                int length = WriteOrder(frame, firstId + sent, buy ? "private/buy"u8 : "private/sell"u8, instrument, amount, price);
                int c = (int)(sent % n);
                connections[c].Queue(frame.AsSpan(0, length));
                pending[c] = true;
            }

            // Stamped before the writes, so that no answer can arrive before its order's stamp.
            long writeAt = Stopwatch.GetTimestamp();
            for (long i = batchStart; i < sent; i++)
            {
                Volatile.Write(ref written[i], writeAt);
            }

            for (int c = 0; c < n; c++)
            {
                if (pending[c])
                {
                    connections[c].Flush();
                    pending[c] = false;
                }
            }
        }

        long sendEnd = Stopwatch.GetTimestamp();
        var joinBy = DateTime.UtcNow.AddSeconds(30);
        bool finished = receivers.All(receiver => receiver.Join(TimeSpan.FromTicks(Math.Max(0, (joinBy - DateTime.UtcNow).Ticks))));
        long end = Stopwatch.GetTimestamp();
        long serverCpuEnd = ServerCpuMillis(options.ServerPid);
        var threadsEnd = report ? ThreadTimesOf(options.ServerPid) : [];
        var senderTimes = report ? ThisThreadTimes() - senderStart : default;
        var stealEnd = StealTicks();
        var gcEnd = report ? ServerMetrics.Read(options.Http) : null;
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpuStart;
        int clientGcs = GC.CollectionCount(0) - clientGcStart;
        var clientPause = GC.GetTotalPauseDuration() - clientPauseStart;
        if (receiveFailure is not null)
        {
            throw receiveFailure is ClosedByServerException or IOException or SocketException ? receiveFailure : new InvalidOperationException("The receiver failed.", receiveFailure);
        }

        if (!finished)
        {
            Console.WriteLine($"only {Interlocked.Read(ref answered):N0} of {total:N0} answered within 30 s after the last send");
            return 1;
        }

        if (report)
        {
            var histogram = new LongHistogram(TimeStamp.Seconds(60), 3);
            var hops = new LatencySplit();
            for (int c = 0; c < n; c++)
            {
                histogram.Add(histograms[c]);
                hops.Add(splits[c]);
            }

            double sendSeconds = (sendEnd - start) / (double)Stopwatch.Frequency;
            double allSeconds = (end - start) / (double)Stopwatch.Frequency;
            Console.WriteLine($"orders: {total:N0}; offered {total / sendSeconds:N0}/s over {sendSeconds:F2} s; answered {total / allSeconds:N0}/s (all answers within {allSeconds:F2} s); errors {errors:N0}");
            Console.WriteLine($"order→ack latency (µs, from the scheduled send time): p50 {histogram.GetValueAtPercentile(50):N0}  p90 {histogram.GetValueAtPercentile(90):N0}  p99 {histogram.GetValueAtPercentile(99):N0}  p99.9 {histogram.GetValueAtPercentile(99.9):N0}  max {histogram.GetMaxValue():N0}");
            hops.Report();
            if (serverCpuStart >= 0 && serverCpuEnd >= 0)
            {
                long cpu = serverCpuEnd - serverCpuStart;
                Console.WriteLine($"server CPU during the measured run: {cpu:N0} ms (user + system), {cpu * 1000.0 / total:F1} µs per order, {cpu / 1000.0 / allSeconds:F2} cores");
            }

            if (threadsEnd.Count > 0)
            {
                ReportBusiestThreads("server's", threadsStart, threadsEnd, allSeconds, count: 8);
            }

            if (stealEnd.Total > stealStart.Total)
            {
                Console.WriteLine($"machine: {(stealEnd.Steal - stealStart.Steal) * 100.0 / (stealEnd.Total - stealStart.Total):F1}% of all cores' time stolen by the hypervisor during the run");
            }

            if (gcStart is not null && gcEnd is not null)
            {
                ServerMetrics.Report(gcStart, gcEnd, total, allSeconds);
            }

            Console.WriteLine($"client CPU during the measured run: {clientCpu.TotalMilliseconds:N0} ms, {clientCpu.TotalMicroseconds / total:F1} µs per order, {clientCpu.TotalSeconds / allSeconds:F2} cores (this machine has {Environment.ProcessorCount}); "
                + $"its own GC paused it {clientPause.TotalMilliseconds:N1} ms in {clientGcs:N0} collections (a pause delays the answers it reads, so it counts as latency)");

            if (senderTimes.Name is not null)
            {
                Console.WriteLine("client's threads (the same): " + string.Join(", ", new[] { senderTimes with { Name = "sender" } }.Concat(receiverTimes).Select(t => t.Describe(allSeconds))));
            }

            if (firstError is not null)
            {
                Console.WriteLine("first error: " + firstError);
            }
        }

        return errors == 0 ? 0 : 1;
    }

    /// <summary>
    /// Each answer's latency cut at the hops it passed, from the answer's own <c>usIn</c> and
    /// <c>usOut</c> (the server's wall clock, in µs, when it read the request and when the answer
    /// was ready): the client's sender (scheduled time to the write of its frame), the way in
    /// (that write to the server's <c>usIn</c>: the client's socket, the kernel, the server's
    /// socket loop), the server (<c>usIn</c> to <c>usOut</c>) and the way back (<c>usOut</c> to the
    /// client's receiver reading it: the answer's write, the kernel, the receiver). Both processes
    /// read the same clock on one machine; the wall clock is taken on receipt, next to the
    /// monotonic one, so that drift between the two clocks does not enter. The four parts add up
    /// to the order's latency; each is recorded on its own, so their percentiles do not add up.
    /// </summary>
    private sealed class LatencySplit
    {
        private readonly LongHistogram sender = new(TimeStamp.Seconds(60), 3);
        private readonly LongHistogram wayIn = new(TimeStamp.Seconds(60), 3);
        private readonly LongHistogram server = new(TimeStamp.Seconds(60), 3);
        private readonly LongHistogram wayBack = new(TimeStamp.Seconds(60), 3);
        private long missing;

        /// <summary>Adds <paramref name="other"/>'s records to these (after both connections' receivers are done).</summary>
        public void Add(LatencySplit other)
        {
            sender.Add(other.sender);
            wayIn.Add(other.wayIn);
            server.Add(other.server);
            wayBack.Add(other.wayBack);
            missing += other.missing;
        }

        /// <summary>Receiver thread only.</summary>
        public void Record(ReadOnlySpan<byte> answer, long dueAt, long writtenAt, long receivedAt)
        {
            long receivedUnix = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
            if (writtenAt == 0 || !TryReadNumber(answer, "\"usIn\":"u8, out long usIn) || !TryReadNumber(answer, "\"usOut\":"u8, out long usOut))
            {
                missing++;
                return;
            }

            long total = (receivedAt - dueAt) * 1_000_000 / Stopwatch.Frequency;
            long senderPart = (writtenAt - dueAt) * 1_000_000 / Stopwatch.Frequency;
            long serverPart = usOut - usIn;
            long backPart = receivedUnix - usOut;
            sender.RecordValue(Math.Max(0, senderPart));
            server.RecordValue(Math.Max(0, serverPart));
            wayBack.RecordValue(Math.Max(0, backPart));
            wayIn.RecordValue(Math.Max(0, total - senderPart - serverPart - backPart));
        }

        public void Report()
        {
            static string Line(LongHistogram h) => $"p50 {h.GetValueAtPercentile(50):N0}  p99 {h.GetValueAtPercentile(99):N0}  p99.9 {h.GetValueAtPercentile(99.9):N0}  max {h.GetMaxValue():N0}";
            Console.WriteLine($"  of which the client's sender (due → written): {Line(sender)}");
            Console.WriteLine($"  of which the way in (written → server's usIn): {Line(wayIn)}");
            Console.WriteLine($"  of which the server (usIn → usOut): {Line(server)}");
            Console.WriteLine($"  of which the way back (usOut → read by the client): {Line(wayBack)}"
                + (missing > 0 ? $"; {missing:N0} answers without usIn/usOut left out" : ""));
        }

        private static bool TryReadNumber(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key, out long value)
        {
            value = 0;
            int at = message.IndexOf(key);
            return at >= 0 && Utf8Parser.TryParse(message[(at + key.Length)..], out value, out _);
        }
    }

    /// <summary>
    /// The server's own view of the run, from two scrapes of its <c>/metrics</c>
    /// (docs/operations.md): its garbage collector, its order-to-ack histogram (a request's arrival
    /// to its durable answer, so without the client and the socket), and the journal's commits.
    /// Histogram percentiles are bucket bounds ("≤ 1 ms"), not exact values.
    /// </summary>
    private sealed class ServerMetrics(Dictionary<string, double> values)
    {
        /// <summary>Scrapes <c>/metrics</c>; null when the server does not answer.</summary>
        public static ServerMetrics? Read(Uri server)
        {
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                string text = http.GetStringAsync(new Uri(server, "/metrics")).GetAwaiter().GetResult();
                var values = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (string line in text.Split('\n'))
                {
                    int space = line.LastIndexOf(' ');
                    if (line.StartsWith("clearhouse_", StringComparison.Ordinal) && space > 0
                        && double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                    {
                        values[line[..space]] = value;
                    }
                }

                return new ServerMetrics(values);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return null;
            }
        }

        public static void Report(ServerMetrics start, ServerMetrics end, long orders, double seconds)
        {
            double Delta(string series) => end.Get(series) - start.Get(series);
            double pause = Delta("clearhouse_gc_pause_seconds_total");
            Console.WriteLine($"server GC during the measured run: {Delta("clearhouse_gc_collections_total{generation=\"0\"}"):N0} gen0, {Delta("clearhouse_gc_collections_total{generation=\"1\"}"):N0} gen1, {Delta("clearhouse_gc_collections_total{generation=\"2\"}"):N0} gen2 collections; "
                + $"paused {pause * 1000:N1} ms ({pause * 100 / seconds:F2}% of the run); {Delta("clearhouse_gc_allocated_bytes_total") / orders:N0} bytes allocated per order");

            var ack = end.Buckets("clearhouse_order_ack_seconds_bucket{method=\"private/buy\",le=\"", start)
                .Zip(end.Buckets("clearhouse_order_ack_seconds_bucket{method=\"private/sell\",le=\"", start), (buy, sell) => (buy.Le, buy.Count + sell.Count)).ToList();
            if (ack.Count > 0 && ack[^1].Item2 > 0)
            {
                Console.WriteLine($"server order→ack (arrival to durable answer, its histogram): p50 {Bound(ack, 0.5)}  p90 {Bound(ack, 0.9)}  p99 {Bound(ack, 0.99)}  p99.9 {Bound(ack, 0.999)}; "
                    + $"over 1 ms: {Over(ack, 0.001):P2}");
            }

            double blocks = Delta("clearhouse_blocks_sealed_total");
            if (blocks > 0)
            {
                Console.WriteLine($"engine thread during the measured run: {blocks:N0} blocks sealed, {Delta("clearhouse_block_seal_seconds_total") / blocks * 1000:N2} ms each; last snapshot took {end.Get("clearhouse_snapshot_serialize_seconds") * 1000:N2} ms to serialize");
            }

            var records = end.Buckets("clearhouse_journal_commit_records_bucket{le=\"", start);
            var sync = end.Buckets("clearhouse_journal_commit_seconds_bucket{phase=\"sync\",le=\"", start);
            var write = end.Buckets("clearhouse_journal_commit_seconds_bucket{phase=\"write\",le=\"", start);
            double commits = Delta("clearhouse_journal_commit_records_count");
            if (commits > 0)
            {
                Console.WriteLine($"journal commits during the measured run: {commits:N0} ({commits / seconds:N0}/s), {Delta("clearhouse_journal_commit_records_sum") / commits:N1} records each (p99 {Bound(records, 0.99, seconds: false)}); "
                    + $"sync p50 {Bound(sync, 0.5)} p99 {Bound(sync, 0.99)} p99.9 {Bound(sync, 0.999)}, mean {Delta("clearhouse_journal_commit_seconds_sum{phase=\"sync\"}") / commits * 1e6:N0} µs; "
                    + $"write p99 {Bound(write, 0.99)}, mean {Delta("clearhouse_journal_commit_seconds_sum{phase=\"write\"}") / commits * 1e6:N0} µs");
            }
        }

        private double Get(string series) => values.TryGetValue(series, out double value) ? value : 0;

        /// <summary>A histogram's cumulative buckets (upper bound, count) between two scrapes, in order.</summary>
        private List<(double Le, double Count)> Buckets(string prefix, ServerMetrics start) => values
            .Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(pair => (Le: ParseLe(pair.Key[prefix.Length..^2]), Count: pair.Value - start.Get(pair.Key)))
            .OrderBy(bucket => bucket.Le)
            .ToList();

        private static double ParseLe(string text) => text == "+Inf" ? double.PositiveInfinity : double.Parse(text, CultureInfo.InvariantCulture);

        /// <summary>The smallest bucket bound at or under which <paramref name="quantile"/> of the observations fall.</summary>
        private static string Bound(List<(double Le, double Count)> buckets, double quantile, bool seconds = true)
        {
            double total = buckets.Count > 0 ? buckets[^1].Count : 0;
            foreach (var (le, count) in buckets)
            {
                if (count >= quantile * total)
                {
                    return double.IsPositiveInfinity(le) ? "> last bucket" : seconds ? $"≤{le * 1e6:N0} µs" : $"≤{le:N0}";
                }
            }

            return "n/a";
        }

        private static double Over(List<(double Le, double Count)> buckets, double bound)
        {
            double total = buckets[^1].Count;
            double within = buckets.LastOrDefault(bucket => bucket.Le <= bound).Count;
            return total > 0 ? (total - within) / total : 0;
        }
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

    /// <summary>
    /// Each thread of process <paramref name="pid"/> so far (Linux /proc/PID/task), by thread id:
    /// its name, CPU time in clock ticks, and from its <c>schedstat</c> the time it spent runnable
    /// but waiting for a core (ns); empty when not known. Compared across the run, the CPU time
    /// shows which thread is busiest (a thread near 100% of a core is where requests queue) and the
    /// waiting shows whether a thread that had work was kept off the cores (too many runnable
    /// threads for the cores; a hypervisor's stolen time shows in <see cref="StealTicks"/> instead).
    /// </summary>
    private static Dictionary<int, ThreadTimes> ThreadTimesOf(int pid)
    {
        var threads = new Dictionary<int, ThreadTimes>();
        string tasks = $"/proc/{pid}/task";
        if (pid <= 0 || !Directory.Exists(tasks))
        {
            return threads;
        }

        foreach (string task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                int open = stat.IndexOf('(');
                int close = stat.LastIndexOf(')');
                string[] fields = stat[(close + 2)..].Split(' ');
                string[] schedstat = File.Exists(Path.Combine(task, "schedstat")) ? File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ') : [];
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = new ThreadTimes(
                    stat[(open + 1)..close],
                    long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                    schedstat.Length >= 2 ? long.Parse(schedstat[1], CultureInfo.InvariantCulture) : 0);
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return threads;
    }

    /// <summary>A thread's name, CPU time (clock ticks, user + system) and time runnable but not running (ns).</summary>
    private readonly record struct ThreadTimes(string Name, long Ticks, long WaitedNanos)
    {
        public static ThreadTimes operator -(ThreadTimes after, ThreadTimes before) => new(after.Name, after.Ticks - before.Ticks, after.WaitedNanos - before.WaitedNanos);

        /// <summary>"name 40 % (120 ms)": its share of one core over <paramref name="seconds"/>, and its wait for a core.</summary>
        public string Describe(double seconds) => $"{Name} {Ticks / 100.0 / seconds:P0} ({WaitedNanos / 1e6:N0} ms)"; // USER_HZ is 100 on Linux
    }

    /// <summary>The calling thread's <see cref="ThreadTimes"/> (Linux /proc/thread-self); default when not known.</summary>
    private static ThreadTimes ThisThreadTimes()
    {
        try
        {
            string stat = File.ReadAllText("/proc/thread-self/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            string[] schedstat = File.ReadAllText("/proc/thread-self/schedstat").Split(' ');
            return new ThreadTimes(
                Thread.CurrentThread.Name ?? "main",
                long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                long.Parse(schedstat[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return default;
        }
    }

    /// <summary>
    /// Prints the busiest threads of a process over the run: each one's share of one core, and how
    /// long it waited, runnable, for a core.
    /// </summary>
    private static void ReportBusiestThreads(string whose, Dictionary<int, ThreadTimes> before, Dictionary<int, ThreadTimes> after, double seconds, int count)
    {
        var busiest = after
            .Select(thread =>
            {
                var earlier = before.TryGetValue(thread.Key, out var found) ? found : default;
                return thread.Value - earlier;
            })
            .Where(thread => thread.Ticks > 0)
            .OrderByDescending(thread => thread.Ticks)
            .Take(count)
            .Select(thread => thread.Describe(seconds));
        Console.WriteLine($"{whose} busiest threads (share of one core over the run, and in brackets the time they waited, runnable, for a core): {string.Join(", ", busiest)}");
    }

    /// <summary>
    /// The machine's CPU time so far, all cores together, in clock ticks, and the part of it stolen
    /// by the hypervisor (the <c>steal</c> column of /proc/stat: time a virtual CPU had work but its
    /// host ran something else); (0, 0) when not known.
    /// </summary>
    private static (long Total, long Steal) StealTicks()
    {
        try
        {
            string? line = File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            if (line is null)
            {
                return (0, 0);
            }

            long[] values = [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
            return values.Length < 8 ? (0, 0) : (values.Sum(), values[7]);
        }
        catch (IOException)
        {
            return (0, 0);
        }
    }

    /// <summary>Writes <c>{"jsonrpc":"2.0","id":N,"method":M,"params":{"instrument_name":…,"amount":…,"type":"limit","price":…}}</c>.</summary>
    internal static int WriteOrder(byte[] frame, long id, ReadOnlySpan<byte> method, byte[] instrument, byte[] amount, byte[] price)
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

            Prepare(); // idempotent per thread
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
