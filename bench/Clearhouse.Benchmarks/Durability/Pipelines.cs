using System.Buffers;
using System.Diagnostics;
using Clearhouse.Benchmarks.Throughput;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;

namespace Clearhouse.Benchmarks.Durability;

/// <summary>What the sequencer does per command in one timed pass.</summary>
public enum Pipeline
{
    /// <summary>Apply only: the journal off (the throughput run's loop).</summary>
    Off,

    /// <summary>Encode with <see cref="CommandCodec.TryEncode"/> into a reused buffer, then apply: the encoding's share of the journal's cost.</summary>
    Encode,

    /// <summary>On the engine thread: encode into the journal's buffer (<see cref="AppendInPlace"/>; group commit in the background), apply; then a final <see cref="JournalWriter.Flush"/>.</summary>
    Journal,

    /// <summary>Publish to the <see cref="Journaller"/> thread (which encodes and appends), apply; then a final flush.</summary>
    JournalPipelined,

    /// <summary>Encode, apply, <see cref="BlockSealer.Append"/> (leaf hash per command, state root per block); no journal.</summary>
    Seal,

    /// <summary>Everything: publish to the journaller, apply, encode and seal on the engine thread; then a final flush.</summary>
    JournalAndSeal,
}

/// <summary>One timed pass over the workload's timed part.</summary>
public sealed record PassResult(Pipeline Pipeline, int Commands, double LoopSeconds, double DurableSeconds, long DurableAtLoopEnd, long LastSequence,
    long Batches, long Bytes, int Blocks, double SealSeconds, double MaxSealMs, int Gen0, string StateHash)
{
    /// <summary>Commands per second through the loop (for journal pipelines: appended, not necessarily durable yet).</summary>
    public double LoopRate => Commands / LoopSeconds;

    /// <summary>Commands per second counting only those durable at the end (after the final flush); the loop rate without a journal.</summary>
    public double DurableRate => Commands / DurableSeconds;
}

