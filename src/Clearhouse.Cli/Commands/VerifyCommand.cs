using System.CommandLine;
using Clearhouse.Cli.Replay;
using Clearhouse.Core.Merkle;

namespace Clearhouse.Cli.Commands;

/// <summary>
/// <c>clearhouse verify --data DIR</c>: replays the journal from genesis, re-seals every block and
/// checks it against the stored header (state root, commands root, hash chain, sequences, time).
/// Exit 0 only when every stored block is reproduced; 1 naming the first block that is not.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var common = new CommonOptions();
        var progressEvery = new Option<int>("--progress-every")
        {
            Description = "Print a progress line every this many blocks (0: none).",
            HelpName = "N",
            DefaultValueFactory = _ => 1000,
        };
        var command = new Command("verify", "Replay the journal from genesis and check every stored block header: state root, commands root, previous-hash chain, sequences.");
        common.AddTo(command);
        command.Add(progressEvery);
        command.SetAction(parse => ClearhouseCli.Guard(error, () =>
            Execute(common.OpenData(parse), common.Rule(parse), parse.GetValue(progressEvery), output)));
        return command;
    }

    public static int Execute(VenueData data, BlockRule rule, int progressEvery, TextWriter output)
    {
        output.WriteLine($"Verifying {data.Root}");
        output.WriteLine($"  journal {data.JournalDirectory}, blocks {data.BlocksFile}; block rule {rule}");
        var noneStored = !File.Exists(data.BlocksFile) || new FileInfo(data.BlocksFile).Length == 0;
        var report = ChainReplay.Run(data, new ReplayOptions
        {
            Rule = rule,
            Progress = output,
            ProgressEveryBlocks = noneStored ? 0 : progressEvery,
            OnSealed = noneStored ? (header, _) => output.WriteLine($"  derived {Describe(header)}") : null,
        });

        foreach (var note in new[] { report.JournalTornTail, report.BlocksTornTail })
        {
            if (note is not null)
            {
                output.WriteLine($"note: {note}");
            }
        }

        output.WriteLine(report.Commands == 0
            ? "The journal holds no commands."
            : $"Replayed {report.Commands:N0} commands (sequences {report.FirstSequence:N0}..{report.LastSequence:N0}) in {report.Elapsed.TotalSeconds:0.00} s, {Show.Rate(report.CommandsPerSecond)} commands/s.");

        if (report.Mismatch is not null)
        {
            output.WriteLine($"FAILED at block {report.MismatchHeight}: {report.Mismatch}");
            if (report.BlocksMatched > 0)
            {
                output.WriteLine($"Blocks 1..{report.BlocksMatched:N0} matched before it.");
            }

            return ExitCodes.CheckFailed;
        }

        var sealer = report.Sealer;
        if (report.Stored.Count == 0)
        {
            output.WriteLine($"No stored block headers to check against: {report.BlocksDerivedOnly:N0} blocks derived from the journal.");
        }
        else
        {
            output.WriteLine($"{report.BlocksMatched:N0} blocks (heights 1..{report.BlocksMatched:N0}) re-derived from the journal, each equal to its stored header.");
            if (report.BlocksDerivedOnly > 0)
            {
                output.WriteLine($"note: {report.BlocksDerivedOnly:N0} later blocks derived from the journal have no stored header yet (the server stores them as it seals, or on its next start).");
            }
        }

        if (report.LastDerived is { } last)
        {
            output.WriteLine($"Last block: {Describe(last)}");
            output.WriteLine($"  block hash {ChainReplay.Hex(last.Hash())}");
        }

        if (sealer.PendingCount > 0)
        {
            var root = sealer.StateTree.Update(report.Engine);
            output.WriteLine($"Open block {sealer.NextHeight}: {sealer.PendingCount:N0} commands from sequence {sealer.PendingFirstSequence:N0}, not sealed yet; state root now {ChainReplay.Hex(root)}.");
        }

        output.WriteLine(report.Stored.Count == 0
            ? "OK: the journal replays cleanly (no stored headers to compare)."
            : "OK: the journal reproduces every stored block.");
        return ExitCodes.Ok;
    }

    internal static string Describe(BlockHeader header) =>
        $"block {header.Height}: sequences {header.FirstSequence:N0}..{header.LastSequence:N0} ({header.CommandCount:N0} commands), time {Show.Time(header.TimestampMicros)}, "
        + $"commands root {ChainReplay.Hex(header.CommandsRoot)}, state root {ChainReplay.Hex(header.StateRoot)}";
}
