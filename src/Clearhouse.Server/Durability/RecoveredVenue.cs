using Clearhouse.Core.Engine;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Durability;

/// <summary>
/// Everything the engine thread takes over after recovery: the engine at the last journaled
/// command, the block sealer (its state tree at the last sealed block, its open block holding the
/// commands after it), the open journal writer and the writer of headers and snapshots, the
/// published headers, and where the sequencer's numbers and clock continue. Built by
/// <see cref="VenueRecovery"/>, or <see cref="InMemory"/> with the journal off.
/// </summary>
public sealed class RecoveredVenue : IDisposable
{
    private int closed;

    internal RecoveredVenue(
        Engine engine,
        BlockSealer sealer,
        PublishedBlocks blocks,
        StartupRecovery report,
        long lastSequence,
        long lastTimestampMicros,
        long commandsSinceSnapshot,
        JournalWriter? journal,
        DurableAcknowledgements acknowledgements,
        BlockAndSnapshotWriter? persistence,
        BlockHeaderStore? blockStore)
    {
        Engine = engine;
        Sealer = sealer;
        Blocks = blocks;
        Report = report;
        LastSequence = lastSequence;
        LastTimestampMicros = lastTimestampMicros;
        CommandsSinceSnapshot = commandsSinceSnapshot;
        Journal = journal;
        Acknowledgements = acknowledgements;
        Persistence = persistence;
        BlockStore = blockStore;
    }

    /// <summary>A fresh venue with no journal: nothing is written, every block is published as it is sealed.</summary>
    public static RecoveredVenue InMemory(Engine engine, long blockIntervalMicros = BlockSealer.DefaultIntervalMicros, int blockMaxCommands = BlockSealer.DefaultMaxCommands) =>
        new(engine, new BlockSealer(blockIntervalMicros, blockMaxCommands), new PublishedBlocks(),
            new StartupRecovery { InMemory = true, RecoveredSequence = engine.LastSequence, EngineSequence = engine.LastSequence },
            engine.LastSequence, engine.LastTimestampMicros, 0, null, new DurableAcknowledgements(), null, null);

    /// <summary>The engine, owned by the engine thread once the sequencer starts.</summary>
    public Engine Engine { get; }

    /// <summary>The block rule and the state tree of the last sealed block; engine thread only.</summary>
    public BlockSealer Sealer { get; }

    /// <summary>The headers served: persisted ones only.</summary>
    public PublishedBlocks Blocks { get; }

    public StartupRecovery Report { get; }

    /// <summary>The last sequence stamped before this process (journaled, accepted or rejected).</summary>
    public long LastSequence { get; }

    /// <summary>The latest timestamp stamped before this process.</summary>
    public long LastTimestampMicros { get; }

    /// <summary>Commands in the journal after the snapshot recovery started from.</summary>
    public long CommandsSinceSnapshot { get; }

    /// <summary>The open journal; null with the journal off.</summary>
    public JournalWriter? Journal { get; }

    /// <summary>The highest sequence on disk (with the journal off: the last stamped one, as nothing waits).</summary>
    public long DurableSequence => Journal?.DurableSequence ?? -1;

    internal DurableAcknowledgements Acknowledgements { get; }

    internal BlockAndSnapshotWriter? Persistence { get; }

    internal BlockHeaderStore? BlockStore { get; }

    /// <summary>
    /// After the engine thread has stopped: makes every appended command durable (releasing their
    /// answers), writes the remaining headers and snapshots, and closes the files. Idempotent.
    /// </summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref closed, 1) != 0)
        {
            return;
        }

        if (Journal is { } journal)
        {
            try
            {
                journal.Flush();
            }
            catch (JournalFailedException)
            {
                // The fatal handler has been told; headers after the failure are not written.
            }
        }

        Persistence?.Dispose();
        Journal?.Dispose();
        BlockStore?.Dispose();
    }

    public void Dispose() => Close();
}
