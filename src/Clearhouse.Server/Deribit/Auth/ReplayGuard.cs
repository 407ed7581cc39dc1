using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// Refuses a signed request seen before. A signature (<c>deri-hmac-sha256</c> header or
/// <c>client_signature</c> grant) is accepted once within its timestamp window: its fingerprint —
/// SHA-256 of client id, timestamp, nonce and signature — is remembered until the timestamp leaves
/// the window, after which the timestamp check refuses it anyway. The signature is part of the
/// fingerprint because ccxt's nonce is its millisecond clock: two different requests signed in
/// the same millisecond share (client id, timestamp, nonce) but never a signature, while a replay
/// repeats all four. Only requests whose signature checked out are recorded, so nobody without
/// the secret can fill the ledger.
/// <para>
/// The ledger survives a restart: every accepted fingerprint is appended to
/// <c>auth/nonces.log</c> and fsynced before the request runs; at start the file is read, entries
/// whose window has passed are dropped, and it is rewritten. With <c>--journal false</c> it is
/// kept in memory only.
/// </para>
/// <para>
/// The fsync is group-committed and never runs on the caller's thread: <see cref="TryUseAsync"/>
/// decides "new or replay" at once, in memory, then queues the line, and one flush on the thread
/// pool writes and fsyncs every line queued meanwhile. Request threads therefore never block on
/// the disk (with <c>--InlineSocketIo</c> they are the socket threads, and a blocked one would
/// hold up every connection's I/O), and a burst of signed requests shares one fsync instead of
/// waiting in line for one each. Forgetting expired fingerprints and rewriting a long file run on
/// the thread pool too.
/// </para>
/// </summary>
public sealed class ReplayGuard : IDisposable
{
    public const string RelativePath = "auth/nonces.log";

    /// <summary>Appends after which the file is rewritten with the live entries only.</summary>
    private const int CompactAfterAppends = 100_000;

    /// <summary>One line of the file: expiry (µs, at most 17 digits), a space, 64 hex digits, a newline.</summary>
    private const int MaxLineBytes = 20 + 1 + 64 + 1;

    private readonly ConcurrentDictionary<string, long> seen = new(StringComparer.Ordinal);
    private readonly Lock fileGate = new();
    private readonly Lock queueGate = new();
    private readonly string? path;
    private readonly ILogger<ReplayGuard> logger;
    private FileStream? log;
    private int appendsSinceCompaction;
    private long nextSweepMicros;
    private long flushCount;
    private bool lastAppendFailed;
    private bool disposed;

    // The lines waiting for the next flush (queueGate), the fingerprints they hold (taken back if
    // the flush fails), and the completion their requests wait on; flushing says a flush is running.
    private byte[] queuedLines = new byte[16 * MaxLineBytes];
    private int queuedBytes;
    private List<string> queuedFingerprints = [];
    private TaskCompletionSource? queuedDurable;
    private bool flushing;

