using System.CommandLine;
using Clearhouse.Cli.Replay;

namespace Clearhouse.Cli.Commands;

/// <summary>
/// <c>clearhouse replay --data DIR</c>: replays the whole journal into a fresh engine and prints the
/// final state: last sequence, state hash, state root, counts. Does not compare blocks (use verify).
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var common = new CommonOptions();
        var command = new Command("replay", "Replay the whole journal into a fresh engine and print the final state hash and state root (no block checks; see verify).");
        common.AddTo(command);
        command.SetAction(parse => ClearhouseCli.Guard(error, () => Execute(common.OpenData(parse), common.Rule(parse), output)));
        return command;
    }

    public static int Execute(VenueData data, BlockRule rule, TextWriter output)
    {
        var report = ChainReplay.Run(data, new ReplayOptions { Rule = rule, CompareWithStored = false });
        if (report.JournalTornTail is not null)
        {
            output.WriteLine($"note: {report.JournalTornTail}");
        }

        var engine = report.Engine;
        var root = report.Sealer.StateTree.Update(engine);
        output.WriteLine($"Replayed {report.Commands:N0} commands in {report.Elapsed.TotalSeconds:0.00} s ({Show.Rate(report.CommandsPerSecond)} commands/s).");
        output.WriteLine($"  last sequence   {report.LastSequence:N0}" + (report.Commands > 0 ? $" at {Show.Time(engine.LastTimestampMicros)}" : ""));
        output.WriteLine($"  blocks          {report.Sealer.NextHeight - 1:N0} sealed by the rule ({rule}), {report.Sealer.PendingCount:N0} commands in the open block");
        output.WriteLine($"  accounts        {engine.AccountCount:N0}");
        output.WriteLine($"  instruments     {engine.Instruments.Count:N0}");
        output.WriteLine($"  state hash      {engine.ComputeStateHashHex()}");
        output.WriteLine($"  state root      {ChainReplay.Hex(root)}");
        return ExitCodes.Ok;
    }
}
