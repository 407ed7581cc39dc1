using System.Collections.Concurrent;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// The engine thread's inbox: many writers (request threads, the clock), one reader at a time (the
/// thread holding the engine: the engine thread, or a caller applying inline), bounded, with
/// no lock on either side. It replaces a bounded <c>Channel</c>, whose every write and every read
/// takes one lock: under load the engine thread, reading, and the socket thread, writing, met in
/// that lock for every order (14% of a socket thread's samples were in the channel's write, mostly
/// waiting for that lock, at 20,000 orders/s on the 2-core VM).
/// <para>
/// A writer reserves a place by raising the count (compare-and-swap, refused when the queue is
/// full or closed), then enqueues; the reader lowers the count after each dequeue. Closing sets a
/// bit in the same word, so that no write can succeed after it: what was written before is still
/// read. A writer that finds the queue full waits for the reader to make room
/// (<see cref="WaitForSpaceAsync"/>). Waking a reader that sleeps is the caller's business
/// (<see cref="Sequencer"/> parks its thread itself).
/// </para>
/// </summary>
/// <typeparam name="T">The work item.</typeparam>
internal sealed class WorkQueue<T>(int capacity)
    where T : class
{
    private const int ClosedBit = 1 << 30;

    private readonly ConcurrentQueue<T> items = new();
    private int state; // count of reserved places, plus ClosedBit once closed
    private int writersWaiting;
    private TaskCompletionSource space = NewSignal();

    public enum WriteResult
    {
        Written,
        Full,
        Closed,
    }

    /// <summary>Items written and not yet read (including writes under way).</summary>
    public int Count => Volatile.Read(ref state) & ~ClosedBit;

    /// <summary>Whether an item is there to read now; the reader's cheap look while it spins.</summary>
    public bool HasItems => !items.IsEmpty;

    /// <summary>Closed, and everything written before has been read: the reader may stop.</summary>
    public bool IsDrained => Volatile.Read(ref state) == ClosedBit;

    public bool IsClosed => (Volatile.Read(ref state) & ClosedBit) != 0;

    public WriteResult TryWrite(T item)
    {
        while (true)
        {
            int current = Volatile.Read(ref state);
            if ((current & ClosedBit) != 0)
            {
                return WriteResult.Closed;
            }

            if (current >= capacity)
            {
                return WriteResult.Full;
            }

            if (Interlocked.CompareExchange(ref state, current + 1, current) == current)
            {
                items.Enqueue(item);
                return WriteResult.Written;
            }
        }
    }

    /// <summary>Reader only.</summary>
    public bool TryRead(out T item)
    {
        if (!items.TryDequeue(out item!))
        {
            return false;
        }

        Interlocked.Decrement(ref state);
        if (Volatile.Read(ref writersWaiting) > 0)
        {
            Interlocked.Exchange(ref space, NewSignal()).TrySetResult();
        }

        return true;
    }

    /// <summary>
    /// Writes <paramref name="item"/>, waiting while the queue is full; false when the queue is (or
    /// becomes) closed first.
    /// </summary>
    public async ValueTask<bool> WriteAsync(T item, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = TryWrite(item);
            if (result != WriteResult.Full)
            {
                return result == WriteResult.Written;
            }

            await WaitForSpaceAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>No further writes succeed; items already written stay readable.</summary>
    public void Close()
    {
        int current;
        do
        {
            current = Volatile.Read(ref state);
        }
        while ((current & ClosedBit) == 0 && Interlocked.CompareExchange(ref state, current | ClosedBit, current) != current);

        Interlocked.Exchange(ref space, NewSignal()).TrySetResult(); // waiting writers see the close
    }

    private async Task WaitForSpaceAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref writersWaiting);
        try
        {
            // Take the signal, then look again: room made after this look completes that signal.
            var signal = Volatile.Read(ref space).Task;
            if (Count < capacity || IsClosed)
            {
                return;
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref writersWaiting);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
