using System.Globalization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;

namespace Clearhouse.Server;

/// <summary>
/// The server's own settings, read from configuration (command line <c>--demo false</c>,
/// environment <c>Demo=false</c>, or appsettings). Parsed strictly: a typo stops the start with
/// a message rather than silently falling back to a default, in a value here and, on the command
/// line, in a name too (<see cref="CommandLineCheck"/>).
/// </summary>
public sealed record ServerOptions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Default data directory, relative to the working directory.</summary>
    public const string DefaultDataDirectory = "data";

    /// <summary>Run the demo market (index feed, market makers, taker). Key <c>Demo</c>; default true.</summary>
    public bool Demo { get; init; } = true;

    /// <summary>Period of the demo market, in milliseconds. Key <c>DemoTickMillis</c>; default 500.</summary>
    public int DemoTickMillis { get; init; } = 500;

    /// <summary>Seed for the demo's randomness, for a repeatable demo. Key <c>DemoSeed</c>; default none.</summary>
    public int? DemoSeed { get; init; }

    /// <summary>
    /// Where the journal, snapshots and block headers live (<c>journal/</c>, <c>snapshots/</c>,
    /// <c>blocks/</c>). Key <c>data-dir</c> (command line <c>--data-dir</c>) or <c>DataDir</c>; default <c>./data</c>.
    /// </summary>
    public string DataDirectory { get; init; } = DefaultDataDirectory;

    /// <summary>
    /// Write-ahead journal on (the default): every command is on disk before it is acknowledged
    /// and the venue is recovered from <see cref="DataDirectory"/> at start. <c>--journal false</c>
    /// runs in memory only (nothing survives a restart; for tests and throwaway demos). Key <c>Journal</c>.
    /// </summary>
    public bool Journal { get; init; } = true;

    /// <summary>
    /// How the journal makes each commit durable: <c>fdatasync</c> (the default; on Linux it skips
    /// the modification time, elsewhere it is fsync) or <c>fsync</c>. Both put every acknowledged
    /// command on disk first. Key <c>JournalSync</c>; see docs/durability.md, "fsync or fdatasync".
    /// </summary>
    public JournalSync JournalSync { get; init; } = JournalSync.DataSync;

    /// <summary>
    /// Bytes of zeros the journal keeps written ahead of its data, so that a commit overwrites
    /// blocks that exist instead of growing the file. Key <c>JournalPreallocateBytes</c>; default
    /// 1 MiB; 0 off. See docs/durability.md, "Preallocation".
    /// </summary>
    public int JournalPreallocateBytes { get; init; } = 1024 * 1024;

    /// <summary>Period of the clock <c>Tick</c> command, in milliseconds; 0 sends none. Key <c>TickMillis</c>; default 250.</summary>
    public int TickMillis { get; init; } = 250;

    /// <summary>Block interval in milliseconds of sequencer time (see docs/durability.md). Key <c>BlockMillis</c>; default 1000.</summary>
    public int BlockMillis { get; init; } = (int)(BlockSealer.DefaultIntervalMicros / 1000);

    /// <summary>Most commands in one block. Key <c>BlockMaxCommands</c>; default 10,000.</summary>
    public int BlockMaxCommands { get; init; } = BlockSealer.DefaultMaxCommands;

    /// <summary>Take a snapshot at the first block boundary after this many commands. Key <c>SnapshotEveryCommands</c>; default 100,000; 0 never by count.</summary>
    public long SnapshotEveryCommands { get; init; } = 100_000;

    /// <summary>...or after this many seconds. Key <c>SnapshotEverySeconds</c>; default 60; 0 never by time.</summary>
    public int SnapshotEverySeconds { get; init; } = 60;

    /// <summary>How many valid snapshots to keep. Key <c>SnapshotsKept</c>; default 3.</summary>
    public int SnapshotsKept { get; init; } = 3;

    /// <summary>
    /// Move journal segments older than the oldest kept snapshot to <c>journal/archive/</c>. Key
    /// <c>ArchiveJournal</c>; default false, so that the journal directory alone replays from genesis.
    /// </summary>
    public bool ArchiveJournal { get; init; }

    /// <summary>
    /// The operator's bearer token for the native API's state-changing endpoints. Key
    /// <c>OperatorToken</c>; default: kept in <c>operator-token</c> in the data directory (made on
    /// first start). See <see cref="Operations.OperatorCredential"/>.
    /// </summary>
    public string? OperatorToken { get; init; }

    /// <summary>
    /// How far a signed request's timestamp (<c>deri-hmac-sha256</c> header, <c>client_signature</c>
    /// grant) may be from the server's clock, either way, and how long its nonce is remembered.
    /// Key <c>AuthTimestampWindowSeconds</c>; default 60, as on Deribit (docs/api.md).
    /// </summary>
    public int AuthTimestampWindowSeconds { get; init; } = 60;

    /// <summary>
    /// Run request code on the socket threads (Kestrel's <c>UnsafePreferInlineScheduling</c>, and
    /// the runtime's inline socket completions when the server is its own process): a request is
    /// read, parsed and dispatched on the thread that received it, and an answer is sent on the
    /// thread that wrote it, instead of each step being handed to the thread pool. That saves about
    /// four thread wake-ups per order on the WebSocket API (docs/benchmarks.md: on 16 cores, 21
    /// against 37 µs of server CPU per order, and p99 at 100,000 orders/s in milliseconds instead
    /// of 82–194 ms). It is safe because no request code waits on anything: the disk writes a
    /// request needs (a signed request's nonce, the journal) are done by other threads and awaited.
    /// Key <c>InlineSocketIo</c>; default true.
    /// </summary>
    public bool InlineSocketIo { get; init; } = true;

    /// <summary>
    /// How long the engine thread and the journal's flusher look for new work, spinning, before they
    /// sleep. Waking a sleeping thread costs the thread that wakes it a system call and the sleeper
    /// a reschedule (measured 39 µs per wake on the 2-core benchmark VM, where one request in five
    /// woke the engine at 20,000 orders/s), and at high rates the next command is usually microseconds
    /// away. The price is CPU: each of the two threads stays busy this long after its last work, a
    /// core each at most on a busy venue. Key <c>IdleSpinMicros</c>; default 50 on a machine with 4
    /// or more cores, 0 (sleep at once) on fewer, where a spinning thread would take the core the
    /// thread it waits for needs.
    /// </summary>
    public int IdleSpinMicros { get; init; } = Environment.ProcessorCount >= 4 ? 50 : 0;

    /// <summary>
    /// When the engine thread sleeps, the request thread that queues a command applies it itself
    /// (with whatever else is queued, up to 64 items) instead of waking the engine thread: one
    /// thread wake-up less for an order that arrives on a quiet venue, the costliest step of a lone
    /// order (docs/operations.md). Only one thread applies at a time and always in queue order, so
    /// the venue's state is the same either way. Key <c>ApplyInline</c>; default true.
    /// </summary>
    public bool ApplyInline { get; init; } = true;

    /// <summary>
    /// The largest batch of durable answers the journal's flusher completes itself, right after its
    /// fsync; a larger batch is handed to the thread pool, so that answering it overlaps the next
    /// fsync. Completing on the flusher saves a thread wake-up per batch but delays the next commit
    /// by the time the answers take (docs/operations.md). Key <c>AnswerInlineBatch</c>, 0–4096; default 8.
    /// </summary>
    public int AnswerInlineBatch { get; init; } = Sequencing.DurableAcknowledgements.DefaultInlineBatchLimit;

    /// <summary>Lifetime of an access token from <c>public/auth</c>. Key <c>AccessTokenSeconds</c>; default 900.</summary>
    public int AccessTokenSeconds { get; init; } = 900;

    /// <summary>Lifetime of a refresh token from <c>public/auth</c>. Key <c>RefreshTokenSeconds</c>; default 604,800 (7 days).</summary>
    public int RefreshTokenSeconds { get; init; } = 604_800;

    /// <summary>
    /// Sustained rate of trading-class calls (orders, account reads) per API key and, separately, per
    /// remote address. Key <c>RateLimitTradingPerSecond</c>; default 250,000, sized so that the loopback
    /// benchmark (100,000 orders/s from one key) is not limited; lower it for a shared deployment.
    /// </summary>
    public int RateLimitTradingPerSecond { get; init; } = 250_000;

    /// <summary>Trading-class calls a key or address may make at once after being idle. Key <c>RateLimitTradingBurst</c>; default 250,000.</summary>
    public int RateLimitTradingBurst { get; init; } = 250_000;

    /// <summary>Sustained rate of market-data-class calls (public data, auth, subscriptions) per key and per address. Key <c>RateLimitMarketDataPerSecond</c>; default 100,000.</summary>
    public int RateLimitMarketDataPerSecond { get; init; } = 100_000;

    /// <summary>Market-data-class calls a key or address may make at once after being idle. Key <c>RateLimitMarketDataBurst</c>; default 100,000.</summary>
    public int RateLimitMarketDataBurst { get; init; } = 100_000;

    /// <summary>
    /// Make (or show again) an API key for an existing account at start, for operators:
    /// <c>--CreateApiKey ACCOUNT[:SCOPES[:NAME]]</c>, SCOPES a comma-separated list of read, trade,
    /// withdraw (default read,trade), NAME default "operator". A key with that name on that account
    /// is reused, so the option may stay on the command line. The key is printed on standard output
    /// as one <c>api_key account=... name=... scopes=... client_id=... client_secret=...</c> line.
    /// Key <c>CreateApiKey</c>; default none (docs/api.md).
    /// </summary>
    public ApiKeyRequest? CreateApiKey { get; init; }

    public long BlockIntervalMicros => BlockMillis * 1000L;

    public static ServerOptions From(IConfiguration configuration)
    {
        var options = new ServerOptions();
        if (configuration["Demo"] is { } demo)
        {
            options = options with { Demo = Bool("--demo", demo) };
        }

        if (configuration["InlineSocketIo"] is { } inline)
        {
            options = options with { InlineSocketIo = Bool("--InlineSocketIo", inline) };
        }

        if (configuration["ApplyInline"] is { } applyInline)
        {
            options = options with { ApplyInline = Bool("--ApplyInline", applyInline) };
        }

        if (configuration["AnswerInlineBatch"] is { } inlineBatch)
        {
            options = options with { AnswerInlineBatch = (int)Whole("--AnswerInlineBatch", inlineBatch, 0, 4096, "answers") };
        }

        if (configuration["IdleSpinMicros"] is { } spin)
        {
            options = options with { IdleSpinMicros = (int)Whole("--IdleSpinMicros", spin, 0, 10_000, "microseconds") };
        }

        if (configuration["DemoTickMillis"] is { } tick)
        {
            options = options with { DemoTickMillis = (int)Whole("--DemoTickMillis", tick, 10, 60_000, "milliseconds") };
        }

        if (configuration["DemoSeed"] is { } seed)
        {
            options = options with
            {
                DemoSeed = int.TryParse(seed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int s)
                    ? s
                    : throw new ServerConfigurationException($"--DemoSeed must be a whole number, not '{seed}'."),
            };
        }

        if ((configuration["data-dir"] ?? configuration["DataDir"]) is { } dataDirectory)
        {
            options = options with
            {
                DataDirectory = dataDirectory.Trim().Length > 0 ? dataDirectory : throw new ServerConfigurationException("--data-dir must name a directory."),
            };
        }

        if (configuration["Journal"] is { } journal)
        {
            options = options with { Journal = Bool("--journal", journal) };
        }

        if (configuration["JournalSync"] is { } sync)
        {
            options = options with
            {
                JournalSync = sync.Trim().ToLowerInvariant() switch
                {
                    "fdatasync" => JournalSync.DataSync,
                    "fsync" => JournalSync.Fsync,
                    _ => throw new ServerConfigurationException($"--JournalSync must be fdatasync or fsync, not '{sync}'."),
                },
            };
        }

        if (configuration["JournalPreallocateBytes"] is { } preallocate)
        {
            options = options with { JournalPreallocateBytes = (int)Whole("--JournalPreallocateBytes", preallocate, 0, 64L * 1024 * 1024, "bytes") };
        }

        if (configuration["TickMillis"] is { } tickMillis)
        {
            options = options with { TickMillis = (int)Whole("--TickMillis", tickMillis, 0, 60_000, "milliseconds") };
        }

        if (configuration["BlockMillis"] is { } blockMillis)
        {
            options = options with { BlockMillis = (int)Whole("--BlockMillis", blockMillis, 1, 3_600_000, "milliseconds") };
        }

        if (configuration["BlockMaxCommands"] is { } blockMax)
        {
            options = options with { BlockMaxCommands = (int)Whole("--BlockMaxCommands", blockMax, 1, 10_000_000, "commands") };
        }

        if (configuration["SnapshotEveryCommands"] is { } snapshotCommands)
        {
            options = options with { SnapshotEveryCommands = Whole("--SnapshotEveryCommands", snapshotCommands, 0, long.MaxValue, "commands") };
        }

        if (configuration["SnapshotEverySeconds"] is { } snapshotSeconds)
        {
            options = options with { SnapshotEverySeconds = (int)Whole("--SnapshotEverySeconds", snapshotSeconds, 0, 86_400, "seconds") };
        }

        if (configuration["SnapshotsKept"] is { } kept)
        {
            options = options with { SnapshotsKept = (int)Whole("--SnapshotsKept", kept, 1, 1_000, "snapshots") };
        }

        if (configuration["OperatorToken"] is { } operatorToken)
        {
            options = options with
            {
                OperatorToken = operatorToken.Trim().Length >= 16 ? operatorToken.Trim() : throw new ServerConfigurationException("--OperatorToken must be at least 16 characters."),
            };
        }

        if (configuration["ArchiveJournal"] is { } archive)
        {
            options = options with { ArchiveJournal = Bool("--ArchiveJournal", archive) };
        }

        if (configuration["AuthTimestampWindowSeconds"] is { } window)
        {
            options = options with { AuthTimestampWindowSeconds = (int)Whole("--AuthTimestampWindowSeconds", window, 1, 3_600, "seconds") };
        }

        if (configuration["AccessTokenSeconds"] is { } accessSeconds)
        {
            options = options with { AccessTokenSeconds = (int)Whole("--AccessTokenSeconds", accessSeconds, 1, 31_536_000, "seconds") };
        }

        if (configuration["RefreshTokenSeconds"] is { } refreshSeconds)
        {
            options = options with { RefreshTokenSeconds = (int)Whole("--RefreshTokenSeconds", refreshSeconds, 1, 31_536_000, "seconds") };
        }

        if (configuration["RateLimitTradingPerSecond"] is { } tradingRate)
        {
            options = options with { RateLimitTradingPerSecond = (int)Whole("--RateLimitTradingPerSecond", tradingRate, 1, 100_000_000, "calls per second") };
        }

        if (configuration["RateLimitTradingBurst"] is { } tradingBurst)
        {
            options = options with { RateLimitTradingBurst = (int)Whole("--RateLimitTradingBurst", tradingBurst, 1, 100_000_000, "calls") };
        }

        if (configuration["RateLimitMarketDataPerSecond"] is { } dataRate)
        {
            options = options with { RateLimitMarketDataPerSecond = (int)Whole("--RateLimitMarketDataPerSecond", dataRate, 1, 100_000_000, "calls per second") };
        }

        if (configuration["RateLimitMarketDataBurst"] is { } dataBurst)
        {
            options = options with { RateLimitMarketDataBurst = (int)Whole("--RateLimitMarketDataBurst", dataBurst, 1, 100_000_000, "calls") };
        }

        if (configuration["CreateApiKey"] is { } createKey)
        {
            options = options with { CreateApiKey = ApiKeyRequest.Parse(createKey) };
        }

        return options;
    }

    private static bool Bool(string name, string text) =>
        bool.TryParse(text, out bool on) ? on : throw new ServerConfigurationException($"{name} must be true or false, not '{text}'.");

    private static long Whole(string name, string text, long min, long max, string unit) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value >= min && value <= max
            ? value
            : throw new ServerConfigurationException($"{name} must be a whole number of {unit} from {min} to {max}, not '{text}'.");
}

