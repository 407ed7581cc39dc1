using System.Runtime.InteropServices;
using Clearhouse.Core.Engine;

namespace Clearhouse.Benchmarks.Durability;

/// <summary>
/// A bounded single-producer single-consumer ring of commands (the Disruptor's shape, minus its
/// generality): the producer writes a slot and publishes its cursor; the consumer takes every
/// published slot in one batch and then publishes its own cursor. Both cursors sit on their own
/// cache lines. A waiting side spins briefly, then yields, then sleeps 1 ms: on a busy two-core
/// machine an idle side must give its core back. Completion is signalled with <see cref="Complete"/>.
/// </summary>
public sealed class CommandRing
{
    private readonly Command?[] slots;
    private readonly int mask;
    private Cursor published;
    private Cursor consumed;
    private long cachedConsumed;
    private volatile bool completed;

    public CommandRing(int capacity = 1 << 16)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The ring's capacity must be a power of two.");
        }

        slots = new Command?[capacity];
        mask = capacity - 1;
    }

    /// <summary>Commands published so far.</summary>
    public long Published => Volatile.Read(ref published.Value);

    /// <summary>Commands the consumer has finished with.</summary>
    public long Consumed => Volatile.Read(ref consumed.Value);

    /// <summary>Producer: adds one command, waiting only while the ring is full.</summary>
    public void Publish(Command command)
    {
        long next = published.Value;
        if (next - cachedConsumed >= slots.Length)
        {
            var spin = default(SpinWait);
            while (next - (cachedConsumed = Volatile.Read(ref consumed.Value)) >= slots.Length)
            {
                spin.SpinOnce();
            }
        }

        slots[next & mask] = command;
        Volatile.Write(ref published.Value, next + 1);
    }

    /// <summary>Producer: no more commands will come.</summary>
    public void Complete() => completed = true;

    /// <summary>
    /// Consumer: passes every published command to <paramref name="handle"/>, batch by batch, until
    /// <see cref="Complete"/> has been called and the ring is empty.
    /// </summary>
    public void Consume(Action<Command> handle)
    {
        var spin = default(SpinWait);
        long head = consumed.Value;
        while (true)
        {
            long tail = Volatile.Read(ref published.Value);
            if (head == tail)
            {
                if (completed && head == Volatile.Read(ref published.Value))
                {
                    return;
                }

                spin.SpinOnce();
                continue;
            }

            spin = default;
            for (; head < tail; head++)
            {
                ref var slot = ref slots[head & mask];
                handle(slot!);
                slot = null;
            }

            Volatile.Write(ref consumed.Value, head);
        }
    }

    /// <summary>Producer: waits until the consumer has handled everything published.</summary>
    public void WaitUntilConsumed()
    {
        long target = Published;
        var spin = default(SpinWait);
        while (Consumed < target)
        {
            spin.SpinOnce();
        }
    }

    /// <summary>A counter alone on its cache lines, so producer and consumer do not false-share.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Cursor
    {
        [FieldOffset(64)]
        public long Value;
    }
}
