using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Clearhouse.Benchmarks.Throughput;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Journal.Snapshots;

namespace Clearhouse.Benchmarks.Durability;

/// <summary>
/// The durability run (issue 3's performance targets) on the throughput run's workload
/// (exchange-core SinglePairMargin model, see <see cref="WorkloadGenerator"/>):
/// <list type="number">
/// <item>(a) The timed part through six pipelines (<see cref="Pipeline"/>), in rotation, each from a
/// fresh engine and an empty journal in a temporary directory on the local disk: journal off, encode
/// only, journal on inline and with a <see cref="Journaller"/> thread (group commit, background
/// fsync per batch; a command counts as durable once <see cref="JournalWriter.DurableSequence"/>
/// covers it, so the clock stops after the final flush), sealing only, journal and sealing.</item>
/// <item>(b) Replay of the last journal written: read every segment, decode, apply, from genesis;
/// from the page cache and after evicting the files from it.</item>
/// <item>(c) Recovery of a 10M-command journal: validation scan + replay (cold and warm), replay with
/// re-sealing, and snapshot (at 90%) + tail.</item>
/// <item>(d) Block sealing: time in <see cref="BlockSealer.Seal"/> per block, the per-command leaf hash,
/// and their share of processing, at the default rule (10,000 commands bind first at this
/// workload's one command per µs of sequencer time) and at 1 s blocks without the cap.</item>
/// </list>
/// Every pass must end in the generator's state hash.
/// </summary>
public static class DurableRun
{
    private static readonly Pipeline[] Rotation = [Pipeline.Off, Pipeline.Encode, Pipeline.Journal, Pipeline.JournalPipelined, Pipeline.Seal, Pipeline.JournalAndSeal];

