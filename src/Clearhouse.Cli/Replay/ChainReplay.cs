using System.Diagnostics;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Cli.Replay;

/// <summary>What a replay should do besides replaying.</summary>
public sealed class ReplayOptions
{
    public BlockRule Rule { get; init; } = BlockRule.Default;

    /// <summary>Compare each re-derived block with the stored header of the same height and stop at the first difference.</summary>
    public bool CompareWithStored { get; init; } = true;

    /// <summary>Stop right after sealing the block of this height.</summary>
    public long StopAfterHeight { get; init; } = long.MaxValue;

    /// <summary>Where progress lines go (null: none).</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>A progress line every this many blocks (0: none).</summary>
    public int ProgressEveryBlocks { get; init; } = 1000;

    /// <summary>Called after each block is sealed (and found equal to its stored header, when compared).</summary>
    public Action<BlockHeader, BlockSealer>? OnSealed { get; init; }
}

/// <summary>What a replay found.</summary>
public sealed class ReplayReport
{
    public required CoreEngine Engine { get; init; }

    public required BlockSealer Sealer { get; init; }

    public required IReadOnlyList<BlockHeader> Stored { get; init; }

    public long Commands { get; set; }

    public long FirstSequence { get; set; }

    public long LastSequence { get; set; }

    /// <summary>Re-derived blocks equal to their stored headers.</summary>
    public long BlocksMatched { get; set; }

    /// <summary>Re-derived blocks beyond the last stored header (not stored yet, or not compared).</summary>
    public long BlocksDerivedOnly { get; set; }

    public BlockHeader? LastDerived { get; set; }

    /// <summary>The first disagreement between journal and stored headers; null when there is none.</summary>
    public string? Mismatch { get; set; }

    public long MismatchHeight { get; set; }

    public string? JournalTornTail { get; set; }

    public string? BlocksTornTail { get; set; }

    public bool StoppedEarly { get; set; }

    public TimeSpan Elapsed { get; set; }

    public double CommandsPerSecond => Elapsed.TotalSeconds > 0 ? Commands / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Replays a venue's journal from genesis into a fresh engine (<see cref="EngineConfig.Default"/>),
/// re-seals its blocks with the shared <see cref="BlockSealer"/> rule and compares each with the
/// stored header of the same height: the core of <c>verify</c>, <c>prove</c> and <c>replay</c>.
/// Reads only; a running server's files can be checked while it appends.
/// </summary>
public static class ChainReplay
{
    public static ReplayReport Run(VenueData data, ReplayOptions options)
    {
        var stored = data.ReadStoredHeaders(out var blocksTail);
        var parts = data.ValidateJournal(out var journalTail);
        var sealer = options.Rule.CreateSealer();
        var report = new ReplayReport
        {
            Engine = new CoreEngine(EngineConfig.Default),
            Sealer = sealer,
            Stored = stored,
            JournalTornTail = journalTail,
            BlocksTornTail = blocksTail,
        };

        var clock = Stopwatch.StartNew();
        var lastProgress = 0L;
        long from = 1;
        foreach (var (directory, last) in parts)
        {
            if (last < from)
            {
                continue;
            }

            using var cursor = JournalReader.Read(directory, from, last);
            while (cursor.MoveNext())
            {
                if (!Apply(report, cursor.Sequence, cursor.Payload, options))
                {
                    report.Elapsed = clock.Elapsed;
                    return report;
                }

                if (options.Progress is { } progress && options.ProgressEveryBlocks > 0
                    && sealer.NextHeight - 1 - lastProgress >= options.ProgressEveryBlocks)
                {
                    lastProgress = sealer.NextHeight - 1;
                    progress.WriteLine($"  block {lastProgress,10:N0}  sequence {report.LastSequence,14:N0}  {report.Commands / clock.Elapsed.TotalSeconds,12:N0} commands/s  {clock.Elapsed.TotalSeconds,7:0.0} s");
                }
            }

            from = last + 1;
        }

        report.Elapsed = clock.Elapsed;
        var sealedCount = sealer.LastSealed?.Height ?? 0;
        if (options.CompareWithStored && stored.Count > sealedCount && report.Mismatch is null)
        {
            var missing = stored[(int)sealedCount];
            var open = sealer.PendingCount > 0
                ? $"an open block of {sealer.PendingCount:N0} commands from sequence {sealer.PendingFirstSequence:N0}"
                : "no open block";
            report.MismatchHeight = missing.Height;
            report.Mismatch = missing.LastSequence > report.LastSequence
                ? $"block {missing.Height} is stored for sequences {missing.FirstSequence:N0}..{missing.LastSequence:N0}, but the journal ends at sequence {report.LastSequence:N0}: commands the venue sealed are missing from the journal."
                : $"block {missing.Height} is stored for sequences {missing.FirstSequence:N0}..{missing.LastSequence:N0}, but the journal (ending at {report.LastSequence:N0}, with {open}) never seals it: is the block rule {options.Rule} the server's?";
        }

        return report;
    }

