namespace Clearhouse.Server.Sequencing;

/// <summary>Output that buffers what it is given during an <see cref="AnswerBatch"/> and writes it out at the end.</summary>
public interface IBatchedOutput
{
    /// <summary>
    /// Writes out what was buffered during the batch (called once per batch, on the batch's thread,
    /// which may be the journal's flusher). Must not block; a failure is the output's own to handle
    /// (a connection closes itself), and one that throws anyway is skipped so the others still flush.
    /// </summary>
    void Flush();
}

/// <summary>
/// The answers one journal fsync makes durable are completed together, on one thread, inside an
/// answer batch (<see cref="DurableAcknowledgements"/>). Code that runs in their continuations and
/// writes to a client (a WebSocket connection's answers) can <see cref="TryDefer"/> its write to the
/// end of the batch, so that a client with twenty answers in the batch gets one socket write, not
/// twenty. Outside a batch <see cref="TryDefer"/> returns false and the caller writes at once.
/// </summary>
public static class AnswerBatch
{
    [ThreadStatic]
    private static List<IBatchedOutput>? deferred;

    [ThreadStatic]
    private static HashSet<IBatchedOutput>? deferredSet;

    [ThreadStatic]
    private static bool open;

    [ThreadStatic]
    private static bool running;

    /// <summary>
    /// This thread is completing answers (<see cref="Run"/>, its flushes included): the journal's
    /// flusher or a thread-pool worker answering a large batch. Code that runs here must not take
    /// on the engine's work (<see cref="Sequencer"/> does not apply inline on it): on the flusher
    /// it would hold up the next fsync, and a journal append that waits for room would wait for
    /// this very thread.
    /// </summary>
    internal static bool IsRunning => running;

    /// <summary>Inside a batch: remembers <paramref name="output"/> and returns true (its Flush runs at the end). Outside: false.</summary>
    public static bool TryDefer(IBatchedOutput output)
    {
        if (!open)
        {
            return false;
        }

        var set = deferredSet ??= new HashSet<IBatchedOutput>(ReferenceEqualityComparer.Instance);
        if (set.Add(output))
        {
            (deferred ??= new List<IBatchedOutput>(4)).Add(output);
        }

        return true;
    }

    /// <summary>Runs <paramref name="body"/> as a batch on this thread, then flushes every output that deferred during it.</summary>
    internal static void Run<TState>(Action<TState> body, TState state)
    {
        bool wasRunning = running; // a flush below may complete answers in a nested batch
        running = true;
        open = true;
        try
        {
            body(state);
        }
        finally
        {
            open = false;
            if (deferred is { Count: > 0 } list)
            {
                // Flushes may complete further answers synchronously only outside the batch (open is
                // false now), so the list does not change under this loop.
                try
                {
                    foreach (var output in list)
                    {
                        try
                        {
                            output.Flush();
                        }
                        catch (Exception)
                        {
                            // Skipped (see IBatchedOutput.Flush): an exception here would reach the
                            // journal's flusher, which stops the venue on any failure.
                        }
                    }
                }
                finally
                {
                    list.Clear();
                    deferredSet!.Clear();
                }
            }

            running = wasRunning;
        }
    }
}