    public static int Run(string[] args)
    {
        var options = new WorkloadOptions();
        int runs = 3;
        long recoveryCommands = 10_000_000;
        string root = Path.GetTempPath();
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
                case "--runs":
                    runs = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--recovery-commands":
                    recoveryCommands = long.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--dir":
                    root = value;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown option '{args[i]}'. Options: --commands N --warmup N --seed N --runs N --recovery-commands N (0: skip) --dir DIR");
                    return 2;
            }
        }

        var work = Path.Combine(Path.GetFullPath(root), "clearhouse-durable-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            Execute(options, runs, recoveryCommands, work);
            return 0;
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static void Execute(WorkloadOptions options, int runs, long recoveryCommands, string work)
    {
        Console.WriteLine("# Clearhouse durability run (journal, replay, recovery, block sealing)");
        Console.WriteLine();
        Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, load average {LoadAverage()}");
        Console.WriteLine($"options: {options.Commands:N0} timed commands, {options.WarmupCommands:N0} warm-up, {options.Accounts:N0} accounts, target {options.TargetOrders:N0} resting orders, seed {options.Seed}, runs {runs}");
        Console.WriteLine($"journal directory: {work} ({FileSystemOf(work)}); segments 64 MiB, buffers 4 MiB (max 64 MiB), background flusher: one write + fsync per batch");

        var generation = Stopwatch.StartNew();
        var workload = new WorkloadGenerator(options).Generate();
        Console.WriteLine($"generated {workload.Commands.Length:N0} commands ({workload.TimedStart:N0} untimed: genesis, fill, warm-up) in {generation.Elapsed.TotalSeconds:F1} s");

        var rule = new BlockRule(BlockSealer.DefaultIntervalMicros, BlockSealer.DefaultMaxCommands);
        var results = new Dictionary<Pipeline, List<PassResult>>();
        string journalDir = Path.Combine(work, "journal");
        Console.WriteLine();
        Console.WriteLine("## (a) Timed part through each pipeline");
        Console.WriteLine();
        Console.WriteLine("| round | pipeline | loop | durable (after final flush) | fsync batches | commands per batch | MB written | behind at loop end | seal: blocks, total, max | gen0 GCs |");
        Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
        for (int round = 1; round <= runs; round++)
        {
            foreach (var pipeline in Rotation)
            {
                DeleteDirectory(journalDir);
                var result = Pipelines.Run(workload, pipeline, journalDir, rule);
                Check(workload, result.StateHash, $"{pipeline} pass");
                (results.TryGetValue(pipeline, out var list) ? list : results[pipeline] = []).Add(result);
                bool journaled = result.Batches > 0;
                Console.WriteLine($"| {round} | {Name(pipeline)} | {M(result.LoopRate)} | {(journaled ? M(result.DurableRate) : "")} | "
                    + $"{(journaled ? result.Batches.ToString("N0", CultureInfo.InvariantCulture) : "")} | {(journaled ? (result.Commands / (double)result.Batches).ToString("N0", CultureInfo.InvariantCulture) : "")} | "
                    + $"{(journaled ? (result.Bytes / 1e6).ToString("N0", CultureInfo.InvariantCulture) : "")} | {(journaled ? (result.LastSequence - result.DurableAtLoopEnd).ToString("N0", CultureInfo.InvariantCulture) : "")} | "
                    + $"{(result.Blocks > 0 ? $"{result.Blocks:N0}, {result.SealSeconds * 1000:F0} ms, {result.MaxSealMs:F2} ms" : "")} | {result.Gen0} |");
            }
        }

        // The last pass was JournalAndSeal; leave a plain journal of the whole stream for replay.
        DeleteDirectory(journalDir);
        var lastJournal = Pipelines.Run(workload, Pipeline.Journal, journalDir, rule);
        Check(workload, lastJournal.StateHash, "journal pass for replay");

        double off = Median(results[Pipeline.Off], r => r.LoopRate);
        double encode = Median(results[Pipeline.Encode], r => r.LoopRate);
        double inline = Median(results[Pipeline.Journal], r => r.DurableRate);
        double pipelined = Median(results[Pipeline.JournalPipelined], r => r.DurableRate);
        double seal = Median(results[Pipeline.Seal], r => r.LoopRate);
        double all = Median(results[Pipeline.JournalAndSeal], r => r.DurableRate);
        Console.WriteLine();
        Console.WriteLine("| median over the rounds | commands/s | vs journal off |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| journal off (apply only) | {M(off)} | |");
        Console.WriteLine($"| encode only (no journal) | {M(encode)} | {Pct((encode / off) - 1)} |");
        Console.WriteLine($"| journal on, inline: durable | **{M(inline)}** | {Pct((inline / off) - 1)} |");
        Console.WriteLine($"| journal on, journaller thread: durable | **{M(pipelined)}** | {Pct((pipelined / off) - 1)} |");
        Console.WriteLine($"| seal only (no journal) | {M(seal)} | {Pct((seal / off) - 1)} |");
        Console.WriteLine($"| journal (journaller thread) + seal: durable | {M(all)} | {Pct((all / off) - 1)} |");
        Console.WriteLine();
        Console.WriteLine($"Per command on the engine thread: apply {Ns(off):F0} ns; encode {Ns(encode) - Ns(off):F0} ns; inline append and group commit {Ns(inline) - Ns(encode):F0} ns; "
            + $"with the journaller thread {Ns(pipelined) - Ns(off):F0} ns in all; sealing {Ns(seal) - Ns(encode):F0} ns (see (d)).");

        // (b) Replay of the journal just written.
        Console.WriteLine();
        Console.WriteLine("## (b) Replay from the journal files (read, CRC check, decode, apply; from genesis)");
        Console.WriteLine();
        var segments = SegmentFiles.List(journalDir).Select(s => s.Path).ToList();
        long timedFrom = workload.Commands[workload.TimedStart].Sequence;
        int timedCount = workload.Commands.Length - workload.TimedStart;
        Console.WriteLine($"{workload.Commands.Length:N0} records from genesis ({(segments.Sum(p => new FileInfo(p).Length)) / 1e6:N0} MB in {segments.Count} segments); the timed part is the last {timedCount:N0}.");
        Console.WriteLine();
        Console.WriteLine("| replay | page cache | all records | rate, all | rate, timed part | gen0 GCs |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
        var replays = new List<(string Name, ReplayResult Result)>();
        foreach (var twoThreads in new[] { false, true })
        {
            foreach (var evict in new[] { false, true })
            {
                bool evicted = evict && PageCache.Evict(segments);
                var replay = Pipelines.Replay(journalDir, recover: false, sealRule: null, twoThreads, timedFrom);
                Check(workload, replay.StateHash, "replay");
                var name = twoThreads ? "reader thread decodes, engine thread applies" : "one thread: read, decode, apply";
                replays.Add((name, replay));
                Console.WriteLine($"| {name} | {(evict ? (evicted ? "evicted" : "eviction failed") : "warm")} | {replay.ReplaySeconds:F2} s | {M(replay.ReplayRate)} | **{M(timedCount / replay.TimedSeconds)}** | {replay.Gen0} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Live, timed part (median): journal off {M(off)}, durable with the journaller thread {M(pipelined)}, inline {M(inline)}. "
            + "Replay's 'all records' includes genesis and the warm-up and starts with cold JIT code; decoding allocates one command object per record.");
        DeleteDirectory(journalDir);

        // (d) Sealing.
        Console.WriteLine();
        Console.WriteLine("## (d) Block sealing");
        Console.WriteLine();
        PrintSealing(results, off, encode, seal, rule, $"default rule (1 s or {rule.MaxCommands:N0} commands)");
        var uncapped = new BlockRule(BlockSealer.DefaultIntervalMicros, int.MaxValue);
        var wide = Pipelines.Run(workload, Pipeline.Seal, journalDir, uncapped);
        Check(workload, wide.StateHash, "1 s seal pass");
        Console.WriteLine($"- 1 s blocks without the command cap (this workload stamps 1 command per µs, so ~1,000,000 commands a block): {wide.Blocks} blocks sealed in the timed part, "
            + $"{wide.SealSeconds * 1000 / Math.Max(1, wide.Blocks):F2} ms per block (max {wide.MaxSealMs:F2} ms); loop {M(wide.LoopRate)}");

        if (recoveryCommands > 0)
        {
            Recovery(options, recoveryCommands, work, rule);
        }
    }

    private static void PrintSealing(Dictionary<Pipeline, List<PassResult>> results, double off, double encode, double seal, BlockRule rule, string label)
    {
        var passes = results[Pipeline.Seal];
        var best = passes.OrderBy(p => p.LoopSeconds).ToList()[passes.Count / 2];
        double perBlockMs = best.SealSeconds * 1000 / Math.Max(1, best.Blocks);
        double processingPerBlockMs = rule.MaxCommands * Ns(off) / 1e6;
        double leafNs = (best.LoopSeconds * 1e9 / best.Commands) - Ns(encode) - (best.SealSeconds * 1e9 / best.Commands);
        Console.WriteLine($"- {label}: {best.Blocks:N0} blocks in the timed part (median pass); `Seal` (state tree update + commands root) **{perBlockMs:F2} ms per block** (max {best.MaxSealMs:F2} ms), "
            + $"against {processingPerBlockMs:F2} ms to apply the block's {rule.MaxCommands:N0} commands = **{Pct(perBlockMs / processingPerBlockMs)}**");
        Console.WriteLine($"- per command, outside `Seal`: the commands-root leaf hash (SHA-256 of the encoding) ≈ {leafNs:F0} ns = {Pct(leafNs / Ns(off))} of apply");
        Console.WriteLine($"- sealing in all: {Pct((Ns(seal) - Ns(encode)) / Ns(off))} of processing (seal pass {M(seal)} vs encode-only {M(encode)})");

        // Where Seal's time goes: the commands root alone over as many leaves, and one SHA-256 call.
        var leaves = new byte[rule.MaxCommands * 32];
        new Random(7).NextBytes(leaves);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        BlockSealer.CommandsRoot(leaves, sha);
        var timer = Stopwatch.StartNew();
        const int reps = 20;
        for (int i = 0; i < reps; i++)
        {
            BlockSealer.CommandsRoot(leaves, sha);
        }

        double rootMs = timer.Elapsed.TotalMilliseconds / reps;
        var message = new byte[61];
        var digest = new byte[32];
        const int calls = 200_000;
        timer.Restart();
        for (int i = 0; i < calls; i++)
        {
            System.Security.Cryptography.SHA256.HashData(message, digest);
        }

        double oneShotNs = timer.Elapsed.TotalNanoseconds / calls;
        timer.Restart();
        for (int i = 0; i < calls; i++)
        {
            sha.AppendData(message);
            sha.GetHashAndReset(digest);
        }

        double reusedNs = timer.Elapsed.TotalNanoseconds / calls;
        Console.WriteLine($"- of `Seal`'s {perBlockMs:F2} ms: commands root over {rule.MaxCommands:N0} leaf hashes {rootMs:F2} ms, so the state tree update (Core's `StateTree.Update`) ≈ {perBlockMs - rootMs:F2} ms");
        Console.WriteLine($"- one SHA-256 of 61 bytes on this machine: {oneShotNs:F0} ns with `SHA256.HashData`, {reusedNs:F0} ns with a reused `IncrementalHash` (the sealer's way): per-call cost, not bytes, dominates");
    }

    private static void Recovery(WorkloadOptions baseOptions, long total, string work, BlockRule rule)
    {
        Console.WriteLine();
        Console.WriteLine($"## (c) Recovery of a {total:N0}-command journal");
        Console.WriteLine();
        var options = baseOptions with { WarmupCommands = 0, Commands = (int)Math.Max(1, total - (2 * baseOptions.Accounts) - baseOptions.TargetOrders - 2) };
        var generation = Stopwatch.StartNew();
        var workload = new WorkloadGenerator(options).Generate();
        Console.WriteLine($"generated {workload.Commands.Length:N0} commands in {generation.Elapsed.TotalSeconds:F1} s");
        string journalDir = Path.Combine(work, "recovery");
        var written = Pipelines.Run(workload, Pipeline.Journal, journalDir, rule);
        Check(workload, written.StateHash, "10M journal pass");
        var segments = SegmentFiles.List(journalDir).Select(s => s.Path).ToList();
        long bytes = segments.Sum(p => new FileInfo(p).Length);
        Console.WriteLine($"- written through the journal pipeline: {written.Commands:N0} timed commands at {M(written.DurableRate)} durable ({written.Batches:N0} fsync batches); {segments.Count} segments, {bytes / 1e6:N0} MB");

        Console.WriteLine();
        Console.WriteLine("| recovery (validation scan of every segment, then replay from genesis) | page cache | scan | replay | total | rate |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var (pipelined, seal, evict) in new[] { (false, false, true), (false, false, false), (true, false, true), (true, false, false), (false, true, false), (true, true, false) })
        {
            bool evicted = evict && PageCache.Evict(segments);
            var result = Pipelines.Replay(journalDir, recover: true, sealRule: seal ? rule : null, pipelined);
            Check(workload, result.StateHash, "recovery");
            var name = (pipelined ? "reader thread + engine thread" : "one thread") + (seal ? $", re-sealing {result.Blocks:N0} blocks" : "");
            Console.WriteLine($"| {name} | {(evict ? (evicted ? "evicted" : "eviction failed") : "warm")} | {result.ScanSeconds:F2} s | {result.ReplaySeconds:F2} s | **{result.TotalSeconds:F2} s** | {M(result.Commands / result.TotalSeconds)} |");
        }

        // Snapshot at 90% of the stream, then recover from it plus the tail.
        long cut = workload.Commands[(int)(workload.Commands.Length * 0.9)].Sequence;
        var engine = new Engine();
        foreach (var command in workload.Commands)
        {
            if (command.Sequence > cut)
            {
                break;
            }

            engine.Apply(command);
        }

        var snapshots = new SnapshotStore(Path.Combine(work, "snapshots"));
        var snapshotTimer = Stopwatch.StartNew();
        byte[] state = EngineSnapshot.Write(engine);
        snapshots.Save(cut, state);
        snapshotTimer.Stop();
        var tail = Pipelines.SnapshotAndTail(journalDir, snapshots.Directory);
        Check(workload, tail.StateHash, "snapshot + tail recovery");
        Console.WriteLine($"| snapshot at sequence {cut:N0} ({state.Length / 1e6:F1} MB, written in {snapshotTimer.Elapsed.TotalMilliseconds:F0} ms) + tail of {tail.Commands:N0}, one thread | warm | {tail.ScanSeconds:F2} s (load + restore) | {tail.ReplaySeconds:F2} s | **{tail.TotalSeconds:F2} s** | |");
        DeleteDirectory(journalDir);
    }

    private static void Check(Workload workload, string hash, string what)
    {
        if (hash != workload.FinalStateHash)
        {
            throw new InvalidOperationException($"The {what} ended in state {hash}, not the generator's {workload.FinalStateHash}.");
        }
    }

    private static double Median(List<PassResult> passes, Func<PassResult, double> value)
    {
        var values = passes.Select(value).Order().ToList();
        return values[values.Count / 2];
    }

    private static string Name(Pipeline pipeline) => pipeline switch
    {
        Pipeline.Off => "journal off",
        Pipeline.Encode => "encode only",
        Pipeline.Journal => "journal on, inline",
        Pipeline.JournalPipelined => "journal on, journaller thread",
        Pipeline.Seal => "seal only",
        _ => "journal (journaller thread) + seal",
    };

    private static double Ns(double perSecond) => 1e9 / perSecond;

    private static string M(double perSecond) => $"{perSecond / 1e6:F2} M/s";

    private static string Pct(double fraction) => $"{fraction * 100:F1}%";

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string FileSystemOf(string path)
    {
        var full = Path.GetFullPath(path);
        var best = DriveInfo.GetDrives().Where(d => full.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
            .OrderByDescending(d => d.RootDirectory.FullName.Length).FirstOrDefault();
        return best is null ? "unknown file system" : $"{best.DriveFormat} on {best.RootDirectory.FullName}";
    }
}
