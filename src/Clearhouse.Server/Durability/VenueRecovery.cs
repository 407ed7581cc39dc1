using System.Diagnostics;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Journal.Snapshots;
using Clearhouse.Server.Liquidations;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Durability;

/// <summary>
/// Startup recovery, in order (docs/durability.md, "Server recovery"):
/// <list type="number">
/// <item>open the journal writer: it takes the directory lock, validates every record, truncates a
/// torn tail and reports it; damage anywhere else throws <see cref="JournalCorruptedException"/>
/// naming the file and offset, and the server refuses to start;</item>
/// <item>open the block header log (same rules) and check that its headers chain: heights 1, 2, ...,
/// each carrying the previous one's hash and starting where it ended;</item>
/// <item>restore the newest snapshot that verifies and ends a stored block whose state root it
/// reproduces, or start from a fresh engine (genesis);</item>
/// <item>replay the journal after it: decode, apply, and seal blocks with the same rule as the live
/// sequencer. Every block the replay seals is compared byte for byte with the stored header of
/// that height; blocks the log lacks (lost between the journal's fsync and the header's) are
/// appended. Any disagreement, gap or undecodable record refuses the start;</item>
/// <item>regenerate the liquidation proofs (they are not journaled): the replay keeps the proofs of
/// the steps it runs (<see cref="LiquidationLog"/>); those before the restored snapshot come from a
/// second, throwaway engine that replays from genesis (or the oldest kept snapshot) up to it first
/// (<see cref="RegenerateLiquidationsBefore"/>);</item>
/// <item>report: snapshot used, records replayed, torn tail, blocks checked, the recovered sequence
/// with its state root and state hash, and the time it took.</item>
/// </list>
/// </summary>
public static class VenueRecovery
{
    public static RecoveredVenue Open(ServerOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Journal)
        {
            logger.LogWarning("Journal off (--journal false): the venue runs in memory, acknowledgements are not durable and nothing survives a restart.");
            return RecoveredVenue.InMemory(new Engine(), options.BlockIntervalMicros, options.BlockMaxCommands);
        }

