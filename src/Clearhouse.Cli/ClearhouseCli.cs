using System.CommandLine;
using Clearhouse.Cli.Commands;
using Clearhouse.Journal;

namespace Clearhouse.Cli;

/// <summary>
/// The <c>clearhouse</c> command: <c>verify</c>, <c>prove</c>, <c>verify-proof</c>, <c>replay</c>, <c>verify-liquidation</c>.
/// <see cref="Run"/> is the whole program with its output streams as parameters, so tests run it
/// in-process. Errors end a command with one line on the error stream and a non-zero
/// <see cref="ExitCodes">exit code</see>, never a stack trace. See docs/cli.md.
/// </summary>
public static class ClearhouseCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Clearhouse: verify a venue's journal and blocks, prove an account's balance against a block, check proofs offline.")
        {
            VerifyCommand.Create(output, error),
            ProveCommand.Create(output, error),
            VerifyProofCommand.Create(output, error),
            ReplayCommand.Create(output, error),
            VerifyLiquidationCommand.Create(output, error),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                error.WriteLine($"error: {problem.Message}");
            }

            error.WriteLine("Run 'clearhouse --help' (or 'clearhouse COMMAND --help') for usage.");
            return ExitCodes.CannotRun;
        }

        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a command body, turning every failure into one line on <paramref name="error"/> and an exit code.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CliException problem)
        {
            return Report(error, problem.Message, problem.ExitCode);
        }
        catch (JournalCorruptedException corrupted)
        {
            return Report(error, corrupted.Message, ExitCodes.CannotRun);
        }
        catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
        {
            return Report(error, problem.Message, ExitCodes.CannotRun);
        }
        catch (Exception unexpected)
        {
            return Report(error, $"unexpected {unexpected.GetType().Name}: {unexpected.Message}", ExitCodes.CannotRun);
        }
    }

    private static int Report(TextWriter error, string message, int exitCode)
    {
        error.WriteLine("error: " + message.ReplaceLineEndings(" "));
        return exitCode;
    }
}
