namespace Clearhouse.Journal;

/// <summary>
/// The policy for a failed write or fsync of durable data: stop the process, never retry.
/// After a failed fsync the kernel may already have dropped the dirty pages and cleared the error,
/// so a retry can "succeed" over lost data (PostgreSQL's 2018 "fsyncgate"). The only safe answer
/// is to crash and let recovery rebuild from what is really on disk. Writers call a configurable
/// handler so tests can observe the failure; the default is <see cref="StopProcess"/>.
/// </summary>
public static class DurabilityFailure
{
    /// <summary>Writes the error to standard error and ends the process with <see cref="Environment.FailFast(string, Exception)"/>.</summary>
    public static void StopProcess(Exception error)
    {
        var message = $"FATAL: durable write failed; stopping without retry (fsync failure policy). {error.Message}";
        try
        {
            Console.Error.WriteLine(message);
            Console.Error.Flush();
        }
        finally
        {
            Environment.FailFast(message, error);
        }
    }
}

/// <summary>
/// Thrown to callers of a journal or block-log writer after a durable write failed (only seen when
/// the fatal handler returns, as in tests): the writer accepts nothing more.
/// </summary>
public sealed class JournalFailedException : IOException
{
    public JournalFailedException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
