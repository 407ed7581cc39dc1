using System.Buffers;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// Answers waiting for the journal: the thread holding the engine adds each applied command's completion and
/// result in sequence order, and <see cref="Release"/> — called by the journal's flusher thread
/// from <c>OnDurable</c> once a batch is fsynced — completes, in order, every one whose sequence is
/// now durable. One queue for all commands, no task or callback per command.
/// <para>
/// A small batch — the usual one unless the venue is busy — the flusher completes itself, in order,
/// as one <see cref="AnswerBatch"/>: the continuations run synchronously on it (the request
/// handlers' code after the command, the answer's serialization), and a WebSocket connection writes
/// all its answers of the batch to the socket in one write at the end. Every hand-off to another
/// thread costs a wake-up (on the 2-core VM some 25 µs each, docs/benchmarks.md), and this path used
/// to take two per batch: a thread-pool work item, then the connection's writer loop. A batch of
/// more than <see cref="InlineBatchLimit"/> answers (default 8) is completed the same way but on a thread-pool
/// work item, so that the next fsync is not held up by it. Handlers must not block after their
/// command completes (none does: everything after <c>SubmitAsync</c> is computing and queuing).
/// An answer released while applying (<see cref="Add"/> of a sequence already durable) is
/// completed on the thread pool too: the thread holding the engine never runs request code.
/// </para>
/// </summary>
internal sealed class DurableAcknowledgements
{
    /// <summary>
    /// The default of <see cref="InlineBatchLimit"/> (<see cref="ServerOptions.AnswerInlineBatch"/>).
    /// </summary>
    public const int DefaultInlineBatchLimit = 8;

    /// <summary>
    /// The largest batch the releasing thread (the flusher) completes itself. A larger one goes to
    /// the thread pool, so that answering it overlaps the next fsync instead of delaying it: under
    /// load the flusher would otherwise become the bottleneck (measured: 100,000 orders/s fell to
    /// 67,000–77,000/s with every batch answered on the flusher). 0 sends every batch there.
    /// </summary>
    public DurableAcknowledgements(int inlineBatchLimit = DefaultInlineBatchLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inlineBatchLimit);
        InlineBatchLimit = inlineBatchLimit;
    }

    public int InlineBatchLimit { get; }

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
    /// Queues one answer (the thread holding the engine; sequences increase). If that sequence is already durable
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

        if (batch is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => Complete(state.batch, state.count), (batch, count), preferLocal: false);
        }
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

        if (batch is null)
        {
            return;
        }

        if (count <= InlineBatchLimit)
        {
            Complete(batch, count);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => Complete(state.batch, state.count), (batch, count), preferLocal: false);
        }
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

    /// <summary>Completes the released answers in order, as one answer batch, on this thread.</summary>
    private static void Complete(Pending[] batch, int count) => AnswerBatch.Run(static state =>
    {
        var (items, n) = state;
        try
        {
            for (int i = 0; i < n; i++)
            {
                items[i].Completion.TrySetResult(items[i].Result);
            }
        }
        finally
        {
            ArrayPool<Pending>.Shared.Return(items, clearArray: true);
        }
    }, (batch, count));

    private readonly record struct Pending(long Sequence, TaskCompletionSource<CommandResult> Completion, CommandResult Result);
}
