using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// One API key: the public <see cref="ClientId"/>, the <see cref="ClientSecret"/> that signs
/// requests, the venue account it acts for, what it may do and a name for people. The secret is
/// kept in clear because an HMAC can only be checked with it (as on Deribit); the file that holds
/// it is readable by the server's user only.
/// </summary>
public sealed record ApiKey(string ClientId, string ClientSecret, int AccountId, ApiScopes Scopes, string Name, long CreatedMillis)
{
    /// <summary>The caller this key authenticates as, built once (it is handed out on every request).</summary>
    public ApiPrincipal Principal { get; } = new(ClientId, AccountId, Scopes);

    /// <summary>The secret's UTF-8 bytes: the HMAC key, and what a presented secret is compared with.</summary>
    internal byte[] SecretBytes { get; } = Encoding.UTF8.GetBytes(ClientSecret);

    /// <summary>Whether <paramref name="presented"/> is this key's secret, in time that does not depend on where they differ.</summary>
    public bool SecretMatches(string presented)
    {
        // Hash both sides first so that the comparison also takes the same time whatever the
        // presented length; FixedTimeEquals alone returns early on a length mismatch.
        Span<byte> expected = stackalloc byte[32];
        Span<byte> given = stackalloc byte[32];
        SHA256.HashData(SecretBytes, expected);
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), given);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}

/// <summary>
/// The venue's API keys. Keys are made here (<see cref="CreateAsync"/>: random client id and
/// secret from <see cref="RandomNumberGenerator"/>) for an account that exists, and kept in
/// <c>api-keys.json</c> in the data directory, rewritten atomically on every change (temporary
/// file, fsync, rename) with mode 0600 on Unix. With <c>--journal false</c> keys live in memory
/// only, like the venue. Reads (every authenticated request) are lock-free; changes are rare and
/// serialized.
/// </summary>
public sealed class ApiKeyStore
{
    public const string FileName = "api-keys.json";

    /// <summary>Characters of a client id (8 random bytes, base64url: 11 characters).</summary>
    public const int ClientIdBytes = 8;

    /// <summary>Bytes of randomness in a secret (base64url: 43 characters, 256 bits).</summary>
    public const int SecretBytes = 32;

    private readonly ConcurrentDictionary<string, ApiKey> keys = new(StringComparer.Ordinal);
    private readonly Lock writeGate = new();
    private readonly Sequencer sequencer;
    private readonly DeribitConnections connections;
    private readonly TimeProvider clock;
    private readonly ILogger<ApiKeyStore> logger;

    public ApiKeyStore(Sequencer sequencer, DeribitConnections connections, ServerOptions options, TimeProvider clock, ILogger<ApiKeyStore> logger)
    {
        this.sequencer = sequencer;
        this.connections = connections;
        this.clock = clock;
        this.logger = logger;
        FilePath = options.Journal ? Path.Combine(options.DataDirectory, FileName) : null;
        foreach (var key in Load(FilePath))
        {
            keys[key.ClientId] = key;
        }
    }

    /// <summary>Where the keys are kept; null when they live in memory only (<c>--journal false</c>).</summary>
    public string? FilePath { get; }

    public IReadOnlyCollection<ApiKey> All => [.. keys.Values.OrderBy(k => k.CreatedMillis)];

    public bool TryGet(string clientId, out ApiKey key) => keys.TryGetValue(clientId, out key!);

    /// <summary>
    /// Makes a new key for <paramref name="accountId"/> with <paramref name="scopes"/>, saves it, and
    /// returns it (the only time its secret is handed out by this API). Throws
    /// <see cref="ArgumentException"/> when the account does not exist or the scopes are empty.
    /// </summary>
    public async Task<ApiKey> CreateAsync(int accountId, ApiScopes scopes, string name, CancellationToken ct = default)
    {
        if (scopes == ApiScopes.None || (scopes & ~(ApiScopes.Read | ApiScopes.Trade | ApiScopes.Withdraw)) != 0)
        {
            throw new ArgumentException("A key needs at least one of the read, trade and withdraw scopes.", nameof(scopes));
        }

        if (!await sequencer.QueryAsync(e => e.TryGetAccount(accountId, out _), ct).ConfigureAwait(false))
        {
            throw new ArgumentException($"There is no account {accountId}.", nameof(accountId));
        }

        lock (writeGate)
        {
            ApiKey key;
            do
            {
                key = new ApiKey(RandomText(ClientIdBytes), RandomText(SecretBytes), accountId, scopes, name, clock.GetUtcNow().ToUnixTimeMilliseconds());
            }
            while (keys.ContainsKey(key.ClientId));

            keys[key.ClientId] = key;
            Save();
            logger.LogInformation("API key {ClientId} ({Name}) created for account {Account} with scopes {Scopes}.", key.ClientId, name, accountId, scopes);
            return key;
        }
    }

