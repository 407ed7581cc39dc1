using System.Globalization;

namespace Clearhouse.Server;

/// <summary>
/// The server's own settings, read from configuration (command line <c>--demo false</c>,
/// environment <c>Demo=false</c>, or appsettings). Parsed strictly: a typo stops the start with
/// a message rather than silently falling back to a default.
/// </summary>
public sealed record ServerOptions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Run the demo market (index feed, market makers, taker). Key <c>Demo</c>; default true.</summary>
    public bool Demo { get; init; } = true;

    /// <summary>Period of the demo market, in milliseconds. Key <c>DemoTickMillis</c>; default 500.</summary>
    public int DemoTickMillis { get; init; } = 500;

    /// <summary>Seed for the demo's randomness, for a repeatable demo. Key <c>DemoSeed</c>; default none.</summary>
    public int? DemoSeed { get; init; }

    public static ServerOptions From(IConfiguration configuration)
    {
        var options = new ServerOptions();
        if (configuration["Demo"] is { } demo)
        {
            options = options with { Demo = bool.TryParse(demo, out bool on) ? on : throw new ServerConfigurationException($"--demo must be true or false, not '{demo}'.") };
        }

        if (configuration["DemoTickMillis"] is { } tick)
        {
            options = options with
            {
                DemoTickMillis = int.TryParse(tick, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms is >= 10 and <= 60_000
                    ? ms
                    : throw new ServerConfigurationException($"--DemoTickMillis must be a whole number of milliseconds from 10 to 60000, not '{tick}'."),
            };
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

        return options;
    }
}

/// <summary>The server's configuration cannot be used; the message says why and what to do.</summary>
public sealed class ServerConfigurationException(string message) : Exception(message);
