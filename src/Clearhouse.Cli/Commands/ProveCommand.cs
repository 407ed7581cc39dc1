using System.CommandLine;
using Clearhouse.Cli.Replay;
using Clearhouse.Core.Merkle;

namespace Clearhouse.Cli.Commands;

/// <summary>
/// <c>clearhouse prove --account ID [--block H] --data DIR [--out FILE]</c>: replays the journal to
/// the end of block H (default: the last stored block), checking every block on the way, and writes
/// the account's inclusion proof against that block's state root, header included, as JSON.
/// </summary>
internal static class ProveCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var common = new CommonOptions();
        var account = new Option<int>("--account", "-a") { Description = "The account id to prove.", Required = true, HelpName = "ID" };
        var block = new Option<long?>("--block", "-b") { Description = "The block height to prove against (default: the last stored block).", HelpName = "H" };
        var outFile = new Option<string?>("--out", "-o") { Description = "Write the proof JSON to this file (default: standard output).", HelpName = "FILE" };
        var command = new Command("prove", "Write an account's Merkle inclusion proof against a stored block's state root (JSON), after replaying the journal to that block.");
        common.AddTo(command);
        command.Add(account);
        command.Add(block);
        command.Add(outFile);
        command.SetAction(parse => ClearhouseCli.Guard(error, () =>
        {
            var path = parse.GetValue(outFile);
            return Execute(common.OpenData(parse), common.Rule(parse), parse.GetValue(account), parse.GetValue(block), path, path is null ? output : null, error);
        }));
        return command;
    }

    /// <summary>Writes the proof to <paramref name="outPath"/>, or to <paramref name="json"/> when no path is given; messages go to <paramref name="log"/>.</summary>
    public static int Execute(VenueData data, BlockRule rule, int accountId, long? height, string? outPath, TextWriter? json, TextWriter log)
    {
        var stored = data.ReadStoredHeaders(out _);
        if (stored.Count == 0)
        {
            throw new CliException($"No stored block headers in '{data.BlocksFile}': there is no sealed block to prove against.");
        }

        var target = height ?? stored.Count;
        if (target < 1 || target > stored.Count)
        {
            throw new CliException($"Block {target} is not stored (stored blocks: 1..{stored.Count}).");
        }

        if (accountId < 1)
        {
            throw new CliException($"Account ids start at 1; {accountId} is not one.");
        }

        AccountProof? proof = null;
        var report = ChainReplay.Run(data, new ReplayOptions
        {
            Rule = rule,
            StopAfterHeight = target,
            OnSealed = (header, sealer) =>
            {
                if (header.Height == target)
                {
                    proof = sealer.StateTree.Prove(accountId, target);
                }
            },
        });

        if (report.Mismatch is not null)
        {
            throw new CliException($"The journal does not reproduce the stored chain, so no proof is written: {report.Mismatch}", ExitCodes.CheckFailed);
        }

        var header = stored[(int)target - 1];
        if (report.LastDerived is not { } derived || derived.Height != target)
        {
            throw new CliException($"Replay ended at sequence {report.LastSequence:N0} before block {target} was sealed.", ExitCodes.CheckFailed);
        }

        if (proof is null)
        {
            throw new CliException($"Account {accountId} does not exist at block {target} (the venue had {report.Engine.AccountCount} accounts then).");
        }

        var document = AccountProofDocument.From(proof, header);
        if (!document.Verify(out var failure))
        {
            throw new CliException($"The proof just built does not verify ({failure}); this is a bug.", ExitCodes.CheckFailed);
        }

        var text = document.ToJson();
        if (outPath is not null)
        {
            File.WriteAllText(outPath, text + Environment.NewLine);
            log.WriteLine($"Wrote the proof of account {accountId} against block {target} (state root {document.StateRoot}) to {Path.GetFullPath(outPath)}.");
        }
        else
        {
            json!.WriteLine(text);
        }

        return ExitCodes.Ok;
    }
}
