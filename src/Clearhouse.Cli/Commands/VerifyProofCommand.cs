using System.CommandLine;
using System.Text.Json;
using Clearhouse.Core.Merkle;

namespace Clearhouse.Cli.Commands;

/// <summary>
/// <c>clearhouse verify-proof FILE</c>: checks an account proof with nothing but the file — the
/// account fields against the leaf bytes, the leaf and path against the state root, the state root
/// against the block header and its hash. Prints what is proven and VALID, or INVALID with the reason.
/// </summary>
internal static class VerifyProofCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("FILE") { Description = "The proof JSON written by 'clearhouse prove' (or the server)." };
        var command = new Command("verify-proof", "Check an account proof offline, with no access to the venue: prints the account, block and state root, then VALID or INVALID.")
        {
            file,
        };
        command.SetAction(parse => ClearhouseCli.Guard(error, () => Execute(parse.GetRequiredValue(file), output)));
        return command;
    }

    public static int Execute(string path, TextWriter output)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"No such file: '{Path.GetFullPath(path)}'.");
        }

        AccountProofDocument document;
        try
        {
            document = AccountProofDocument.FromJson(File.ReadAllText(path));
        }
        catch (Exception problem) when (problem is JsonException or FormatException or NotSupportedException)
        {
            output.WriteLine($"INVALID: not an account proof document ({problem.Message.ReplaceLineEndings(" ")})");
            return ExitCodes.CheckFailed;
        }

        var account = document.Account;
        output.WriteLine($"Account {account.Id}");
        output.WriteLine($"  cash           {account.Cash}");
        output.WriteLine($"  open orders    {account.OpenOrderCount}");
        output.WriteLine($"  margin mode    {account.MarginMode ?? "standard"}");
        if (account.Positions.Count == 0)
        {
            output.WriteLine("  positions      none");
        }

        foreach (var position in account.Positions)
        {
            output.WriteLine($"  position       instrument {position.InstrumentId}: size {position.Size}, open cost {position.OpenCost}, realized PnL {position.RealizedPnl}, "
                + $"open buy {position.OpenBuy}, open sell {position.OpenSell}, open orders {position.OpenOrderCount}"
                + (position.Isolated == true ? $", isolated with {position.IsolatedCash} USDC" : string.Empty));
        }

        output.WriteLine($"Block {document.BlockHeight}" + (document.BlockHash is null ? " (no header in the proof)" : $", hash {document.BlockHash}"));
        output.WriteLine($"State root {document.StateRoot}");
        if (document.Verify(out var failure))
        {
            output.WriteLine("VALID");
            return ExitCodes.Ok;
        }

        output.WriteLine($"INVALID: {failure}");
        return ExitCodes.CheckFailed;
    }
}
