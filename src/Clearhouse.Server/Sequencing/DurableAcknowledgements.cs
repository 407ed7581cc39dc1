using System.Buffers;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// Answers waiting for the journal: the engine thread adds each applied command's completion and
/// result in sequence order, and <see cref="Release"/> — called by the journal's flusher thread
/// from <c>OnDurable</c> once a batch is fsynced — completes, in order, every one whose sequence is
/// now durable. One queue for all commands, no task or callback per command. The answers released
/// together are completed by one thread-pool work item, in order (their completions run
/// continuations synchronously, on that work item), so neither the flusher nor the engine thread
/// runs request code, and a batch of N answers costs one thread-pool hop instead of N.
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
        Pending[]? batch = null;
        int count = 0;
        lock (gate)
        {
            queue.Enqueue(new Pending(sequence, completion, result));
            if (sequence <= durable)
            {
                count = TakeReleasedLocked(out batch);
            }
        }

        Complete(batch, count);
    }

    /// <summary>Completes every queued answer with a sequence at or below <paramref name="durableSequence"/>, oldest first.</summary>
    public void Release(long durableSequence)
    {
        Pending[]? batch;
        int count;
        lock (gate)
        {
            if (durableSequence > durable)
            {
                durable = durableSequence;
            }

            count = TakeReleasedLocked(out batch);
        }

        Complete(batch, count);
    }

    private int TakeReleasedLocked(out Pending[]? batch)
    {
        batch = null;
        int count = 0;
        while (queue.TryPeek(out var next) && next.Sequence <= durable)
        {
            queue.Dequeue();
            batch ??= ArrayPool<Pending>.Shared.Rent(Math.Min(queue.Count + 1, 1 << 16));
            if (count == batch.Length)
            {
                var larger = ArrayPool<Pending>.Shared.Rent(batch.Length * 2);
                batch.AsSpan(0, count).CopyTo(larger);
                ArrayPool<Pending>.Shared.Return(batch, clearArray: true);
                batch = larger;
            }

            batch[count++] = next;
        }

        return count;
    }

    /// <summary>Hands the released answers to the thread pool as one work item that completes them in order.</summary>
    private static void Complete(Pending[]? batch, int count)
    {
        if (batch is null)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (items, n) = state;
            for (int i = 0; i < n; i++)
            {
                items[i].Completion.TrySetResult(items[i].Result);
            }

            ArrayPool<Pending>.Shared.Return(items, clearArray: true);
        }, (batch, count), preferLocal: false);
    }

    private readonly record struct Pending(long Sequence, TaskCompletionSource<CommandResult> Completion, CommandResult Result);
}
