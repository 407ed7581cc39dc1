using System.Collections.Concurrent;
using System.Diagnostics;
using Clearhouse.Core.Merkle;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Journal.Snapshots;

namespace Clearhouse.Server.Durability;

/// <summary>
/// The background thread that makes what the engine thread seals durable, in the order it was
/// sealed, so that the engine thread never waits for a disk:
/// <list type="number">
/// <item>a block header: wait until the journal has fsynced the block's last command, append the
/// header to <c>blocks/blocks.log</c> (fsync), then publish it to <see cref="PublishedBlocks"/>.
/// A header is therefore never on disk, nor served, before its commands are;</item>
/// <item>a snapshot (serialized by the engine thread right after sealing a block): save it
/// atomically, prune to the newest <c>SnapshotsKept</c>, optionally archive the journal segments
/// older than the oldest kept one. It is queued behind its block's header, so every snapshot on
/// disk ends a block whose header is on disk — recovery resumes the block chain from it.</item>
/// </list>
/// A failed header write stops the process (the block log's fatal handler: no retry). A failed
/// snapshot is logged and skipped: the journal is the source of truth.
/// </summary>
internal sealed class BlockAndSnapshotWriter : IDisposable
{
    private readonly BlockingCollection<Job> jobs = [];
    private readonly JournalWriter journal;
    private readonly BlockHeaderStore blockStore;
    private readonly SnapshotStore snapshots;
    private readonly PublishedBlocks published;
    private readonly ServerOptions options;
    private readonly ILogger logger;
    private readonly Thread thread;
    private SnapshotInfo? lastSnapshot;
    private int snapshotPending;

    public BlockAndSnapshotWriter(JournalWriter journal, BlockHeaderStore blockStore, SnapshotStore snapshots, PublishedBlocks published, ServerOptions options, ILogger logger)
    {
        this.journal = journal;
        this.blockStore = blockStore;
        this.snapshots = snapshots;
        this.published = published;
        this.options = options;
        this.logger = logger;
        thread = new Thread(Run) { Name = "Clearhouse block and snapshot writer", IsBackground = true };
        thread.Start();
    }

    /// <summary>The last snapshot saved by this process, or null.</summary>
    public SnapshotInfo? LastSnapshot => Volatile.Read(ref lastSnapshot);

    /// <summary>A snapshot is queued or being saved.</summary>
    public bool SnapshotPending => Volatile.Read(ref snapshotPending) != 0;

    /// <summary>Queues a sealed header (engine thread).</summary>
    public void EnqueueBlock(BlockHeader header) => jobs.Add(new Job(header, null, 0, default));

    /// <summary>Queues a snapshot of the state after <paramref name="sequence"/>, the last command of the block just queued (engine thread).</summary>
    public void EnqueueSnapshot(long sequence, ReadOnlyMemory<byte> state, TimeSpan serializeTime)
    {
        Volatile.Write(ref snapshotPending, 1);
        jobs.Add(new Job(null, state, sequence, serializeTime));
    }

    /// <summary>Writes everything queued whose commands are durable, then stops the thread.</summary>
    public void Complete()
    {
        jobs.CompleteAdding();
        thread.Join();
    }

    public void Dispose()
    {
        if (!jobs.IsAddingCompleted)
        {
            Complete();
        }

        jobs.Dispose();
    }

    private void Run()
    {
        foreach (var job in jobs.GetConsumingEnumerable())
        {
            if (job.Header is { } header)
            {
                try
                {
                    journal.WaitForDurableAsync(header.LastSequence).GetAwaiter().GetResult();
                }
                catch (Exception ex) when (ex is ObjectDisposedException or JournalFailedException)
                {
                    // Shutting down (or the journal failed) before the block's commands reached the
                    // disk: the header must not be written. Recovery re-derives it if they did.
                    logger.LogWarning("Block {Height} was not persisted: its commands are not durable ({Reason}).", header.Height, ex.Message);
                    DrainWithoutWriting();
                    return;
                }

                blockStore.Append(header.Height, header.Encode());
                published.Add(header);
            }
            else
            {
                SaveSnapshot(job.Sequence, job.State, job.SerializeTime);
                Volatile.Write(ref snapshotPending, 0);
            }
        }
    }

    private void SaveSnapshot(long sequence, ReadOnlyMemory<byte> state, TimeSpan serializeTime)
    {
        try
        {
            long started = Stopwatch.GetTimestamp();
            string path = snapshots.Save(sequence, state.Span);
            var saveTime = Stopwatch.GetElapsedTime(started);
            int pruned = snapshots.Prune(options.SnapshotsKept);
            int archived = 0;
            if (options.ArchiveJournal && snapshots.ListSequences() is { Count: > 0 } kept)
            {
                archived = JournalArchive.RetireSegmentsBefore(journal.Directory, kept[0]).Count;
            }

            var info = new SnapshotInfo(sequence, path, state.Length, serializeTime.TotalMilliseconds, saveTime.TotalMilliseconds);
            Volatile.Write(ref lastSnapshot, info);
            logger.LogInformation(
                "Snapshot at sequence {Sequence}: {Bytes} bytes, serialized in {SerializeMs:F1} ms on the engine thread, saved in {SaveMs:F1} ms; {Pruned} old file(s) pruned, {Archived} journal segment(s) archived.",
                sequence, state.Length, serializeTime.TotalMilliseconds, saveTime.TotalMilliseconds, pruned, archived);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogError(ex, "Snapshot at sequence {Sequence} could not be saved; the journal still holds everything.", sequence);
        }
    }

    private void DrainWithoutWriting()
    {
        foreach (var _ in jobs.GetConsumingEnumerable())
        {
        }
    }

    private readonly record struct Job(BlockHeader? Header, ReadOnlyMemory<byte> State, long Sequence, TimeSpan SerializeTime);
}

/// <summary>A snapshot this process saved: after which sequence, where, how big, and what it cost.</summary>
public sealed record SnapshotInfo(long Sequence, string Path, long Bytes, double SerializeMillis, double SaveMillis);
