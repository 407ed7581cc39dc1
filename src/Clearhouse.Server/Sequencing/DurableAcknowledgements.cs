namespace Clearhouse.Server.Sequencing;

/// <summary>
/// Answers waiting for the journal: the engine thread adds each applied command's completion and
/// result in sequence order, and <see cref="Release"/> — called by the journal's flusher thread
/// from <c>OnDurable</c> once a batch is fsynced — completes, in order, every one whose sequence is
/// now durable. One queue for all commands, no task or callback per command; the completions run
/// their continuations asynchronously, so neither the flusher nor the engine thread runs request
/// code.
/// </summary>
internal sealed class DurableAcknowledgements
{
    private readonly object gate = new();
    private readonly Queue<Pending> queue = new(1024);
    private long durable;

    /// <summary>Commands applied but not yet on disk.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return queue.Count;
            }
        }
    }

    /// <summary>
    /// Queues one answer (engine thread; sequences increase). If that sequence is already durable
    /// — the flusher may have fsynced it before this call — it is released at once.
    /// </summary>
    public void Add(long sequence, TaskCompletionSource<CommandResult> completion, CommandResult result)
    {
        lock (gate)
        {
            if (sequence <= durable && queue.Count == 0)
            {
                completion.TrySetResult(result);
                return;
            }

            queue.Enqueue(new Pending(sequence, completion, result));
            if (sequence <= durable)
            {
                ReleaseLocked();
            }
        }
    }

    /// <summary>Completes every queued answer with a sequence at or below <paramref name="durableSequence"/>, oldest first.</summary>
    public void Release(long durableSequence)
    {
        lock (gate)
        {
            if (durableSequence > durable)
            {
                durable = durableSequence;
            }

            ReleaseLocked();
        }
    }

    private void ReleaseLocked()
    {
        while (queue.TryPeek(out var next) && next.Sequence <= durable)
        {
            queue.Dequeue();
            next.Completion.TrySetResult(next.Result);
        }
    }

    private readonly record struct Pending(long Sequence, TaskCompletionSource<CommandResult> Completion, CommandResult Result);
}
