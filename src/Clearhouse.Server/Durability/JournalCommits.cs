using Clearhouse.Journal;

namespace Clearhouse.Server.Durability;

/// <summary>
/// Passes the journal's commits (<see cref="JournalWriterOptions.OnCommitted"/>, on its flusher
/// thread) to whoever subscribed later: the journal opens during recovery, before the metrics
/// exist. One subscriber; the flusher calls it after the batch's answers are released.
/// </summary>
public sealed class JournalCommits
{
    private Action<JournalCommit>? observer;

    /// <summary>Sets the one observer (replacing any earlier); it runs on the flusher thread and must be quick.</summary>
    public void Observe(Action<JournalCommit> commitObserver) => Volatile.Write(ref observer, commitObserver);

    internal void Publish(JournalCommit commit) => Volatile.Read(ref observer)?.Invoke(commit);
}
