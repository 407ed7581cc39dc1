namespace Clearhouse.Cli;

/// <summary>What the <c>clearhouse</c> process returns; scripts can rely on these numbers.</summary>
public static class ExitCodes
{
    /// <summary>Everything checked held (verify: every stored block matches; verify-proof: VALID).</summary>
    public const int Ok = 0;

    /// <summary>A check failed: a block does not match the journal, or a proof is INVALID.</summary>
    public const int CheckFailed = 1;

    /// <summary>Nothing could be checked: bad arguments, a missing or corrupt file, an unknown account or block.</summary>
    public const int CannotRun = 2;
}

/// <summary>
/// A problem to report in one line and end the command with <see cref="ExitCode"/>; never shown
/// with a stack trace.
/// </summary>
public sealed class CliException(string message, int exitCode = ExitCodes.CannotRun) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
