namespace Clearhouse.Server.Durability;

/// <summary>
/// What the server found and did at start (logged, and served in <c>GET /api/status</c> as
/// <c>recovery</c>): which snapshot it restored, how much journal it replayed, what recovery cut
/// off, which block headers it checked or re-derived, and the state it reached —
/// <see cref="RecoveredSequence"/> with its state root and state hash, which anyone can reproduce
/// by replaying the journal up to that sequence.
/// </summary>
public sealed record StartupRecovery
{
    /// <summary>True when the journal is off (<c>--journal false</c>): nothing was recovered and nothing survives a restart.</summary>
    public bool InMemory { get; init; }

    /// <summary>The data directory, absolute; null in memory.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Sequence of the snapshot restored, or null when the replay started from genesis.</summary>
    public long? SnapshotSequence { get; init; }

    /// <summary>Snapshot files that were skipped (corrupt, or not at a stored block boundary), newest first.</summary>
    public string[] SnapshotWarnings { get; init; } = [];

    /// <summary>Valid records in the journal after recovery, and its first and last sequence (0 when empty).</summary>
    public long JournalRecords { get; init; }

    public long JournalFirstSequence { get; init; }

    public long JournalLastSequence { get; init; }

    /// <summary>Journal records applied on top of the snapshot (or genesis).</summary>
    public long RecordsReplayed { get; init; }

    /// <summary>How many of the replayed commands the engine rejected (as it did originally).</summary>
    public long ReplayedRejections { get; init; }

    /// <summary>The torn tail of the journal that recovery truncated (never acknowledged), or null.</summary>
    public string? JournalTornTail { get; init; }

    /// <summary>The torn tail of the block header log that recovery truncated, or null.</summary>
    public string? BlockLogTornTail { get; init; }

    /// <summary>Headers found in <c>blocks/blocks.log</c> (after its own recovery).</summary>
    public long BlocksStored { get; init; }

    /// <summary>Stored headers that the replay sealed again and found byte-for-byte equal.</summary>
    public long BlocksVerified { get; init; }

    /// <summary>Headers the replay sealed that the log lacked (lost in a crash before being written) and that were appended.</summary>
    public long BlocksRederived { get; init; }

    /// <summary>Height of the last sealed block after recovery; 0 when none.</summary>
    public long LastBlockHeight { get; init; }

    /// <summary>The last journaled sequence (accepted or rejected) after recovery: the state below is the state after it.</summary>
    public long RecoveredSequence { get; init; }

    /// <summary>The engine's last accepted sequence (≤ <see cref="RecoveredSequence"/>; less when the last commands were rejected).</summary>
    public long EngineSequence { get; init; }

    /// <summary>Hex state root at <see cref="RecoveredSequence"/>, computed from scratch.</summary>
    public string StateRoot { get; init; } = "";

    /// <summary>Hex state hash (SHA-256 of the canonical snapshot) at <see cref="RecoveredSequence"/>.</summary>
    public string StateHash { get; init; } = "";

    /// <summary>Wall time the whole recovery took, in milliseconds.</summary>
    public double ElapsedMillis { get; init; }

    /// <summary>Of which replaying the journal (decode, apply, seal), in milliseconds.</summary>
    public double ReplayMillis { get; init; }

    public override string ToString() =>
        InMemory
            ? "journal off (--journal false): fresh in-memory venue"
            : $"data {DataDirectory}; "
              + (SnapshotSequence is { } s ? $"snapshot at sequence {s}" : "no snapshot (replay from genesis)")
              + (SnapshotWarnings.Length > 0 ? $" ({SnapshotWarnings.Length} newer snapshot(s) skipped: {string.Join(" | ", SnapshotWarnings)})" : "")
              + $"; journal {JournalRecords} records ({JournalFirstSequence}..{JournalLastSequence}); replayed {RecordsReplayed} ({ReplayedRejections} rejected again) in {ReplayMillis:F0} ms"
              + $"; torn tail: {JournalTornTail ?? "none"}"
              + (BlockLogTornTail is { } b ? $"; block log torn tail: {b}" : "")
              + $"; blocks: {BlocksStored} stored, {BlocksVerified} verified by replay, {BlocksRederived} re-derived, last height {LastBlockHeight}"
              + $"; recovered sequence {RecoveredSequence}, state root {StateRoot}, state hash {StateHash}; took {ElapsedMillis:F0} ms";
}
