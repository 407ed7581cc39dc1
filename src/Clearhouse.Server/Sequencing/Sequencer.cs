using System.Threading.Channels;
using Clearhouse.Core.Engine;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// The one writer. Request threads hand commands (and state queries) to a <see cref="Channel{T}"/>;
/// a single dedicated engine thread takes them in order, stamps each command with the next
/// sequence number and a timestamp from the clock, applies it, copies the events and completes
/// the request. The engine is not thread-safe, so reads of its state go through the same channel
/// as <see cref="QueryAsync{T}"/> and run on the engine thread between two commands.
/// <para>
/// Sequence numbers come from the sequencer's own counter, which advances for every command,
/// accepted or rejected: the engine rejects a sequence not above its last applied one and a
/// rejection does not advance that, so reusing the number would be wrong; gaps are allowed.
/// Timestamps are Unix microseconds from <see cref="TimeProvider"/>, clamped so that they never go
/// backwards even if the wall clock does.
/// </para>
/// <para>
/// The engine thread never waits on I/O: requests are completed with
/// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>, so no request's continuation
/// runs on it. (The journal issue adds the write-ahead append and group commit here.)
/// </para>
/// </summary>
public sealed class Sequencer : IHostedService, IDisposable
{
    /// <summary>How many commands may wait; writers wait (asynchronously) beyond that.</summary>
    public const int QueueCapacity = 65_536;

    private readonly Engine engine;
    private readonly TimeProvider clock;
    private readonly ILogger<Sequencer> logger;
    private readonly Channel<WorkItem> channel;
    private readonly Thread thread;
    private long nextSequence;
    private long lastTimestampMicros;
    private long lastStampedSequence;
    private long lastAppliedSequence;
    private long appliedCount;
    private long rejectedCount;
    private int started;

    public Sequencer(Engine engine, TimeProvider clock, ILogger<Sequencer> logger)
    {
        this.engine = engine;
        this.clock = clock;
        this.logger = logger;
        nextSequence = engine.LastSequence + 1;
        lastTimestampMicros = engine.LastTimestampMicros;
        lastAppliedSequence = engine.LastSequence;
        lastStampedSequence = engine.LastSequence;
        channel = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
        thread = new Thread(Run) { Name = "Clearhouse engine", IsBackground = true };
    }

    /// <summary>Instrument names and ids, readable from any thread.</summary>
    public InstrumentDirectory Instruments { get; } = new();

    /// <summary>The engine's last applied (accepted) sequence number.</summary>
    public long LastAppliedSequence => Volatile.Read(ref lastAppliedSequence);

    /// <summary>The last sequence number stamped on a command, accepted or rejected.</summary>
    public long LastStampedSequence => Volatile.Read(ref lastStampedSequence);

    public long AppliedCount => Volatile.Read(ref appliedCount);

    public long RejectedCount => Volatile.Read(ref rejectedCount);

    /// <summary>Commands and queries waiting for the engine thread.</summary>
    public int QueueLength => channel.Reader.CanCount ? channel.Reader.Count : -1;

    /// <summary>Starts the engine thread; idempotent.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            thread.Start();
        }
    }

    /// <summary>
    /// Queues a command for the engine thread. Whatever <see cref="Command.Sequence"/> and
    /// <see cref="Command.TimestampMicros"/> it carries are replaced. The task completes once the
    /// command has been applied or rejected; a rejection is a result, not an exception. The
    /// cancellation token only stops the wait for room in the queue: once queued, a command runs.
    /// </summary>
    public async Task<CommandResult> SubmitAsync(Command command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var item = new CommandItem(command);
        await EnqueueAsync(item, cancellationToken).ConfigureAwait(false);
        return await item.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="query"/> on the engine thread between two commands and returns its
    /// result. The query must only read, must not keep references to the engine's mutable state
    /// past its return (copy what you need), and must be quick: every command waits behind it.
    /// </summary>
    public async Task<T> QueryAsync<T>(Func<Engine, T> query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var item = new QueryItem<T>(query);
        await EnqueueAsync(item, cancellationToken).ConfigureAwait(false);
        return await item.Completion.Task.ConfigureAwait(false);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops taking work, lets the engine thread finish what is queued, and waits for it.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        channel.Writer.TryComplete();
        if (Volatile.Read(ref started) == 1)
        {
            await Task.Run(() => thread.Join(TimeSpan.FromSeconds(10)), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => channel.Writer.TryComplete();

    private async ValueTask EnqueueAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (channel.Writer.TryWrite(item))
        {
            return;
        }

        try
        {
            await channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new SequencerStoppedException();
        }
    }

    // ---------------------------------------------------------------- the engine thread

    private void Run()
    {
        var reader = channel.Reader;
        while (true)
        {
            while (reader.TryRead(out var item))
            {
                item.Execute(this);
            }

            // Nothing queued: park this thread until something is (waiting for work is not I/O).
            var more = reader.WaitToReadAsync();
            if (!(more.IsCompletedSuccessfully ? more.Result : more.AsTask().GetAwaiter().GetResult()))
            {
                break;
            }
        }

        logger.LogInformation("Engine thread stopped at sequence {Sequence} ({Applied} applied, {Rejected} rejected).", LastAppliedSequence, AppliedCount, RejectedCount);
    }

    private CommandResult Apply(Command command)
    {
        long sequence = nextSequence++;
        long timestamp = Math.Max(UnixMicrosNow(), lastTimestampMicros);
        lastTimestampMicros = timestamp;
        Volatile.Write(ref lastStampedSequence, sequence);

        var reason = engine.Apply(command with { Sequence = sequence, TimestampMicros = timestamp });
        var events = engine.Events;
        Instruments.Observe(engine, events);
        var result = new CommandResult(sequence, timestamp, reason, events.ToArray());
        if (reason == RejectReason.None)
        {
            Volatile.Write(ref lastAppliedSequence, sequence);
            Interlocked.Increment(ref appliedCount);
        }
        else
        {
            Interlocked.Increment(ref rejectedCount);
        }

        return result;
    }

    private long UnixMicrosNow() => (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private abstract class WorkItem
    {
        public abstract void Execute(Sequencer sequencer);
    }

    private sealed class CommandItem(Command command) : WorkItem
    {
        public TaskCompletionSource<CommandResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(Sequencer sequencer)
        {
            try
            {
                Completion.SetResult(sequencer.Apply(command));
            }
            catch (Exception ex)
            {
                // Core validates before it changes anything, so this is a bug in Core, and the
                // command may have been half applied. Say so loudly; the request gets a 500.
                sequencer.logger.LogCritical(ex, "The engine threw while applying {Command}; its state may be inconsistent.", command);
                Completion.SetException(ex);
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