    /// <summary>
    /// Removes a key: its tokens stop working at their next use, and WebSocket connections
    /// authenticated with it are closed. False when there was no such key.
    /// </summary>
    public bool Revoke(string clientId)
    {
        lock (writeGate)
        {
            if (!keys.TryRemove(clientId, out _))
            {
                return false;
            }

            Save();
        }

        foreach (var connection in connections.All)
        {
            if (connection.Principal?.ClientId == clientId)
            {
                connection.Abort("the API key of this connection was revoked");
            }
        }

        logger.LogInformation("API key {ClientId} revoked.", clientId);
        return true;
    }

    /// <summary>Random URL-safe text (base64url without padding) of <paramref name="bytes"/> random bytes.</summary>
    internal static string RandomText(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(random);
        return Convert.ToBase64String(random).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private void Save()
    {
        if (FilePath is not { } path)
        {
            return;
        }

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new KeyFile([.. keys.Values.OrderBy(k => k.CreatedMillis).Select(KeyRecord.From)]), FileJson);
        PrivateFile.WriteAtomically(path, json);
    }

    private static IEnumerable<ApiKey> Load(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return [];
        }

        // A damaged key file stops the start: silently starting without keys would lock every
        // client out, and starting with new ones would hide the damage.
        try
        {
            var file = JsonSerializer.Deserialize<KeyFile>(File.ReadAllBytes(path), FileJson)
                ?? throw new ServerConfigurationException($"{path} is empty.");
            return file.Keys.Select(r => r.ToKey(path)).ToList();
        }
        catch (JsonException ex)
        {
            throw new ServerConfigurationException($"{path} is not a valid API key file ({ex.Message}); restore it from a backup or move it away to start without keys.");
        }
    }

    private static readonly JsonSerializerOptions FileJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private sealed record KeyFile(List<KeyRecord> Keys);

    private sealed record KeyRecord(string ClientId, string ClientSecret, int AccountId, string[] Scopes, string Name, long CreatedMillis)
    {
        public static KeyRecord From(ApiKey key) => new(key.ClientId, key.ClientSecret, key.AccountId, ScopeWords.Of(key.Scopes), key.Name, key.CreatedMillis);

        public ApiKey ToKey(string path)
        {
            if (string.IsNullOrEmpty(ClientId) || string.IsNullOrEmpty(ClientSecret))
            {
                throw new ServerConfigurationException($"{path}: a key has no client id or secret.");
            }

            var scopes = ApiScopes.None;
            foreach (string word in Scopes ?? [])
            {
                scopes |= ScopeWords.Parse(word) ?? throw new ServerConfigurationException($"{path}: key {ClientId} has an unknown scope '{word}'.");
            }

            return new ApiKey(ClientId, ClientSecret, AccountId, scopes, Name ?? "", CreatedMillis);
        }
    }
}

/// <summary>The plain scope words of keys: <c>read</c>, <c>trade</c>, <c>withdraw</c>.</summary>
public static class ScopeWords
{
    public static ApiScopes? Parse(string word) => word switch
    {
        "read" => ApiScopes.Read,
        "trade" => ApiScopes.Trade,
        "withdraw" => ApiScopes.Withdraw,
        _ => null,
    };

    public static string[] Of(ApiScopes scopes)
    {
        var words = new List<string>(3);
        if ((scopes & ApiScopes.Read) != 0)
        {
            words.Add("read");
        }

        if ((scopes & ApiScopes.Trade) != 0)
        {
            words.Add("trade");
        }

        if ((scopes & ApiScopes.Withdraw) != 0)
        {
            words.Add("withdraw");
        }

        return [.. words];
    }
}

/// <summary>Files that hold secrets or replay state: written whole and atomically, readable by the owner only.</summary>
internal static class PrivateFile
{
    /// <summary>Writes a temporary file (mode 0600 on Unix), fsyncs it, and renames it over <paramref name="path"/>.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        string temporary = path + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Delete(temporary); // a leftover from a crash keeps its old mode; start afresh
        using (var stream = Open(temporary, FileMode.Create))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Opens a file for writing, created with mode 0600 on Unix.</summary>
    public static FileStream Open(string path, FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }
}