/// <summary>The timed passes of the durability run; each starts from a fresh engine and (when journaled) an empty journal.</summary>
public static class Pipelines
{
    public static PassResult Run(Workload workload, Pipeline pipeline, string directory, BlockRule rule)
    {
        var journaled = pipeline is Pipeline.Journal or Pipeline.JournalPipelined or Pipeline.JournalAndSeal;
        var pipelined = pipeline is Pipeline.JournalPipelined or Pipeline.JournalAndSeal;
        var sealing = pipeline is Pipeline.Seal or Pipeline.JournalAndSeal;
        var encoding = pipeline is Pipeline.Encode or Pipeline.Journal or Pipeline.Seal or Pipeline.JournalAndSeal;
        var engine = new Engine();
        var sealer = new BlockSealer(rule.IntervalMicros, rule.MaxCommands);
        using var journal = journaled ? JournalWriter.Open(directory) : null;
        using var journaller = pipelined ? new Journaller(journal!) : null;
        var inlineJournal = pipelined ? null : journal;
        var buffer = new ArrayBufferWriter<byte>(256);
        var scratch = new byte[4096];
        var commands = workload.Commands;

        // Untimed: genesis, book fill and warm-up, through the same pipeline, so the journal holds
        // the whole history from genesis and the code is warm.
        for (int i = 0; i < workload.TimedStart; i++)
        {
            var command = commands[i];
            journaller?.Publish(command);
            if (encoding)
            {
                buffer.ResetWrittenCount();
                CommandCodec.Encode(command, buffer);
                if (inlineJournal is not null)
                {
                    AppendInPlace(inlineJournal, command);
                }
            }

            engine.Apply(command);
            if (sealing)
            {
                sealer.Append(command.Sequence, command.TimestampMicros, buffer.WrittenSpan, engine);
            }
        }

        if (journaller is not null)
        {
            journaller.Flush();
        }
        else
        {
            journal?.Flush();
        }

        long batchesBefore = journal?.BatchCount ?? 0;
        long bytesBefore = journal?.BytesWritten ?? 0;
        long blocksBefore = sealer.NextHeight;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        int gen0 = GC.CollectionCount(0);

        long sealTicks = 0;
        long maxSealTicks = 0;
        int start = workload.TimedStart;
        int end = commands.Length;
        long t0 = Stopwatch.GetTimestamp();
        switch (pipeline)
        {
            case Pipeline.Off:
                for (int i = start; i < end; i++)
                {
                    engine.Apply(commands[i]);
                }

                break;
            case Pipeline.Encode:
                for (int i = start; i < end; i++)
                {
                    var command = commands[i];
                    if (!CommandCodec.TryEncode(command, scratch, out _))
                    {
                        throw new InvalidOperationException("A command did not fit the scratch buffer.");
                    }

                    engine.Apply(command);
                }

                break;
            case Pipeline.Journal:
                for (int i = start; i < end; i++)
                {
                    var command = commands[i];
                    AppendInPlace(journal!, command);
                    engine.Apply(command);
                }

                break;
            case Pipeline.JournalPipelined:
                for (int i = start; i < end; i++)
                {
                    var command = commands[i];
                    journaller!.Publish(command);
                    engine.Apply(command);
                }

                break;
            default:
                for (int i = start; i < end; i++)
                {
                    var command = commands[i];
                    journaller?.Publish(command);
                    buffer.ResetWrittenCount();
                    CommandCodec.Encode(command, buffer);
                    engine.Apply(command);
                    if (sealer.Add(command.Sequence, command.TimestampMicros, buffer.WrittenSpan))
                    {
                        long s0 = Stopwatch.GetTimestamp();
                        sealer.Seal(engine);
                        long took = Stopwatch.GetTimestamp() - s0;
                        sealTicks += took;
                        maxSealTicks = Math.Max(maxSealTicks, took);
                    }
                }

                break;
        }

        long t1 = Stopwatch.GetTimestamp();
        long durableAtLoopEnd = journal?.DurableSequence ?? 0;
        if (journaller is not null)
        {
            journaller.Flush();
        }
        else
        {
            journal?.Flush();
        }

        long t2 = Stopwatch.GetTimestamp();
        int gens = GC.CollectionCount(0) - gen0;
        double f = Stopwatch.Frequency;
        if (journal is not null && journal.DurableSequence != commands[^1].Sequence)
        {
            throw new InvalidOperationException($"After the final flush the journal is durable to {journal.DurableSequence}, not {commands[^1].Sequence}.");
        }

        return new PassResult(pipeline, end - start, (t1 - t0) / f, (t2 - t0) / f, durableAtLoopEnd, commands[^1].Sequence,
            (journal?.BatchCount ?? 0) - batchesBefore, (journal?.BytesWritten ?? 0) - bytesBefore,
            (int)(sealer.NextHeight - blocksBefore), sealTicks / f, maxSealTicks * 1000 / f, gens, engine.ComputeStateHashHex());
    }

    /// <summary>
    /// The engine thread's journal append: encodes the command straight into the journal's buffer
    /// (<see cref="JournalWriter.BeginAppend"/>, <see cref="CommandCodec.TryEncode"/>,
    /// <see cref="JournalWriter.CommitAppend"/>): no copy, no allocation, no lock.
    /// </summary>
    public static void AppendInPlace(JournalWriter journal, Command command)
    {
        var span = journal.BeginAppend(256);
        if (!CommandCodec.TryEncode(command, span, out int written))
        {
            journal.Append(command.Sequence, CommandCodec.Encode(command));
            return;
        }

        journal.CommitAppend(command.Sequence, written);
    }

