using Clearhouse.Core.Engine;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;

namespace Clearhouse.Benchmarks.Durability;

/// <summary>
/// An LMAX-style journaller: the engine thread publishes each stamped command into a
/// <see cref="CommandRing"/> and goes on to apply it; this thread encodes the commands
/// (<see cref="CommandCodec"/>) and appends them to the <see cref="JournalWriter"/>, whose own
/// flusher writes and fsyncs the batches. Encoding and appending leave the engine thread; a command
/// is still acknowledged only when <see cref="JournalWriter.DurableSequence"/> covers it, so
/// applying it before it is durable changes nothing a client can see (LMAX's journaller and
/// business logic processor read the same input ring in parallel the same way).
/// </summary>
public sealed class Journaller : IDisposable
{
    private readonly CommandRing ring = new();
    private readonly JournalWriter writer;
    private readonly Thread thread;

    public Journaller(JournalWriter writer)
    {
        this.writer = writer;
        thread = new Thread(() => ring.Consume(Append)) { IsBackground = true, Name = "journaller" };
        thread.Start();
    }

    /// <summary>Hands one stamped command to the journaller (waits only when the ring is full).</summary>
    public void Publish(Command command) => ring.Publish(command);

    /// <summary>Waits until every published command is appended, then until the journal has it on disk.</summary>
    public void Flush()
    {
        ring.WaitUntilConsumed();
        writer.Flush();
    }

    private void Append(Command command) => Pipelines.AppendInPlace(writer, command);

    public void Dispose()
    {
        ring.Complete();
        thread.Join();
    }
}
