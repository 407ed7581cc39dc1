using System.CommandLine;
using Clearhouse.Cli.Replay;
using Clearhouse.Journal.Blocks;

namespace Clearhouse.Cli.Commands;

/// <summary>Options several commands share: the data directory and the block rule.</summary>
internal sealed class CommonOptions
{
    public Option<string> Data { get; } = new("--data", "--journal", "-d")
    {
        Description = "The venue's data directory (holding journal/ and blocks/), or its journal directory.",
        HelpName = "DIR",
        Required = true,
    };

    public Option<long> BlockIntervalMs { get; } = new("--block-interval-ms")
    {
        Description = "Block rule: seal at the next multiple of this many ms of sequencer time (must match the server).",
        HelpName = "MS",
        DefaultValueFactory = _ => BlockSealer.DefaultIntervalMicros / 1000,
    };

    public Option<int> BlockMaxCommands { get; } = new("--block-max-commands")
    {
        Description = "Block rule: seal after this many commands at most (must match the server).",
        HelpName = "N",
        DefaultValueFactory = _ => BlockSealer.DefaultMaxCommands,
    };

    public void AddTo(Command command, bool withRule = true)
    {
        command.Add(Data);
        if (withRule)
        {
            command.Add(BlockIntervalMs);
            command.Add(BlockMaxCommands);
        }
    }

    public VenueData OpenData(ParseResult parse) => VenueData.Open(parse.GetRequiredValue(Data));

    public BlockRule Rule(ParseResult parse)
    {
        var intervalMs = parse.GetValue(BlockIntervalMs);
        var maxCommands = parse.GetValue(BlockMaxCommands);
        if (intervalMs < 1 || intervalMs > long.MaxValue / 1000)
        {
            throw new CliException($"--block-interval-ms must be a positive number of milliseconds, not {intervalMs}.");
        }

        if (maxCommands < 1)
        {
            throw new CliException($"--block-max-commands must be at least 1, not {maxCommands}.");
        }

        return new BlockRule(intervalMs * 1000, maxCommands);
    }
}

/// <summary>How the CLI prints numbers, hashes and times.</summary>
internal static class Show
{
    public static string Time(long unixMicros) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixMicros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) => perSecond >= 1_000_000 ? $"{perSecond / 1_000_000:0.00}M" : $"{perSecond:N0}";
}