    /// <summary>
    /// Reads the journal from genesis, decodes and applies every record (optionally re-sealing
    /// blocks); a validation scan first when <paramref name="recover"/>. With <paramref name="pipelined"/>
    /// a reader thread reads and decodes into a <see cref="CommandRing"/> and the calling thread only
    /// applies (and seals). <paramref name="timedFromSequence"/> marks where the timed part starts,
    /// to report its rate separately.
    /// </summary>
    public static ReplayResult Replay(string directory, bool recover, BlockRule? sealRule, bool pipelined = false, long timedFromSequence = long.MaxValue)
    {
        long t0 = Stopwatch.GetTimestamp();
        RecoveryReport? report = recover ? JournalReader.Recover(directory) : null;
        long t1 = Stopwatch.GetTimestamp();
        var engine = new Engine();
        var sealer = sealRule is null ? null : new BlockSealer(sealRule.IntervalMicros, sealRule.MaxCommands);
        var encoded = new ArrayBufferWriter<byte>(256);
        long count = 0;
        long timedStart = 0;
        int gen0 = GC.CollectionCount(0);
        if (pipelined)
        {
            var ring = new CommandRing();
            var reader = new Thread(() =>
            {
                foreach (var record in JournalReader.Read(directory))
                {
                    ring.Publish(CommandCodec.Decode(record.Payload));
                }

                ring.Complete();
            })
            { IsBackground = true, Name = "journal-reader" };
            reader.Start();
            ring.Consume(command =>
            {
                if (command.Sequence == timedFromSequence)
                {
                    timedStart = Stopwatch.GetTimestamp();
                }

                engine.Apply(command);
                if (sealer is not null)
                {
                    // The reader thread decoded; the sealer needs the bytes again (a real pipeline would pass them along).
                    encoded.ResetWrittenCount();
                    CommandCodec.Encode(command, encoded);
                    sealer.Append(command.Sequence, command.TimestampMicros, encoded.WrittenSpan, engine);
                }

                count++;
            });
            reader.Join();
        }
        else
        {
            foreach (var record in JournalReader.Read(directory))
            {
                if (record.Sequence == timedFromSequence)
                {
                    timedStart = Stopwatch.GetTimestamp();
                }

                var command = CommandCodec.Decode(record.Payload);
                engine.Apply(command);
                sealer?.Append(record.Sequence, command.TimestampMicros, record.Payload, engine);
                count++;
            }
        }

        long t2 = Stopwatch.GetTimestamp();
        double f = Stopwatch.Frequency;
        double timedSeconds = timedStart == 0 ? 0 : (t2 - timedStart) / f;
        return new ReplayResult(count, (t1 - t0) / f, (t2 - t1) / f, report?.ByteCount ?? 0, (int)((sealer?.NextHeight ?? 1) - 1),
            GC.CollectionCount(0) - gen0, engine.ComputeStateHashHex(), engine, timedSeconds);
    }

    /// <summary>Snapshot + tail: read the newest snapshot, restore the engine, replay the journal after it.</summary>
    public static ReplayResult SnapshotAndTail(string journalDirectory, string snapshotDirectory)
    {
        long t0 = Stopwatch.GetTimestamp();
        var store = new Clearhouse.Journal.Snapshots.SnapshotStore(snapshotDirectory);
        if (!store.TryLoadLatest(out long sequence, out byte[] state))
        {
            throw new InvalidOperationException("No snapshot to recover from.");
        }

        var engine = EngineSnapshot.Read(state);
        long t1 = Stopwatch.GetTimestamp();
        long count = 0;
        foreach (var record in JournalReader.Read(journalDirectory, sequence + 1))
        {
            engine.Apply(CommandCodec.Decode(record.Payload));
            count++;
        }

        long t2 = Stopwatch.GetTimestamp();
        double f = Stopwatch.Frequency;
        return new ReplayResult(count, (t1 - t0) / f, (t2 - t1) / f, state.Length, 0, 0, engine.ComputeStateHashHex(), engine);
    }
}

/// <summary>A replay: records read, seconds in the validation scan (or snapshot load) and in decode + apply.</summary>
public sealed record ReplayResult(long Commands, double ScanSeconds, double ReplaySeconds, long Bytes, int Blocks, int Gen0, string StateHash, Engine Engine, double TimedSeconds = 0)
{
    public double TotalSeconds => ScanSeconds + ReplaySeconds;

    public double ReplayRate => Commands / ReplaySeconds;
}

/// <summary>Block rule parameters for a pass.</summary>
public sealed record BlockRule(long IntervalMicros, int MaxCommands);
