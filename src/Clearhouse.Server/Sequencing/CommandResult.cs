using Clearhouse.Core.Engine;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// What the engine did with one command: the sequence number and timestamp the sequencer stamped
/// on it, the outcome, and a copy of the events it produced (the engine's own buffer is reused by
/// the next command, so the sequencer copies it before completing the request).
/// </summary>
public sealed record CommandResult(long Sequence, long TimestampMicros, RejectReason Reason, EngineEvent[] Events)
{
    public bool IsAccepted => Reason == RejectReason.None;
}

/// <summary>The sequencer has stopped (the host is shutting down); the command was not applied.</summary>
public sealed class SequencerStoppedException() : InvalidOperationException("The engine is shutting down; the command was not applied.");