    public ReplayGuard(ServerOptions options, TimeProvider clock, ILogger<ReplayGuard> logger)
    {
        this.logger = logger;
        WindowMicros = options.AuthTimestampWindowSeconds * 1_000_000L;
        path = options.Journal ? Path.Combine(options.DataDirectory, RelativePath) : null;
        long now = (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
        if (path is not null)
        {
            Load(path, now);
            lock (fileGate)
            {
                Compact();
            }
        }

        nextSweepMicros = now + WindowMicros;
    }

    /// <summary>How far a timestamp may be from the server's clock, either way (µs).</summary>
    public long WindowMicros { get; }

    /// <summary>Fingerprints remembered now (for tests and metrics).</summary>
    public int Count => seen.Count;

    /// <summary>Flushes (write and fsync of queued lines) done so far: fewer than uses when they were grouped (tests).</summary>
    public long FlushCount => Interlocked.Read(ref flushCount);

    /// <summary>Whether <paramref name="timestampMillis"/> is within the window around <paramref name="nowMicros"/>.</summary>
    public bool IsWithinWindow(long timestampMillis, long nowMicros) =>
        timestampMillis is > -9_000_000_000_000 and < 9_000_000_000_000 && Math.Abs(timestampMillis * 1000 - nowMicros) <= WindowMicros;

    /// <summary>
    /// Records a signed request whose signature and timestamp were checked; false when it was seen
    /// before (a replay), decided before this returns. When the result is true the use is durable
    /// (fsynced), so a restart still refuses the replay. If the disk refuses the line, the use is
    /// forgotten again and the task fails with an <c>Unavailable</c> <see cref="Rpc.RpcException"/>:
    /// nothing was done, and the client may retry with a new nonce.
    /// </summary>
    public ValueTask<bool> TryUseAsync(string clientId, long timestampMillis, string nonce, ReadOnlySpan<byte> signature, long nowMicros)
    {
        string fingerprint = Fingerprint(clientId, timestampMillis, nonce, signature);
        long expiresMicros = timestampMillis * 1000 + WindowMicros;
        if (!seen.TryAdd(fingerprint, expiresMicros))
        {
            return ValueTask.FromResult(false);
        }

        SweepIfDue(nowMicros);
        if (path is null)
        {
            return ValueTask.FromResult(true);
        }

        return WhenDurable(Queue(fingerprint, expiresMicros));
    }

    public void Dispose()
    {
        lock (fileGate)
        {
            disposed = true;
            log?.Dispose();
            log = null;
        }
    }

    private static async ValueTask<bool> WhenDurable(Task durable)
    {
        await durable.ConfigureAwait(false);
        return true;
    }

    private static string Fingerprint(string clientId, long timestampMillis, string nonce, ReadOnlySpan<byte> signature)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{clientId}\n{timestampMillis.ToString(CultureInfo.InvariantCulture)}\n{nonce}\n"));
        hash.AppendData(signature);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Queues a line for the next flush and starts one unless one is running; the task completes when the line is on disk.</summary>
    private Task Queue(string fingerprint, long expiresMicros)
    {
        lock (queueGate)
        {
            if (queuedLines.Length - queuedBytes < MaxLineBytes)
            {
                Array.Resize(ref queuedLines, queuedLines.Length * 2);
            }

            var line = queuedLines.AsSpan(queuedBytes);
            expiresMicros.TryFormat(line, out int written, provider: CultureInfo.InvariantCulture);
            line[written++] = (byte)' ';
            written += Encoding.ASCII.GetBytes(fingerprint, line[written..]);
            line[written++] = (byte)'\n';
            queuedBytes += written;
            queuedFingerprints.Add(fingerprint);

            // Continuations run on the thread pool, not on the flush: it goes straight on to the next batch.
            queuedDurable ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var durable = queuedDurable.Task;
            if (!flushing)
            {
                flushing = true;
                ThreadPool.UnsafeQueueUserWorkItem(static guard => guard.FlushQueued(), this, preferLocal: false);
            }

            return durable;
        }
    }

    /// <summary>Writes and fsyncs what is queued, batch after batch, until nothing is left (thread pool).</summary>
    private void FlushQueued()
    {
        byte[] spare = new byte[queuedLines.Length];
        List<string> spareFingerprints = [];
        while (true)
        {
            byte[] lines;
            int bytes;
            List<string> fingerprints;
            TaskCompletionSource durable;
            lock (queueGate)
            {
                if (queuedDurable is null)
                {
                    flushing = false;
                    return;
                }

                (lines, bytes, fingerprints, durable) = (queuedLines, queuedBytes, queuedFingerprints, queuedDurable);
                (queuedLines, queuedBytes, queuedFingerprints, queuedDurable) = (spare.Length >= lines.Length ? spare : new byte[lines.Length], 0, spareFingerprints, null);
            }

            try
            {
                Append(lines.AsSpan(0, bytes), fingerprints.Count);
                durable.SetResult();
            }
            catch (Exception ex)
            {
                foreach (string fingerprint in fingerprints)
                {
                    seen.TryRemove(fingerprint, out _);
                }

                logger.LogError(ex, "Could not record {Count} nonce(s) in {Path}.", fingerprints.Count, path);
                durable.SetException(Rpc.RpcError.Unavailable("The server could not record the request's nonce; nothing was done. Retry with a new nonce.").ToException());
            }

            fingerprints.Clear();
            (spare, spareFingerprints) = (lines, fingerprints);
        }
    }

    private void Append(ReadOnlySpan<byte> lines, int count)
    {
        lock (fileGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                log ??= PrivateFile.Open(path!, FileMode.Append);
                if (lastAppendFailed)
                {
                    // A failed append may have left part of a line; the next line must not be glued
                    // to it (Load would skip the pair, and with it a use that was answered).
                    log.Write("\n"u8);
                }

                log.Write(lines);
                log.Flush(flushToDisk: true);
                lastAppendFailed = false;
            }
            catch
            {
                lastAppendFailed = true;
                DropLog();
                throw;
            }

            appendsSinceCompaction += count;
            Interlocked.Increment(ref flushCount);
        }
    }

