using System.CommandLine;
using System.Text.Json;
using Clearhouse.Core.Liquidation;

namespace Clearhouse.Cli.Commands;

/// <summary>
/// <c>clearhouse verify-liquidation FILE</c>: checks a liquidation proof with nothing but the
/// file — recomputes the account's equity, maintenance and initial margin from the positions and
/// prices it lists, checks the step was due and sized and priced by the rules. Prints VALID or
/// INVALID with the reason.
/// </summary>
internal static class VerifyLiquidationCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("FILE") { Description = "A liquidation proof JSON (GET /api/liquidations/{sequence}/{index} on the venue)." };
        var command = new Command("verify-liquidation", "Check a liquidation proof offline: recomputes the margin it claims and prints VALID or INVALID.")
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

        LiquidationProof proof;
        try
        {
            proof = LiquidationProofDocument.FromJson(File.ReadAllText(path)).ToProof();
        }
        catch (Exception problem) when (problem is JsonException or FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            output.WriteLine($"INVALID: not a liquidation proof document ({problem.Message.ReplaceLineEndings(" ")})");
            return ExitCodes.CheckFailed;
        }

        output.WriteLine($"Liquidation of account {proof.AccountId}" + (proof.IsolatedInstrumentId == 0 ? " (cross)" : $" (isolated position in instrument {proof.IsolatedInstrumentId})") + $" at sequence {proof.Sequence}");
        output.WriteLine($"  claimed equity {proof.Equity}, maintenance {proof.Maintenance}, initial {proof.Initial}");
        output.WriteLine($"  step           {proof.Step} of instrument {proof.ChosenInstrumentId} at bankruptcy price {proof.BankruptcyPrice}");
        var verdict = LiquidationVerifier.Verify(proof);
        output.WriteLine(verdict.Valid ? $"VALID: {verdict.Reason}" : $"INVALID: {verdict.Reason}");
        return verdict.Valid ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }
}
