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
/// </summary>
public sealed class ReplayGuard : IDisposable
{
    public const string RelativePath = "auth/nonces.log";

    /// <summary>Appends after which the file is rewritten with the live entries only.</summary>
    private const int CompactAfterAppends = 100_000;

    private readonly ConcurrentDictionary<string, long> seen = new(StringComparer.Ordinal);
    private readonly Lock fileGate = new();
    private readonly string? path;
    private readonly ILogger<ReplayGuard> logger;
    private FileStream? log;
    private int appendsSinceCompaction;
    private long nextSweepMicros;

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

    /// <summary>Whether <paramref name="timestampMillis"/> is within the window around <paramref name="nowMicros"/>.</summary>
    public bool IsWithinWindow(long timestampMillis, long nowMicros) =>
        timestampMillis is > -9_000_000_000_000 and < 9_000_000_000_000 && Math.Abs(timestampMillis * 1000 - nowMicros) <= WindowMicros;

    /// <summary>
    /// Records a signed request whose signature and timestamp were checked; false when it was seen
    /// before (a replay). Once this returns true the use is durable (fsynced), so a restart still
    /// refuses the replay.
    /// </summary>
    public bool TryUse(string clientId, long timestampMillis, string nonce, ReadOnlySpan<byte> signature, long nowMicros)
    {
        string fingerprint = Fingerprint(clientId, timestampMillis, nonce, signature);
        long expiresMicros = timestampMillis * 1000 + WindowMicros;
        if (!seen.TryAdd(fingerprint, expiresMicros))
        {
            return false;
        }

        if (path is not null)
        {
            try
            {
                Append(fingerprint, expiresMicros);
            }
            catch (IOException ex)
            {
                seen.TryRemove(fingerprint, out _);
                logger.LogError(ex, "Could not record a nonce in {Path}.", path);
                throw Rpc.RpcError.Unavailable("The server could not record the request's nonce; nothing was done. Retry with a new nonce.").ToException();
            }
        }

        SweepIfDue(nowMicros);
        return true;
    }

    public void Dispose()
    {
        lock (fileGate)
        {
            log?.Dispose();
            log = null;
        }
    }

    private static string Fingerprint(string clientId, long timestampMillis, string nonce, ReadOnlySpan<byte> signature)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{clientId}\n{timestampMillis.ToString(CultureInfo.InvariantCulture)}\n{nonce}\n"));
        hash.AppendData(signature);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private void Append(string fingerprint, long expiresMicros)
    {
        byte[] line = Encoding.ASCII.GetBytes($"{expiresMicros.ToString(CultureInfo.InvariantCulture)} {fingerprint}\n");
        lock (fileGate)
        {
            log ??= PrivateFile.Open(path!, FileMode.Append);
            log.Write(line);
            log.Flush(flushToDisk: true);
            appendsSinceCompaction++;
        }
    }

    /// <summary>Forgets fingerprints whose window has passed, at most once per window; rewrites a long file.</summary>
    private void SweepIfDue(long nowMicros)
    {
        long due = Volatile.Read(ref nextSweepMicros);
        if (nowMicros < due || Interlocked.CompareExchange(ref nextSweepMicros, nowMicros + WindowMicros, due) != due)
        {
            return;
        }

        foreach (var (fingerprint, expires) in seen)
        {
            if (expires < nowMicros)
            {
                seen.TryRemove(fingerprint, out _);
            }
        }

        if (path is not null)
        {
            lock (fileGate)
            {
                if (appendsSinceCompaction >= CompactAfterAppends)
                {
                    Compact();
                }
            }
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

    /// <summary>Rewrites the file with the live fingerprints only (called with <see cref="fileGate"/> held).</summary>
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
    }
}
