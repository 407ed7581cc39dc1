using Clearhouse.Journal.Blocks;

namespace Clearhouse.Cli.Replay;

/// <summary>
/// The block rule's parameters (see <see cref="BlockSealer"/>); they must be the server's for the
/// re-derived blocks to line up with the stored ones.
/// </summary>
public sealed record BlockRule(long IntervalMicros, int MaxCommands)
{
    public static BlockRule Default { get; } = new(BlockSealer.DefaultIntervalMicros, BlockSealer.DefaultMaxCommands);

    public BlockSealer CreateSealer() => new(IntervalMicros, MaxCommands);

    public override string ToString() => $"{IntervalMicros / 1000.0:0.###} ms or {MaxCommands:N0} commands";
}
