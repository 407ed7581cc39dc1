using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Engine;

namespace Clearhouse.Benchmarks.Apply;

/// <summary>
/// Shape shared by the per-primitive engine benchmarks. The engine only accepts each command once
/// (its sequence must be above the last applied), so an iteration cannot replay the same command
/// object: before every iteration, <see cref="BuildBatch"/> builds (and stamps) exactly
/// <see cref="Batch"/> fresh commands and, untimed, undoes what the previous iteration did to the
/// book (cancels what it rested, re-places what it removed), so every iteration starts from about
/// <see cref="BaseOrders"/> resting orders. The timed part is only <c>Engine.Apply(command)</c>,
/// <see cref="Batch"/> times; the iteration setup is excluded from both time and allocation figures.
/// Before measuring, <see cref="GlobalSetup"/> applies batches for <see cref="WarmUpTime"/>, checking that
/// every command is accepted, so that what is timed is the intended (successful) path in optimized code.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 30, invocationCount: Batch)]
public abstract class EngineBatchBenchmark
{
    /// <summary>Commands per iteration (BenchmarkDotNet's invocation count).</summary>
    public const int Batch = 512;

    public const int AccountCount = 2_000;

    public const int BaseOrders = 1_000;

    /// <summary>How long <see cref="GlobalSetup"/> runs batches before measuring, so that the code measured is fully optimized.</summary>
    public static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(1.5);

    private Command[] batch = [];
    private int next;

    protected Venue Venue { get; private set; } = null!;

    protected Random Random { get; private set; } = null!;

    /// <summary>Ids of the base book's orders, rested by <see cref="GlobalSetup"/>.</summary>
    protected long[] BaseOrderIds { get; private set; } = [];

    /// <summary>Distance band of the resting book from the mark, in ticks, on each side.</summary>
    protected virtual (int Near, int Far) BookBand => (1, 200);

    [GlobalSetup]
    public void GlobalSetup()
    {
        Random = new Random(20_260_101);
        Venue = new Venue(AccountCount);
        BaseOrderIds = Venue.RestPassive(Random, BaseOrders, BookBand.Near, BookBand.Far);

        // Iterations here are well under a millisecond, too short for tiered compilation (which waits
        // ~100 ms before promoting hot methods to optimized code): without this warm-up the whole run
        // would measure tier-0 code. So run batches, each command checked, for a while first.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.Elapsed < WarmUpTime)
        {
            batch = BuildBatch(next);
            for (next = 0; next < batch.Length; next++)
            {
                var reason = Venue.Engine.Apply(batch[next]);
                if (reason != RejectReason.None)
                {
                    throw new InvalidOperationException($"{GetType().Name}: {batch[next]} was rejected ({reason}); the benchmark would not measure the intended path.");
                }
            }
        }
    }

    [IterationSetup]
    public void IterationSetup()
    {
        batch = BuildBatch(next);
        next = 0;
    }

    /// <summary>Runs one timed command.</summary>
    protected RejectReason ApplyNext() => Venue.Engine.Apply(batch[next++]);

    /// <summary>
    /// Restores the book after the previous batch, of which the first <paramref name="appliedFromPrevious"/>
    /// commands were applied (BenchmarkDotNet may call the setup for iterations that run nothing),
    /// then returns <see cref="Batch"/> new stamped commands.
    /// </summary>
    protected abstract Command[] BuildBatch(int appliedFromPrevious);
}
