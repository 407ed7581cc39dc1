using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Liquidation;

/// <summary>One position as the liquidated account held it when the step was decided, with its mark and, for an option, the inputs of its scenario grid.</summary>
public sealed record ProofPosition(
    int InstrumentId,
    InstrumentSpec Spec,
    Price Mark,
    Quantity Size,
    Money OpenCost,
    Quantity OpenBuyQuantity,
    Quantity OpenSellQuantity,
    Money OpenBuyNotional,
    Money OpenSellNotional,
    bool Isolated,
    Money IsolatedCash,
    Price OptionForward,
    long OptionMarkedMicros,
    double OptionVolatility);

/// <summary>An underlying's index when the step was decided.</summary>
public sealed record ProofUnderlying(int Id, string Name, Price Index);

/// <summary>
/// Everything needed to check one liquidation step without the venue's state: the account's
/// positions and collateral in scope before the step, the prices used, the equity and
/// maintenance the engine computed (and how: <see cref="Mode"/>), the position chosen, the step
/// size, the bankruptcy price, and for auto-deleveraging the ranking used.
/// <see cref="LiquidationVerifier"/> recomputes all of it.
/// </summary>
public sealed record LiquidationProof
{
    public long Sequence { get; init; }

    public long TimestampMicros { get; init; }

    public int AccountId { get; init; }

    /// <summary>0: the cross account; otherwise the isolated position's instrument.</summary>
    public int IsolatedInstrumentId { get; init; }

    public MarginMode Mode { get; init; }

    /// <summary>Cross cash (the account's cash less isolated collateral), or the isolated position's collateral.</summary>
    public Money Cash { get; init; }

    public IReadOnlyList<ProofPosition> Positions { get; init; } = [];

    public IReadOnlyList<ProofUnderlying> Underlyings { get; init; } = [];

    public Money Equity { get; init; }

    public Money Maintenance { get; init; }

    public Money Initial { get; init; }

    public int ChosenInstrumentId { get; init; }

    public Quantity Step { get; init; }

    public Price BankruptcyPrice { get; init; }

    public long FullCloseNotionalMicros { get; init; }

    public int StepPpm { get; init; }

    /// <summary>Filled when the step reached auto-deleveraging: the opposite positions in the order they were closed.</summary>
    public List<AdlCandidate> AdlRanking { get; init; } = [];
}
