using System.Buffers;
using System.Diagnostics;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Serialization;
using Clearhouse.Server.Durability;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// The one writer. Request threads hand commands (and state queries) to a lock-free <see cref="WorkQueue{T}"/>;
/// a single dedicated engine thread takes them in order and, for each command (with
/// <see cref="SequencerOptions.ApplyInline"/>, a request thread that finds the engine thread asleep
/// claims the engine and does the same itself, in the same order; only one thread holds the engine at
/// a time, so "the engine thread" below means whichever holds it):
/// <list type="number">
/// <item>stamps the next sequence number and a timestamp from the clock;</item>
/// <item>encodes it canonically (<see cref="CommandCodec.TryEncode"/>) straight into the journal's
/// buffer — the journal's flusher thread checksums, writes and fsyncs whole batches (group commit);</item>
/// <item>applies it to the engine and copies the events, and keeps the proofs of any liquidation
/// steps it ran (<see cref="RecoveredVenue.Liquidations"/>; recovery fills the same log while it
/// replays, so they are there again after a restart);</item>
/// <item>adds it to the open block and, when the block rule fires, seals the block (state root,
/// commands root), queues the header for the disk and, when one is due, serializes a snapshot (a
/// caller applying inline stops there and hands the engine to the engine thread, which seals before
/// anything else: the engine's longest stalls stay off request threads);</item>
/// <item>queues the answer in <see cref="DurableAcknowledgements"/>: the request completes only once
/// the journal reports the command's sequence durable. Rejected commands take the same path (they
/// are journaled too, and replay rejects them again).</item>
/// </list>
/// The engine thread never waits for the disk. Reads of the engine's state go through the same
/// queue as <see cref="QueryAsync{T}"/> and run on the engine thread between two commands; they
/// may see commands that are applied but not yet durable (see docs/durability.md). A timer puts a
/// clock <see cref="Tick"/> into the same queue every <see cref="SequencerOptions.TickInterval"/>.
/// <para>
/// Sequence numbers come from the sequencer's own counter, which advances for every command,
/// accepted or rejected, and continues after the last journaled one on restart. Timestamps are
/// Unix microseconds from <see cref="TimeProvider"/>, clamped so that they never go backwards even
/// if the wall clock does.
/// </para>
/// </summary>
public sealed class Sequencer : IHostedService, IDisposable
{
    /// <summary>How many commands may wait; writers wait (asynchronously) beyond that.</summary>
    public const int QueueCapacity = 65_536;

    private readonly RecoveredVenue venue;
    private readonly Engine engine;
    private readonly SequencerOptions options;
    private readonly TimeProvider clock;
    private readonly ILogger<Sequencer> logger;
    private readonly WorkQueue<WorkItem> queue = new(QueueCapacity);
    private readonly Thread thread;
    private readonly ArrayBufferWriter<byte> encoded = new(256);
    private readonly byte[] scratch = new byte[1024];
    private ITimer? tickTimer;
    private ICommandObserver[] observers = [];
    private int tickQueued;
    private long nextSequence;
    private long lastTimestampMicros;
    private long lastStampedSequence;
    private long lastAppliedSequence;
    private long appliedCount;
    private long rejectedCount;
    private long commandsSinceSnapshot;
    private long lastSnapshotTimestamp;
    private long blocksSealed;
    private long sealTicks;
    private double lastSnapshotSerializeMillis;
    private long lastSnapshotBytes;
    private int started;

    // Who applies queued work (see EngineState). The state is the truth; wake is only the parked
    // engine thread's doorbell, rung by whoever moves the state from Parked to Running.
    private readonly ManualResetEventSlim wake = new(false, spinCount: 1);
    private int engineState;

    // Set by a caller applying inline whose command closed a block: sealing (and a snapshot, the
    // engine's one long stall) is left to the engine thread, which does it before anything else.
    private bool applyingInline;
    private bool sealDue;