    /// <summary>Closes the file after a failed write; what its buffer still held is not wanted (called with <see cref="fileGate"/> held).</summary>
    private void DropLog()
    {
        try
        {
            log?.Dispose();
        }
        catch (IOException)
        {
        }

        log = null;
    }

    /// <summary>At most once per window: forgets expired fingerprints and rewrites a long file, on the thread pool.</summary>
    private void SweepIfDue(long nowMicros)
    {
        long due = Volatile.Read(ref nextSweepMicros);
        if (nowMicros < due || Interlocked.CompareExchange(ref nextSweepMicros, nowMicros + WindowMicros, due) != due)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static state => state.guard.Sweep(state.nowMicros), (guard: this, nowMicros), preferLocal: false);
    }

    private void Sweep(long nowMicros)
    {
        foreach (var (fingerprint, expires) in seen)
        {
            if (expires < nowMicros)
            {
                seen.TryRemove(fingerprint, out _);
            }
        }

        if (path is null)
        {
            return;
        }

        try
        {
            lock (fileGate)
            {
                if (!disposed && appendsSinceCompaction >= CompactAfterAppends)
                {
                    Compact();
                }
            }
        }
        catch (IOException ex)
        {
            // The appended file is still whole; the next sweep tries again.
            logger.LogError(ex, "Could not rewrite {Path} with the live nonces only.", path);
        }
    }

    private void Load(string file, long nowMicros)
    {
        if (!File.Exists(file))
        {
            return;
        }

        foreach (string line in File.ReadLines(file))
        {
            // A line cut short by a crash is the only damage an append-only file can have; skip it
            // (its request was never answered, so the client never learnt it was accepted).
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || line.Length - space - 1 != 64
                || !long.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out long expires))
            {
                continue;
            }

            if (expires >= nowMicros)
            {
                seen[line[(space + 1)..]] = expires;
            }
        }
    }

    /// <summary>
    /// Rewrites the file with the live fingerprints only (called with <see cref="fileGate"/> held).
    /// Fingerprints queued but not yet flushed are written too: harmless, a use refused for a
    /// failed flush was never answered as done.
    /// </summary>
    private void Compact()
    {
        log?.Dispose();
        log = null;
        var text = new StringBuilder();
        foreach (var (fingerprint, expires) in seen)
        {
            text.Append(expires.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(fingerprint).Append('\n');
        }

        PrivateFile.WriteAtomically(path!, Encoding.ASCII.GetBytes(text.ToString()));
        appendsSinceCompaction = 0;
        lastAppendFailed = false;
    }
}