        long started = Stopwatch.GetTimestamp();
        string data = Path.GetFullPath(options.DataDirectory);
        var acknowledgements = new DurableAcknowledgements(options.AnswerInlineBatch);
        var commits = new JournalCommits();
        JournalWriter? journal = null;
        BlockHeaderStore? blockStore = null;
        try
        {
            // 1. The journal, first: its lock keeps a second server out before anything is touched.
            journal = JournalWriter.Open(DataLayout.JournalDirectory(data), new JournalWriterOptions { OnDurable = acknowledgements.Release, OnCommitted = commits.Publish, IdleSpin = TimeSpan.FromMicroseconds(options.IdleSpinMicros), Sync = options.JournalSync, PreallocateBytes = options.JournalPreallocateBytes });
            var journalReport = journal.Recovery;

            // 2. The stored block headers.
            blockStore = BlockHeaderStore.Open(DataLayout.BlocksDirectory(data));
            var stored = ReadChain(blockStore);
            long storedCount = stored.Count;

            // 3. The newest usable snapshot, or genesis.
            var snapshots = new SnapshotStore(DataLayout.SnapshotsDirectory(data));
            var warnings = new List<string>();
            var start = Restore(snapshots, stored, journalReport.LastSequence, options, warnings);
            foreach (string warning in warnings)
            {
                logger.LogWarning("Snapshot skipped: {Warning}", warning);
            }

            // 4. Replay the journal after it, sealing blocks by the rule; the liquidation steps on the
            // way (and, from an older snapshot, those before it) regenerate their proofs.
            var liquidations = new LiquidationLog();
            long liquidationsFrom = RegenerateLiquidationsBefore(snapshots, journal.Directory, journalReport.FirstSequence, start, liquidations, logger);
            long replayStarted = Stopwatch.GetTimestamp();
            var replay = Replay(journal.Directory, journalReport.LastSequence, start, stored, blockStore, liquidations);
            var replayTime = Stopwatch.GetElapsedTime(replayStarted);

            // 5. Report.
            var engine = start.Engine;
            long recoveredSequence = Math.Max(start.Sequence, journalReport.LastSequence);
            var report = new StartupRecovery
            {
                DataDirectory = data,
                SnapshotSequence = start.SnapshotPath is null ? null : start.Sequence,
                SnapshotWarnings = [.. warnings],
                JournalRecords = journalReport.RecordCount,
                JournalFirstSequence = journalReport.FirstSequence,
                JournalLastSequence = journalReport.LastSequence,
                RecordsReplayed = replay.Records,
                ReplayedRejections = replay.Rejections,
                JournalTornTail = journalReport.TornTail?.ToString(),
                BlockLogTornTail = blockStore.Recovery.TornTail?.ToString(),
                BlocksStored = storedCount,
                BlocksVerified = replay.Verified,
                BlocksRederived = replay.Rederived,
                LastBlockHeight = stored.Count,
                RecoveredSequence = recoveredSequence,
                EngineSequence = engine.LastSequence,
                StateRoot = Convert.ToHexStringLower(StateTree.ComputeFromScratch(engine)),
                StateHash = engine.ComputeStateHashHex(),
                ReplayMillis = replayTime.TotalMilliseconds,
                LiquidationStepsRegenerated = liquidations.Captured,
                LiquidationsFromSequence = liquidationsFrom,
                ElapsedMillis = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            };
            logger.LogInformation("Recovery: {Report}", report);

            var blocks = new PublishedBlocks();
            foreach (var header in stored)
            {
                blocks.Add(header);
            }

            var persistence = new BlockAndSnapshotWriter(journal, blockStore, snapshots, blocks, options, logger);
            return new RecoveredVenue(engine, start.Sealer, blocks, report, recoveredSequence, replay.LastTimestampMicros,
                replay.Records, journal, acknowledgements, persistence, blockStore, liquidations, commits);
        }
        catch
        {
            blockStore?.Dispose();
            journal?.Dispose();
            throw;
        }
    }

    /// <summary>Decodes the stored headers and checks that they form one chain from height 1.</summary>
    private static List<BlockHeader> ReadChain(BlockHeaderStore store)
    {
        var headers = new List<BlockHeader>();
        BlockHeader? previous = null;
        foreach (var record in store.ReadAll())
        {
            BlockHeader header;
            try
            {
                header = BlockHeader.Decode(record.Header);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new RecoveryRefusedException($"Block log '{store.Path}': the record for height {record.Height} is not a block header ({ex.Message}).");
            }

            long expectedHeight = headers.Count + 1;
            if (header.Height != record.Height || header.Height != expectedHeight)
            {
                throw new RecoveryRefusedException($"Block log '{store.Path}': expected block {expectedHeight}, found a record for height {record.Height} holding block {header.Height}.");
            }

            byte[] previousHash = previous?.Hash() ?? BlockHeader.GenesisPreviousHash;
            long firstSequence = (previous?.LastSequence ?? 0) + 1;
            if (!header.PreviousHash.AsSpan().SequenceEqual(previousHash) || header.FirstSequence != firstSequence)
            {
                throw new RecoveryRefusedException(
                    $"Block log '{store.Path}': block {header.Height} does not follow block {header.Height - 1} (previous hash or first sequence {header.FirstSequence} ≠ {firstSequence}).");
            }

            headers.Add(header);
            previous = header;
        }

        return headers;
    }

    private sealed record Start(Engine Engine, BlockSealer Sealer, long Sequence, int NextStoredIndex, string? SnapshotPath);

    /// <summary>
    /// The newest snapshot that verifies, ends a stored block, and reproduces that block's state
    /// root; each one skipped is described in <paramref name="warnings"/>. Without one: genesis.
    /// </summary>
    private static Start Restore(SnapshotStore snapshots, List<BlockHeader> stored, long journalLastSequence, ServerOptions options, List<string> warnings)
    {
        var sequences = snapshots.ListSequences();
        for (int i = sequences.Count - 1; i >= 0; i--)
        {
            string path = Path.Combine(snapshots.Directory, SnapshotStore.FileName(sequences[i]));
            if (!SnapshotStore.TryRead(path, out long sequence, out byte[] state, out string? problem))
            {
                warnings.Add(problem!);
                continue;
            }

            if (sequence > journalLastSequence)
            {
                throw new RecoveryRefusedException(
                    $"Snapshot '{path}' holds the state after sequence {sequence}, but the journal ends at {journalLastSequence}: "
                    + "journal records the snapshot depends on are missing. Restore the journal; a venue never runs ahead of its journal.");
            }

            int index = IndexOfBlockEndingAt(stored, sequence);
            if (index < 0)
            {
                warnings.Add($"Snapshot '{path}' (sequence {sequence}) does not end any block in the block log.");
                continue;
            }

            Engine engine;
            try
            {
                engine = EngineSnapshot.Read(state);
            }
            catch (FormatException ex)
            {
                warnings.Add($"Snapshot '{path}' could not be restored: {ex.Message}");
                continue;
            }

            var sealer = BlockSealer.ResumeAfter(stored[index], options.BlockIntervalMicros, options.BlockMaxCommands);
            byte[] root = sealer.StateTree.Update(engine);
            if (!root.AsSpan().SequenceEqual(stored[index].StateRoot))
            {
                warnings.Add($"Snapshot '{path}' does not reproduce the state root of block {stored[index].Height}.");
                continue;
            }

            return new Start(engine, sealer, sequence, index + 1, path);
        }

        return new Start(new Engine(), new BlockSealer(options.BlockIntervalMicros, options.BlockMaxCommands), 0, 0, null);
    }

    private static int IndexOfBlockEndingAt(List<BlockHeader> stored, long sequence)
    {
        int lo = 0, hi = stored.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long last = stored[mid].LastSequence;
            if (last == sequence)
            {
                return mid;
            }

            if (last < sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    private readonly record struct ReplayResult(long Records, long Rejections, long Verified, long Rederived, long LastTimestampMicros);

    /// <summary>
    /// Applies every journal record after the start and seals blocks as the sequencer did.
    /// Stored headers the replay reaches are compared; missing ones are appended to the log and
    /// to <paramref name="stored"/>.
    /// </summary>
    private static ReplayResult Replay(string journalDirectory, long lastSequence, Start start, List<BlockHeader> stored, BlockHeaderStore blockStore, LiquidationLog liquidations)
    {
        var engine = start.Engine;
        var sealer = start.Sealer;
        long expected = start.Sequence + 1;
        int nextStored = start.NextStoredIndex;
        long records = 0, rejections = 0, verified = 0, rederived = 0;
        long lastTimestamp = engine.LastTimestampMicros;
        using (var cursor = JournalReader.Read(journalDirectory, expected, lastSequence))
        {
            while (cursor.MoveNext())
            {
                long sequence = cursor.Sequence;
                if (sequence != expected)
                {
                    throw new RecoveryRefusedException(
                        $"The journal in '{journalDirectory}' continues at sequence {sequence} where {expected} was expected"
                        + (start.SnapshotPath is null ? " (no usable snapshot: replay starts at genesis)" : $" (after snapshot '{start.SnapshotPath}')")
                        + ". Records are missing — were segments moved to journal/archive? Restore them.");
                }

                Command command;
                try
                {
                    command = CommandCodec.Decode(cursor.Payload);
                }
                catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or OverflowException)
                {
                    throw new RecoveryRefusedException($"Journal record {sequence} in '{journalDirectory}' is not a command this build can decode: {ex.Message}");
                }

                if (command.Sequence != sequence)
                {
                    throw new RecoveryRefusedException($"Journal record {sequence} in '{journalDirectory}' holds a command stamped {command.Sequence}.");
                }

                RejectReason reason;
                try
                {
                    reason = engine.Apply(command);
                }
                catch (Exception ex)
                {
                    throw new RecoveryRefusedException($"The engine threw while replaying journal record {sequence} ({command.GetType().Name}): {ex.Message}", ex);
                }

                if (reason != RejectReason.None)
                {
                    rejections++;
                }

                liquidations.Capture(sequence, command.TimestampMicros, engine.Events, engine.Liquidations);
                lastTimestamp = Math.Max(lastTimestamp, command.TimestampMicros);
                BlockHeader? header;
                try
                {
                    header = sealer.Append(sequence, command.TimestampMicros, cursor.Payload, engine);
                }
                catch (ArgumentOutOfRangeException ex)
                {
                    throw new RecoveryRefusedException($"Journal record {sequence} cannot join a block: {ex.Message}");
                }

                if (header is not null)
                {
                    if (nextStored < stored.Count)
                    {
                        EnsureSame(stored[nextStored], header, blockStore.Path);
                        verified++;
                    }
                    else
                    {
                        blockStore.Append(header.Height, header.Encode());
                        stored.Add(header);
                        rederived++;
                    }

                    nextStored++;
                }

                expected++;
                records++;
            }
        }

        if (nextStored < stored.Count)
        {
            var beyond = stored[nextStored];
            throw new RecoveryRefusedException(
                $"Block log '{blockStore.Path}' holds block {beyond.Height} (sequences {beyond.FirstSequence}..{beyond.LastSequence}), "
                + $"which the journal does not reproduce: it ends at sequence {Math.Max(start.Sequence, lastSequence)}"
                + (sealer.PendingCount > 0 ? $" with an open block from sequence {sealer.PendingFirstSequence}" : "")
                + ". Journal records are missing, or --BlockMillis/--BlockMaxCommands differ from those the blocks were sealed with.");
        }

        return new ReplayResult(records, rejections, verified, rederived, lastTimestamp);
    }

    /// <summary>Most journal records replayed only to regenerate liquidation proofs before the restored snapshot.</summary>
    public const long MaxLiquidationReplayRecords = 500_000;

    /// <summary>
    /// The liquidation proofs of the commands up to the restored snapshot, which the replay does not
    /// reach: a throwaway engine replays the journal up to the snapshot's sequence, from genesis when
    /// the journal still starts at sequence 1, else from the oldest kept snapshot before it (the
    /// earliest start within <see cref="MaxLiquidationReplayRecords"/>), keeping the steps it runs,
    /// and must arrive at the restored engine's state hash — otherwise what it produced is dropped.
    /// Never refuses the start: proofs are a service, the venue's state does not depend on them.
    /// Returns the sequence after which proofs are regenerated (0: from genesis).
    /// </summary>
    private static long RegenerateLiquidationsBefore(SnapshotStore snapshots, string journalDirectory, long journalFirstSequence, Start start, LiquidationLog liquidations, ILogger logger)
    {
        if (start.SnapshotPath is null)
        {
            return 0; // the replay starts at genesis and regenerates them all
        }

        Engine? engine = null;
        long from = 0;
        if (journalFirstSequence == 1 && start.Sequence <= MaxLiquidationReplayRecords)
        {
            engine = new Engine();
        }
        else
        {
            foreach (long candidate in snapshots.ListSequences().Order())
            {
                if (candidate >= start.Sequence)
                {
                    break;
                }

                string path = Path.Combine(snapshots.Directory, SnapshotStore.FileName(candidate));
                if (start.Sequence - candidate <= MaxLiquidationReplayRecords && SnapshotStore.TryRead(path, out long sequence, out byte[] state, out _))
                {
                    try
                    {
                        engine = EngineSnapshot.Read(state);
                        from = sequence;
                        break;
                    }
                    catch (FormatException)
                    {
                    }
                }
            }
        }

        if (engine is null)
        {
            logger.LogWarning("Liquidation proofs before sequence {Sequence} are not regenerated: no snapshot or genesis within {Max} journal records before it.", start.Sequence, MaxLiquidationReplayRecords);
            return start.Sequence;
        }

        long expected = from + 1;
        try
        {
            using (var cursor = JournalReader.Read(journalDirectory, expected, start.Sequence))
            {
                while (cursor.MoveNext() && cursor.Sequence == expected)
                {
                    var command = CommandCodec.Decode(cursor.Payload);
                    engine.Apply(command);
                    liquidations.Capture(command.Sequence, command.TimestampMicros, engine.Events, engine.Liquidations);
                    expected++;
                }
            }

            if (expected == start.Sequence + 1 && engine.ComputeStateHashHex() == start.Engine.ComputeStateHashHex())
            {
                return from;
            }

            logger.LogWarning(
                "Liquidation proofs before sequence {Sequence} are not regenerated: the journal from sequence {From} does not replay to the restored snapshot (stopped at {Expected}).",
                start.Sequence, from + 1, expected - 1);
        }
        catch (Exception ex)
        {
            // Whatever went wrong here (the main replay that follows will say so if it matters),
            // the proofs cannot be vouched for.
            logger.LogWarning("Liquidation proofs before sequence {Sequence} are not regenerated: {Reason}", start.Sequence, ex.Message);
        }

        liquidations.Clear();
        return start.Sequence;
    }

    private static void EnsureSame(BlockHeader stored, BlockHeader replayed, string path)
    {
        if (stored.Encode().AsSpan().SequenceEqual(replayed.Encode()))
        {
            return;
        }

        throw new RecoveryRefusedException(
            $"Block {stored.Height} in '{path}' differs from the block the journal replay seals: "
            + $"stored sequences {stored.FirstSequence}..{stored.LastSequence}, state root {Convert.ToHexStringLower(stored.StateRoot)}, commands root {Convert.ToHexStringLower(stored.CommandsRoot)}; "
            + $"replayed sequences {replayed.FirstSequence}..{replayed.LastSequence}, state root {Convert.ToHexStringLower(replayed.StateRoot)}, commands root {Convert.ToHexStringLower(replayed.CommandsRoot)}. "
            + "The journal and the block log disagree (or --BlockMillis/--BlockMaxCommands differ from those the blocks were sealed with, "
            + "or this version's engine rules differ from those that sealed them: docs/durability.md, \"Upgrading the engine\").");
    }
}

/// <summary>
/// The data directory is inconsistent in a way recovery must not paper over (a gap in the journal,
/// a stored block the replay does not reproduce, a snapshot ahead of the journal): the server
/// refuses to start, and the message says what was found where.
/// </summary>
public sealed class RecoveryRefusedException(string message, Exception? inner = null) : Exception(message, inner);