/// <summary>An operator's request for an API key (<see cref="ServerOptions.CreateApiKey"/>).</summary>
public sealed record ApiKeyRequest(int AccountId, Deribit.Auth.ApiScopes Scopes, string Name)
{
    public const string DefaultName = "operator";

    /// <summary>Parses <c>ACCOUNT[:SCOPES[:NAME]]</c>.</summary>
    public static ApiKeyRequest Parse(string text)
    {
        string[] parts = text.Split(':', 3);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int accountId))
        {
            throw new ServerConfigurationException($"--CreateApiKey must be ACCOUNT[:SCOPES[:NAME]] (e.g. 3:read,trade:bot), not '{text}': the account must be a number.");
        }

        var scopes = Deribit.Auth.ApiScopes.None;
        foreach (string word in (parts.Length > 1 ? parts[1] : "read,trade").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            scopes |= Deribit.Auth.ScopeWords.Parse(word)
                ?? throw new ServerConfigurationException($"--CreateApiKey: '{word}' is not a scope; use read, trade and withdraw.");
        }

        if (scopes == Deribit.Auth.ApiScopes.None)
        {
            throw new ServerConfigurationException("--CreateApiKey needs at least one scope (read, trade, withdraw).");
        }

        string name = parts.Length > 2 && parts[2].Trim().Length > 0 ? parts[2].Trim() : DefaultName;
        return new ApiKeyRequest(accountId, scopes, name);
    }
}

/// <summary>The server's configuration cannot be used; the message says why and what to do.</summary>
public sealed class ServerConfigurationException(string message) : Exception(message);
