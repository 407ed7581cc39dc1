using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Clearhouse.Server;

/// <summary>
/// Refuses a command line that names an option nobody reads. ASP.NET's command-line provider takes
/// any <c>--key value</c> into the configuration and drops what it cannot parse, so
/// <c>--data /tmp/venue</c> (for <c>--data-dir</c>) would start a venue in <c>./data</c> without a
/// word, and a trailing <c>--journal</c> with no value would be ignored. The server's own keys are
/// the ones <see cref="ServerOptions.From"/> reads (recorded, not listed twice); the host's are
/// listed below; a key with a colon is a configuration section (<c>--Logging:LogLevel:Default
/// Warning</c>, <c>--Deribit:MinHeartbeatSeconds 5</c>) and passes.
/// </summary>
public static class CommandLineCheck
{
    /// <summary>Keys the ASP.NET host itself reads from the command line.</summary>
    internal static readonly string[] HostKeys =
    [
        "urls", "environment", "contentRoot", "applicationName", "http_ports", "https_ports", "AllowedHosts",
        "hostingStartupAssemblies", "hostingStartupExcludeAssemblies", "preventHostingStartup", "detailedErrors",
        "suppressStatusMessages", "shutdownTimeoutSeconds", "webroot", "captureStartupErrors", "preferHostingUrls",
    ];

    private static readonly Lazy<string[]> Known = new(() =>
    {
        var recording = new KeyRecordingConfiguration();
        ServerOptions.From(recording);
        return [.. recording.Keys.Concat(HostKeys).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
    });

    /// <summary>Every option name the server understands, without the dashes.</summary>
    public static IReadOnlyList<string> KnownKeys => Known.Value;

    /// <summary>Throws <see cref="ServerConfigurationException"/> naming the first argument that is not a known option with a value.</summary>
    public static void Validate(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            int start = arg.StartsWith("--", StringComparison.Ordinal) ? 2 : arg.StartsWith('/') ? 1 : 0;
            if (start == 0 && (arg.StartsWith('-') || !arg.Contains('=', StringComparison.Ordinal)))
            {
                throw new ServerConfigurationException(arg.StartsWith('-')
                    ? $"'{arg}': options start with two dashes, as in --demo false (see docs/native-api.md)."
                    : $"'{arg}' is not an option: give options as --name value (see docs/native-api.md).");
            }

            int equals = arg.IndexOf('=', start);
            string key = equals < 0 ? arg[start..] : arg[start..equals];
            if (equals < 0)
            {
                if (i + 1 >= args.Count)
                {
                    throw new ServerConfigurationException($"--{key} needs a value, as in --{key} VALUE (see docs/native-api.md).");
                }

                i++;
            }

            if (key.Contains(':', StringComparison.Ordinal) || KnownKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            string? guess = Closest(key);
            throw new ServerConfigurationException(
                $"--{key} is not an option{(guess is null ? "" : $"; did you mean --{guess}?")} (all options: docs/native-api.md).");
        }
    }

    /// <summary>The known key most like <paramref name="key"/>: one that contains it or is contained in it, or is a few edits away.</summary>
    private static string? Closest(string key)
    {
        string lower = key.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        return KnownKeys
            .Select(known => (known, distance: Distance(lower, known.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal))))
            .Where(k => k.distance <= Math.Max(2, lower.Length / 3) || k.known.Contains(key, StringComparison.OrdinalIgnoreCase) || key.Contains(k.known, StringComparison.OrdinalIgnoreCase))
            .OrderBy(k => k.distance)
            .Select(k => k.known)
            .FirstOrDefault();
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>An empty configuration that remembers which keys were asked for.</summary>
    private sealed class KeyRecordingConfiguration : IConfiguration
    {
        public List<string> Keys { get; } = [];

        public string? this[string key]
        {
            get
            {
                Keys.Add(key);
                return null;
            }

            set => throw new NotSupportedException();
        }

        public IEnumerable<IConfigurationSection> GetChildren() => [];

        public IChangeToken GetReloadToken() => new CancellationChangeToken(CancellationToken.None);

        public IConfigurationSection GetSection(string key) => throw new NotSupportedException($"ServerOptions.From reads keys, not sections ('{key}').");
    }
}