    /// <summary>Values of <see cref="engineState"/>. Exactly one thread applies work at a time: the engine thread while Running, the claiming caller while Claimed.</summary>
    private static class EngineState
    {
        /// <summary>The engine thread is awake and applies what is queued; writers need do nothing.</summary>
        public const int Running = 0;

        /// <summary>The engine thread sleeps (or is about to): a writer either claims the engine (Claimed) or wakes the thread (Running).</summary>
        public const int Parked = 1;

        /// <summary>The engine thread sleeps and a caller applies queued work on its own thread; writers need do nothing, the claimant looks again when it lets go.</summary>
        public const int Claimed = 2;
    }

    /// <summary>An in-memory sequencer over <paramref name="engine"/>: no journal, no ticks (tests).</summary>
    public Sequencer(Engine engine, TimeProvider clock, ILogger<Sequencer> logger)
        : this(RecoveredVenue.InMemory(engine), new SequencerOptions(), clock, logger)
    {
    }

    public Sequencer(RecoveredVenue venue, SequencerOptions options, TimeProvider clock, ILogger<Sequencer> logger)
    {
        this.venue = venue;
        this.options = options;
        this.clock = clock;
        this.logger = logger;
        engine = venue.Engine;
        nextSequence = Math.Max(venue.LastSequence, engine.LastSequence) + 1;
        lastTimestampMicros = Math.Max(venue.LastTimestampMicros, engine.LastTimestampMicros);
        lastAppliedSequence = engine.LastSequence;
        lastStampedSequence = nextSequence - 1;
        commandsSinceSnapshot = venue.CommandsSinceSnapshot;
        lastSnapshotTimestamp = Stopwatch.GetTimestamp();
        Instruments.ObserveAll(engine);
        thread = new Thread(Run) { Name = "Clearhouse engine", IsBackground = true };
    }

    /// <summary>Instrument names and ids, readable from any thread.</summary>
    public InstrumentDirectory Instruments { get; } = new();

    /// <summary>What the sequencer took over at start: report, published blocks, journal.</summary>
    public RecoveredVenue Venue => venue;

    /// <summary>The engine's last applied (accepted) sequence number.</summary>
    public long LastAppliedSequence => Volatile.Read(ref lastAppliedSequence);

    /// <summary>The last sequence number stamped on a command, accepted or rejected.</summary>
    public long LastStampedSequence => Volatile.Read(ref lastStampedSequence);

    /// <summary>The highest sequence known to be on disk; with the journal off, the last stamped one.</summary>
    public long LastDurableSequence => venue.Journal is { } journal ? journal.DurableSequence : LastStampedSequence;

    public long AppliedCount => Volatile.Read(ref appliedCount);

    public long RejectedCount => Volatile.Read(ref rejectedCount);

    /// <summary>Blocks sealed by this process (not counting those recovery re-sealed).</summary>
    public long BlocksSealed => Volatile.Read(ref blocksSealed);

    /// <summary>Average time the engine thread spent sealing one block (state tree update, commands root), in microseconds.</summary>
    public double AverageSealMicros => BlocksSealed == 0 ? 0 : TotalSealTime.TotalMicroseconds / BlocksSealed;

    /// <summary>Time the engine thread has spent sealing blocks (<see cref="BlocksSealed"/> of them): no command is applied meanwhile.</summary>
    public TimeSpan TotalSealTime => Stopwatch.GetElapsedTime(0, Volatile.Read(ref sealTicks));

    /// <summary>How long the engine thread took to serialize the last snapshot, in milliseconds.</summary>
    public double LastSnapshotSerializeMillis => Volatile.Read(ref lastSnapshotSerializeMillis);

    /// <summary>Commands and queries waiting for the engine thread.</summary>
    public int QueueLength => queue.Count;

    /// <summary>Answers applied and waiting for the journal's fsync.</summary>
    public int AwaitingDurability => venue.Acknowledgements.Count;

