using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Clearhouse.Core.Engine;

namespace Clearhouse.Benchmarks.Throughput;

/// <summary>
/// The whole-process throughput run, modelled on exchange-core's SinglePairMargin test.
/// <list type="number">
/// <item>Generate the stream (genesis, book fill, warm-up, timed part) against a first engine; see <see cref="WorkloadGenerator"/>.</item>
/// <item>Throughput pass(es): a fresh engine replays genesis, fill and warm-up untimed, then the timed part
/// in a bare loop (one thread) between two <see cref="Stopwatch.GetTimestamp"/> reads, with
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> read around the same loop.</item>
/// <item>Latency pass: another fresh engine, the same replay, with a timestamp read around every
/// <c>Apply</c>; per-type means and percentiles come from these (they include the timer's own cost,
/// which is measured and printed).</item>
/// <item>Every replay must end in the generator's state hash: the timed engines did the same work.</item>
/// </list>
/// </summary>
public static class ThroughputRun
{
    private static readonly string[] KindNames = ["place GTC", "place IOC", "cancel", "move"];

    public static int Run(string[] args)
    {
        var options = new WorkloadOptions();
        int runs = 3;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--commands":
                    options = options with { Commands = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--warmup":
                    options = options with { WarmupCommands = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--seed":
                    options = options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--accounts":
                    options = options with { Accounts = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--orders":
                    options = options with { TargetOrders = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--runs":
                    runs = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown option '{args[i]}'. Options: --commands N --warmup N --seed N --accounts N --orders N --runs N");
                    return 2;
            }
        }

        Console.WriteLine("# Clearhouse throughput run (exchange-core SinglePairMargin model)");
        Console.WriteLine();
        Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, latency mode {GCSettings.LatencyMode}, Stopwatch {Stopwatch.Frequency:N0} ticks/s");
        Console.WriteLine($"options: {options.Commands:N0} timed commands, {options.WarmupCommands:N0} warm-up, {options.Accounts:N0} accounts, target {options.TargetOrders:N0} resting orders, seed {options.Seed}, runs {runs}");

        var generation = Stopwatch.StartNew();
        var workload = new WorkloadGenerator(options).Generate();
        generation.Stop();
        Console.WriteLine($"generated {workload.Commands.Length:N0} commands ({workload.WarmupStart:N0} genesis + fill, {workload.TimedStart - workload.WarmupStart:N0} warm-up, {workload.TimedKinds.Length:N0} timed) in {generation.Elapsed.TotalSeconds:F1} s");
        PrintGeneration(workload);

        var throughputs = new List<double>();
        for (int run = 1; run <= runs; run++)
        {
            var result = TimedPass(workload);
            Check(workload, result.Engine, $"throughput run {run}");
            throughputs.Add(result.CommandsPerSecond);
            Console.WriteLine();
            Console.WriteLine($"## Throughput run {run}");
            Console.WriteLine();
            Console.WriteLine($"- {workload.TimedKinds.Length:N0} commands in {result.Seconds * 1000:F1} ms: **{result.CommandsPerSecond / 1e6:F2} M commands/s** ({1e9 / result.CommandsPerSecond:F0} ns per command)");
            Console.WriteLine($"- heap allocated during the timed loop: {result.AllocatedBytes:N0} bytes = {(double)result.AllocatedBytes / workload.TimedKinds.Length:F3} bytes per command; GCs gen0/1/2: {result.Gen0}/{result.Gen1}/{result.Gen2}");
            Console.WriteLine($"- rejections: {FormatRejects(result.RejectsByReason)}");
            Console.WriteLine($"- resting orders at the end: {result.Engine.Instruments[Venue.InstrumentId - 1].Book.OrderCount:N0}");
        }

        var latency = LatencyPass(workload);
        Check(workload, latency.Engine, "latency run");
        PrintLatency(workload, latency);

        throughputs.Sort();
        Console.WriteLine();
        Console.WriteLine("## Summary");
        Console.WriteLine();
        Console.WriteLine($"- throughput over {runs} run(s): median {throughputs[throughputs.Count / 2] / 1e6:F2} M commands/s, min {throughputs[0] / 1e6:F2}, max {throughputs[^1] / 1e6:F2}");
        Console.WriteLine($"- final state hash: {workload.FinalStateHash} (generator and every replay agree)");
        return 0;
    }

    private static void PrintGeneration(Workload workload)
    {
        var s = workload.Stats;
        long total = workload.TimedKinds.Length;
        Console.WriteLine();
        Console.WriteLine("## Workload (timed part)");
        Console.WriteLine();
        Console.WriteLine("| command | count | share | of which traded |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        for (int k = 0; k < 4; k++)
        {
            Console.WriteLine($"| {KindNames[k]} | {s.CountByKind[k]:N0} | {100.0 * s.CountByKind[k] / total:F2}% | {s.TradedByKind[k]:N0} ({100.0 * s.TradedByKind[k] / Math.Max(1, s.CountByKind[k]):F1}%) |");
        }

        Console.WriteLine();
        Console.WriteLine($"- trades: {s.Trades:N0}; book fill took {s.FillCommands:N0} GTC orders");
        Console.WriteLine($"- resting orders (sampled every 512 commands): min {s.MinBookOrders:N0}, mean {s.MeanBookOrders:N0}, max {s.MaxBookOrders:N0}; at the end {workload.FinalRestingOrders:N0}");
        Console.WriteLine($"- price levels per side: mean {s.MeanLevelsPerSide:F0}; mean spread {s.MeanSpreadTicks:F1} ticks of 0.5 USDC");
        Console.WriteLine($"- rejections while generating: {FormatRejects(s.RejectsByReason)}");
    }

    private sealed record TimedResult(Engine Engine, int Commands, double Seconds, long AllocatedBytes, int Gen0, int Gen1, int Gen2, long[] RejectsByReason)
    {
        public double CommandsPerSecond => Seconds > 0 ? Commands / Seconds : 0;
    }

    /// <summary>Replays everything before the timed part into a fresh engine, untimed, and settles the heap.</summary>
    private static Engine Prepare(Workload workload)
    {
        var engine = new Engine();
        var commands = workload.Commands;
        for (int i = 0; i < workload.TimedStart; i++)
        {
            var reason = engine.Apply(commands[i]);
            if (reason != RejectReason.None)
            {
                throw new InvalidOperationException($"Replay of untimed command {i} ({commands[i]}) was rejected: {reason}.");
            }
        }

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return engine;
    }

    private static TimedResult TimedPass(Workload workload)
    {
        var engine = Prepare(workload);
        var commands = workload.Commands;
        int start = workload.TimedStart;
        int end = commands.Length;
        var rejects = new long[1024];

        int gen0 = GC.CollectionCount(0);
        int gen1 = GC.CollectionCount(1);
        int gen2 = GC.CollectionCount(2);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = start; i < end; i++)
        {
            rejects[(int)engine.Apply(commands[i])]++;
        }

        long t1 = Stopwatch.GetTimestamp();
        long allocatedAfter = GC.GetAllocatedBytesForCurrentThread();
        return new TimedResult(
            engine,
            end - start,
            (double)(t1 - t0) / Stopwatch.Frequency,
            allocatedAfter - allocatedBefore,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2,
            rejects);
    }

    private sealed record LatencyResult(Engine Engine, long[] Ticks, double TimerOverheadNs, long AllocatedBytes);

    private static LatencyResult LatencyPass(Workload workload)
    {
        double overheadNs = MeasureTimerOverhead();
        var engine = Prepare(workload);
        var commands = workload.Commands;
        int start = workload.TimedStart;
        var ticks = new long[commands.Length - start];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < ticks.Length; i++)
        {
            var command = commands[start + i];
            long t0 = Stopwatch.GetTimestamp();
            engine.Apply(command);
            ticks[i] = Stopwatch.GetTimestamp() - t0;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return new LatencyResult(engine, ticks, overheadNs, allocated);
    }

    /// <summary>Mean of back-to-back timestamp pairs: what one measured interval adds by itself.</summary>
    private static double MeasureTimerOverhead()
    {
        const int n = 2_000_000;
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            long a = Stopwatch.GetTimestamp();
            sum += Stopwatch.GetTimestamp() - a;
        }

        return sum * 1e9 / Stopwatch.Frequency / n;
    }

    private static void PrintLatency(Workload workload, LatencyResult latency)
    {
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        Console.WriteLine();
        Console.WriteLine("## Latency per command type (latency run: a timestamp pair around each Apply)");
        Console.WriteLine();
        Console.WriteLine($"Timer overhead (mean of an empty timestamp pair): {latency.TimerOverheadNs:F1} ns, included in the figures below; the 'net mean' column subtracts it. Allocated during this run: {latency.AllocatedBytes:N0} bytes.");
        Console.WriteLine();
        Console.WriteLine("| command | count | mean | net mean | p50 | p90 | p99 | p99.9 | p99.99 | max |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int k = -1; k < 4; k++)
        {
            var selected = new List<long>();
            for (int i = 0; i < latency.Ticks.Length; i++)
            {
                if (k < 0 || (int)workload.TimedKinds[i] == k)
                {
                    selected.Add(latency.Ticks[i]);
                }
            }

            if (selected.Count == 0)
            {
                continue;
            }

            selected.Sort();
            double mean = selected.Average() * nsPerTick;
            string P(double q) => Ns(selected[Math.Min(selected.Count - 1, (int)Math.Floor(q * selected.Count))] * nsPerTick);
            Console.WriteLine($"| {(k < 0 ? "all" : KindNames[k])} | {selected.Count:N0} | {Ns(mean)} | {Ns(mean - latency.TimerOverheadNs)} | {P(0.50)} | {P(0.90)} | {P(0.99)} | {P(0.999)} | {P(0.9999)} | {Ns(selected[^1] * nsPerTick)} |");
        }
    }

    private static string Ns(double ns) => ns >= 10_000 ? $"{ns / 1000:F1} µs" : $"{ns:F0} ns";

    private static string FormatRejects(long[] byReason)
    {
        var parts = new List<string>();
        for (int r = 1; r < byReason.Length; r++)
        {
            if (byReason[r] > 0)
            {
                parts.Add($"{(RejectReason)r}: {byReason[r]:N0}");
            }
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static void Check(Workload workload, Engine engine, string what)
    {
        string hash = engine.ComputeStateHashHex();
        if (hash != workload.FinalStateHash)
        {
            throw new InvalidOperationException($"The {what} ended in state {hash}, not the generator's {workload.FinalStateHash}: the replay diverged.");
        }
    }
}