    /// <summary>Applies one record and seals when the rule fires; false to stop (mismatch or the stop height).</summary>
    private static bool Apply(ReplayReport report, long sequence, ReadOnlySpan<byte> payload, ReplayOptions options)
    {
        var sealer = report.Sealer;
        Command command;
        try
        {
            command = CommandCodec.Decode(payload);
        }
        catch (FormatException error)
        {
            return Fail(report, sealer.NextHeight, $"block {sealer.NextHeight}: the journal record of sequence {sequence:N0} does not decode as a command ({error.Message})");
        }

        if (command.Sequence != sequence)
        {
            return Fail(report, sealer.NextHeight, $"block {sealer.NextHeight}: the journal record of sequence {sequence:N0} holds a command stamped {command.Sequence:N0}");
        }

        report.Engine.Apply(command);
        report.Commands++;
        if (report.FirstSequence == 0)
        {
            report.FirstSequence = sequence;
        }

        report.LastSequence = sequence;
        var header = sealer.Append(sequence, command.TimestampMicros, payload, report.Engine);
        if (header is null)
        {
            return true;
        }

        report.LastDerived = header;
        if (options.CompareWithStored && header.Height <= report.Stored.Count)
        {
            if (Difference(report.Stored[(int)header.Height - 1], header) is { } difference)
            {
                return Fail(report, header.Height, difference);
            }

            report.BlocksMatched++;
        }
        else
        {
            report.BlocksDerivedOnly++;
        }

        options.OnSealed?.Invoke(header, sealer);
        if (header.Height >= options.StopAfterHeight)
        {
            report.StoppedEarly = true;
            return false;
        }

        return true;
    }

    private static bool Fail(ReplayReport report, long height, string message)
    {
        report.MismatchHeight = height;
        report.Mismatch = message;
        return false;
    }

    /// <summary>Names every field in which the stored header differs from the re-derived one; null when they are equal.</summary>
    public static string? Difference(BlockHeader stored, BlockHeader derived)
    {
        if (stored.Encode().AsSpan().SequenceEqual(derived.Encode()))
        {
            return null;
        }

        var fields = new List<string>();
        if (stored.FirstSequence != derived.FirstSequence || stored.LastSequence != derived.LastSequence || stored.CommandCount != derived.CommandCount)
        {
            fields.Add($"sequences stored {stored.FirstSequence:N0}..{stored.LastSequence:N0} ({stored.CommandCount:N0} commands), derived {derived.FirstSequence:N0}..{derived.LastSequence:N0} ({derived.CommandCount:N0})");
        }

        Compare(fields, "previous hash", stored.PreviousHash, derived.PreviousHash);
        Compare(fields, "commands root", stored.CommandsRoot, derived.CommandsRoot);
        Compare(fields, "state root", stored.StateRoot, derived.StateRoot);
        if (stored.TimestampMicros != derived.TimestampMicros)
        {
            fields.Add($"timestamp stored {stored.TimestampMicros}, derived {derived.TimestampMicros}");
        }

        return $"block {derived.Height} (sequences {derived.FirstSequence:N0}..{derived.LastSequence:N0}) does not match its stored header: {string.Join("; ", fields)}";
    }

    private static void Compare(List<string> fields, string name, byte[] stored, byte[] derived)
    {
        if (!stored.AsSpan().SequenceEqual(derived))
        {
            fields.Add($"{name} stored {Hex(stored)}, derived {Hex(derived)}");
        }
    }

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