    /// <summary>
    /// Adds an observer of every applied command (<see cref="ICommandObserver"/>). Call before
    /// <see cref="Start"/>; observers added later see commands from some point on.
    /// </summary>
    public void AddObserver(ICommandObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (queue)
        {
            observers = [.. observers, observer];
        }
    }

    /// <summary>Starts the engine thread and the clock ticks; idempotent.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            thread.Start();
            if (options.TickInterval is { } period && period > TimeSpan.Zero)
            {
                tickTimer = clock.CreateTimer(_ => QueueTick(), null, period, period);
            }
        }
    }

    /// <summary>
    /// Queues a command for the engine thread. Whatever <see cref="Command.Sequence"/> and
    /// <see cref="Command.TimestampMicros"/> it carries are replaced. The task completes once the
    /// command has been applied or rejected and is durable in the journal; a rejection is a result,
    /// not an exception. The cancellation token only stops the wait for room in the queue: once
    /// queued, a command runs.
    /// </summary>
    public Task<CommandResult> SubmitAsync(Command command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var item = new CommandItem(command, venue.Journal is not null);
        var enqueued = EnqueueAsync(item, cancellationToken);
        if (enqueued.IsCompletedSuccessfully)
        {
            // The usual case, the queue had room: the caller awaits the completion itself, with no
            // async state machine of ours in between (one allocation and one continuation less per order).
            enqueued.GetAwaiter().GetResult();
            return item.Completion.Task;
        }

        return AfterEnqueueAsync(enqueued, item.Completion.Task);
    }

    private static async Task<CommandResult> AfterEnqueueAsync(ValueTask enqueued, Task<CommandResult> completion)
    {
        await enqueued.ConfigureAwait(false);
        return await completion.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="query"/> on the engine thread between two commands (or, with
    /// <see cref="SequencerOptions.ApplyInline"/>, on whichever thread holds the engine then, which
    /// may be the caller's) and returns its result. The query must only read, must not keep
    /// references to the engine's mutable state past its return (copy what you need), and must be
    /// quick: every command waits behind it. It may observe commands that are applied but not yet
    /// durable.
    /// </summary>
    public async Task<T> QueryAsync<T>(Func<Engine, T> query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var item = new QueryItem<T>(query);
        await EnqueueAsync(item, cancellationToken).ConfigureAwait(false);
        return await item.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// The inclusion proof of <paramref name="accountId"/> against the last sealed block, with that
    /// block's header, built on the engine thread from the block sealer's state tree.
    /// </summary>
    public Task<AccountProofResult> ProveAccountAsync(int accountId, CancellationToken cancellationToken = default) =>
        QueryAsync(e =>
        {
            var header = venue.Sealer.LastSealed;
            if (header is null)
            {
                return new AccountProofResult(null, null, e.TryGetAccount(accountId, out _));
            }

            return new AccountProofResult(venue.Sealer.StateTree.Prove(accountId, header.Height), header, e.TryGetAccount(accountId, out _));
        }, cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops the clock and taking work, lets the engine thread finish what is queued, then makes
    /// every appended command durable (answering its request) and writes the remaining headers.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        tickTimer?.Dispose();
        CloseQueue();
        if (Volatile.Read(ref started) == 1)
        {
            await Task.Run(thread.Join, cancellationToken).ConfigureAwait(false);
        }

        await Task.Run(venue.Close, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        tickTimer?.Dispose();
        CloseQueue();
    }

    private ValueTask EnqueueAsync(WorkItem item, CancellationToken cancellationToken)
    {
        switch (queue.TryWrite(item))
        {
            case WorkQueue<WorkItem>.WriteResult.Written:
                // Not from the answer path (the journal's flusher completing answers, whose
                // continuations may submit the next command): see AnswerBatch.IsRunning.
                if (!(options.ApplyInline && !AnswerBatch.IsRunning && TryApplyInline()))
                {
                    WakeEngine();
                }

                return ValueTask.CompletedTask;
            case WorkQueue<WorkItem>.WriteResult.Closed:
                return ValueTask.FromException(new SequencerStoppedException());
            default:
                return EnqueueWhenRoomAsync(item, cancellationToken);
        }
    }

    /// <summary>The queue was full: back-pressure on the caller until the engine thread makes room.</summary>
    private async ValueTask EnqueueWhenRoomAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (!await queue.WriteAsync(item, cancellationToken).ConfigureAwait(false))
        {
            throw new SequencerStoppedException();
        }

        WakeEngine();
    }

    /// <summary>After queuing: wakes the engine thread if it is parked (or about to park), once.</summary>
    private void WakeEngine()
    {
        Interlocked.MemoryBarrier(); // the item is visible before the state is read (the engine and a claimant do the reverse)
        if (Volatile.Read(ref engineState) == EngineState.Parked
            && Interlocked.CompareExchange(ref engineState, EngineState.Running, EngineState.Parked) == EngineState.Parked)
        {
            wake.Set();
        }
    }

    /// <summary>
    /// After queuing, on the caller's thread: if the engine thread is asleep, claims the engine and
    /// applies what is queued here (up to <see cref="SequencerOptions.InlineApplyLimit"/> items, in
    /// queue order), which saves waking the engine thread, the costliest step of a lone order on a
    /// quiet venue. Returns false when the engine thread is awake or someone else holds the engine
    /// (nothing to do: they will see the item) or the claim was lost (the caller wakes the thread).
    /// The order of commands is the queue's either way, so the result is the same state; only the
    /// thread that computes it differs.
    /// </summary>
    private bool TryApplyInline()
    {
        Interlocked.MemoryBarrier(); // as in WakeEngine: the item is visible before the state is read
        switch (Volatile.Read(ref engineState))
        {
            case EngineState.Running or EngineState.Claimed:
                return true;
            case EngineState.Parked when Interlocked.CompareExchange(ref engineState, EngineState.Claimed, EngineState.Parked) == EngineState.Parked:
                break;
            default:
                return false;
        }

        applyingInline = true;
        try
        {
            for (int n = options.InlineApplyLimit; n > 0 && !sealDue && queue.TryRead(out var queued); n--)
            {
                queued.Execute(this);
            }
        }
        finally
        {
            applyingInline = false;
            if (sealDue)
            {
                // A block to seal: hand the engine straight to the engine thread, never through
                // Parked, where another writer could claim it and apply a command before the seal.
                Volatile.Write(ref engineState, EngineState.Running);
                wake.Set();
            }
            else
            {
                // Let go, then look once more: an item queued while this thread held the engine was
                // left to it (its writer saw Claimed). What is left goes to the engine thread.
                Volatile.Write(ref engineState, EngineState.Parked);
                Interlocked.MemoryBarrier();
                if (queue.HasItems || queue.IsClosed)
                {
                    WakeEngine();
                }
            }
        }

        return true;
    }

    /// <summary>Closes the queue and wakes the engine thread so that it sees the end (a claimant that holds the engine wakes it when it lets go).</summary>
    private void CloseQueue()
    {
        queue.Close();
        WakeEngine();
    }

    /// <summary>Timer thread: one tick in the queue at a time; when the queue is full the tick is skipped.</summary>
    private void QueueTick()
    {
        if (Interlocked.Exchange(ref tickQueued, 1) == 0)
        {
            if (queue.TryWrite(TickItem.Instance) == WorkQueue<WorkItem>.WriteResult.Written)
            {
                WakeEngine();
            }
            else
            {
                Volatile.Write(ref tickQueued, 0);
            }
        }
    }

    // ---------------------------------------------------------------- the engine thread

    private void Run()
    {
        while (true)
        {
            if (sealDue)
            {
                sealDue = false;
                SealBlock();
            }

            while (queue.TryRead(out var item))
            {
                item.Execute(this);
            }

            // Nothing queued: look again for a while (a writer that finds this thread awake need
            // not wake it), then park until something is.
            if (Clearhouse.Journal.IdleSpin.Until(options.IdleSpin, queue, static q => q.HasItems))
            {
                continue;
            }

            // Still nothing: park this thread until something is (waiting for work is not I/O).
            // Writers wake it (WakeEngine) or, with ApplyInline, apply their work themselves.
            Volatile.Write(ref engineState, EngineState.Parked);
            Interlocked.MemoryBarrier(); // publish "parked" before looking once more (a writer does the reverse)
            if (queue.HasItems || queue.IsClosed)
            {
                // Take the engine back, unless a writer has just claimed it: then it is theirs
                // until they let go, and this thread waits like any parked one.
                int previous = Interlocked.CompareExchange(ref engineState, EngineState.Running, EngineState.Parked);
                if (previous != EngineState.Claimed)
                {
                    if (queue.IsDrained)
                    {
                        break;
                    }

                    continue;
                }
            }

            // Only a writer that moves the state from Parked to Running rings the bell; anything
            // else that returns from the wait (a ring left over from an earlier round) waits again.
            while (Volatile.Read(ref engineState) != EngineState.Running)
            {
                wake.Wait();
                wake.Reset();
            }
        }

        logger.LogInformation("Engine thread stopped at sequence {Sequence} ({Applied} applied, {Rejected} rejected).", LastStampedSequence, AppliedCount, RejectedCount);
    }

    /// <summary>Stamp, journal, apply, seal: one command on the engine thread.</summary>
    private CommandResult Apply(Command command)
    {
        long sequence = nextSequence++;
        long timestamp = Math.Max(UnixMicrosNow(), lastTimestampMicros);
        lastTimestampMicros = timestamp;
        var stamped = command with { Sequence = sequence, TimestampMicros = timestamp };

        ReadOnlySpan<byte> bytes = Journal(stamped);
        Volatile.Write(ref lastStampedSequence, sequence);

        RejectReason reason;
        try
        {
            reason = engine.Apply(stamped);
        }
        catch (Exception ex)
        {
            Halt(stamped, ex);
            throw;
        }

        var events = engine.Events;
        Instruments.Observe(engine, events);
        Notify(stamped, reason, events);
        var result = new CommandResult(sequence, timestamp, reason, events.ToArray());
        if (engine.Liquidations.Count > 0)
        {
            KeepLiquidations(sequence, timestamp, events);
        }

        if (reason == RejectReason.None)
        {
            Volatile.Write(ref lastAppliedSequence, sequence);
            Interlocked.Increment(ref appliedCount);
        }
        else
        {
            Interlocked.Increment(ref rejectedCount);
        }

        commandsSinceSnapshot++;
        if (venue.Sealer.Add(sequence, timestamp, bytes))
        {
            if (applyingInline)
            {
                sealDue = true;
            }
            else
            {
                SealBlock();
            }
        }

        return result;
    }

    private void Notify(Command stamped, RejectReason reason, ReadOnlySpan<EngineEvent> events)
    {
        foreach (var observer in Volatile.Read(ref observers))
        {
            try
            {
                observer.OnApplied(stamped, reason, events, engine);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Observer {Observer} failed on sequence {Sequence}.", observer.GetType().Name, stamped.Sequence);
            }
        }
    }

    /// <summary>
    /// Keeps the proofs and events of the liquidation steps this command ran, for the API. A failure
    /// here is a bug in the server's bookkeeping, not in the venue: it is logged and the command
    /// stands.
    /// </summary>
    private void KeepLiquidations(long sequence, long timestamp, ReadOnlySpan<EngineEvent> events)
    {
        try
        {
            venue.Liquidations.Capture(sequence, timestamp, events, engine.Liquidations);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not keep the liquidation proofs of sequence {Sequence}.", sequence);
        }
    }

    /// <summary>
    /// Encodes the stamped command canonically, straight into the journal's buffer when there is a
    /// journal (no copy, no allocation, no lock: see <see cref="Clearhouse.Journal.JournalWriter.BeginAppend"/>),
    /// and returns its bytes for the block sealer. They stay valid until the next command's append.
    /// </summary>
    private ReadOnlySpan<byte> Journal(Command stamped)
    {
        if (venue.Journal is { } journal)
        {
            var span = journal.BeginAppend(256);
            if (CommandCodec.TryEncode(stamped, span, out int written))
            {
                journal.CommitAppend(stamped.Sequence, written);
                return span[..written];
            }
        }
        else if (CommandCodec.TryEncode(stamped, scratch, out int written))
        {
            return scratch.AsSpan(0, written);
        }

        // Larger than what is at hand (an instrument listing with many tiers, a surface): the general path.
        encoded.ResetWrittenCount();
        CommandCodec.Encode(stamped, encoded);
        venue.Journal?.Append(stamped.Sequence, encoded.WrittenSpan);
        return encoded.WrittenSpan;
    }

    private void SealBlock()
    {
        long start = Stopwatch.GetTimestamp();
        var header = venue.Sealer.Seal(engine);
        Interlocked.Add(ref sealTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref blocksSealed);
        if (venue.Persistence is not { } persistence)
        {
            venue.Blocks.Add(header);
            return;
        }

        persistence.EnqueueBlock(header);
        if (IsSnapshotDue(persistence))
        {
            // The one stall of the engine thread: encoding the whole state (linear in its size).
            // The buffer starts at the last snapshot's size plus a margin, so it rarely grows, and
            // the bytes go to the writer thread as they are, without a copy.
            long serializeStart = Stopwatch.GetTimestamp();
            var state = new ArrayBufferWriter<byte>((int)Math.Min(Array.MaxLength, Math.Max(64 * 1024, lastSnapshotBytes + (lastSnapshotBytes / 4))));
            EngineSnapshot.Write(engine, state);
            var serializeTime = Stopwatch.GetElapsedTime(serializeStart);
            lastSnapshotBytes = state.WrittenCount;
            Volatile.Write(ref lastSnapshotSerializeMillis, serializeTime.TotalMilliseconds);
            persistence.EnqueueSnapshot(header.LastSequence, state.WrittenMemory, serializeTime);
            commandsSinceSnapshot = 0;
            lastSnapshotTimestamp = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Due after enough commands or time, and only when the previous snapshot has been saved (never two in memory at once).</summary>
    private bool IsSnapshotDue(BlockAndSnapshotWriter persistence) =>
        commandsSinceSnapshot > 0
        && !persistence.SnapshotPending
        && ((options.SnapshotEveryCommands > 0 && commandsSinceSnapshot >= options.SnapshotEveryCommands)
            || (options.SnapshotInterval > TimeSpan.Zero && Stopwatch.GetElapsedTime(lastSnapshotTimestamp) >= options.SnapshotInterval));

    /// <summary>
    /// The engine threw: Core validates before it changes anything, so this is a bug in Core and
    /// the state may be half-changed. The command is already in the journal, so the state after it
    /// could not be reproduced either: the venue stops rather than build blocks on a state nobody
    /// can verify. Recovery will replay up to this command and refuse to go past it until Core is fixed.
    /// </summary>
    private void Halt(Command command, Exception ex)
    {
        string message = $"The engine threw while applying sequence {command.Sequence} ({command.GetType().Name}); its state can no longer be trusted. Stopping the venue.";
        logger.LogCritical(ex, "{Message}", message);
        if (venue.Journal is not null)
        {
            Environment.FailFast(message, ex);
        }
    }

    private long UnixMicrosNow() => (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private abstract class WorkItem
    {
        public abstract void Execute(Sequencer sequencer);
    }

    private sealed class CommandItem(Command command, bool durable) : WorkItem
    {
        // With the journal, DurableAcknowledgements completes it on the journal's flusher thread (or,
        // rarely, a thread-pool work item; never the engine thread), and its continuations run there
        // synchronously: that saves a thread hand-off per batch of answers.
        public TaskCompletionSource<CommandResult> Completion { get; } = new(durable ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(Sequencer sequencer)
        {
            CommandResult result;
            try
            {
                result = sequencer.Apply(command);
            }
            catch (Exception ex)
            {
                // The engine threw (with the journal on, Halt ends the process) or the journal refused
                // the append: the request gets a 500. Never on this thread: the completion may run
                // its continuations synchronously.
                ThreadPool.UnsafeQueueUserWorkItem(static state => state.Completion.SetException(state.ex), (Completion, ex), preferLocal: false);
                return;
            }

            if (sequencer.venue.Journal is null)
            {
                Completion.SetResult(result);
            }
            else
            {
                sequencer.venue.Acknowledgements.Add(result.Sequence, Completion, result);
            }
        }
    }

    /// <summary>A clock tick: journaled and applied like any command, answered to no one.</summary>
    private sealed class TickItem : WorkItem
    {
        public static readonly TickItem Instance = new();

        public override void Execute(Sequencer sequencer)
        {
            Volatile.Write(ref sequencer.tickQueued, 0);
            try
            {
                sequencer.Apply(new Tick());
            }
            catch (Exception ex)
            {
                sequencer.logger.LogError(ex, "A clock tick failed.");
            }
        }
    }

    private sealed class QueryItem<T>(Func<Engine, T> query) : WorkItem
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(Sequencer sequencer)
        {
            try
            {
                Completion.SetResult(query(sequencer.engine));
            }
            catch (Exception ex)
            {
                Completion.SetException(ex);
            }
        }
    }
}

/// <summary>How often the sequencer ticks and snapshots.</summary>
public sealed record SequencerOptions
{
    /// <summary>Period of the clock tick; null or zero sends none (the default here; the server sets 250 ms).</summary>
    public TimeSpan? TickInterval { get; init; }

    /// <summary>Snapshot at the first block boundary after this many commands; 0 never by count.</summary>
    public long SnapshotEveryCommands { get; init; }

    /// <summary>...or after this much time; zero never by time.</summary>
    public TimeSpan SnapshotInterval { get; init; }

    /// <summary>How long the engine thread spins, looking for work, before it sleeps (<see cref="ServerOptions.IdleSpinMicros"/>); zero sleeps at once.</summary>
    public TimeSpan IdleSpin { get; init; }

    /// <summary>
    /// When the engine thread sleeps, the thread that queues a command or query applies the queue
    /// itself instead of waking it (<see cref="ServerOptions.ApplyInline"/>). False: the engine
    /// thread alone applies (the default here, for tests that count on it; the server sets it).
    /// </summary>
    public bool ApplyInline { get; init; }

    /// <summary>The most queued items a caller applies before it hands the rest to the engine thread.</summary>
    public int InlineApplyLimit { get; init; } = 64;

    public static SequencerOptions From(ServerOptions options) => new()
    {
        TickInterval = options.TickMillis > 0 ? TimeSpan.FromMilliseconds(options.TickMillis) : null,
        SnapshotEveryCommands = options.SnapshotEveryCommands,
        SnapshotInterval = TimeSpan.FromSeconds(options.SnapshotEverySeconds),
        IdleSpin = TimeSpan.FromMicroseconds(options.IdleSpinMicros),
        ApplyInline = options.ApplyInline,
    };
}

/// <summary>
/// An account proof against the last sealed block: <see cref="Proof"/> is null when no block is
/// sealed yet or the account is not in it (<see cref="AccountExists"/> tells the two apart).
/// </summary>
public sealed record AccountProofResult(AccountProof? Proof, BlockHeader? Header, bool AccountExists);
