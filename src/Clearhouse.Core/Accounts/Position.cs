using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Accounts;

/// <summary>
/// An account's exposure in one instrument: the position itself and the aggregates of its open
/// orders that margin needs, kept up to date incrementally so that a margin check never walks
/// the book.
/// </summary>
public struct Position
{
    /// <summary>Signed size: positive long, negative short.</summary>
    public Quantity Size;

    /// <summary>
    /// Cash paid to open the current position (negative for a short: cash received). The average
    /// entry price is <c>OpenCost / Size</c>; unrealized PnL is <c>Size × mark − OpenCost</c>.
    /// </summary>
    public Money OpenCost;

    /// <summary>Profit and loss realized by reducing or flipping this position, fees excluded.</summary>
    public Money RealizedPnl;

    /// <summary>Open amount of this account's resting buy orders.</summary>
    public Quantity OpenBuyQuantity;

    /// <summary>Open amount of resting sell orders.</summary>
    public Quantity OpenSellQuantity;

    /// <summary>Σ price × open amount of resting buys, rounded up per order.</summary>
    public Money OpenBuyNotional;

    /// <summary>Σ price × open amount of resting sells, rounded down per order.</summary>
    public Money OpenSellNotional;

    public int OpenOrderCount;

    /// <summary>Open amount of resting reduce-only orders; never more than <c>|Size|</c> after a command.</summary>
    public Quantity ReduceOnlyOpenQuantity;

    /// <summary>Isolated margin: the position has its own collateral (<see cref="IsolatedCash"/>) and its losses cannot reach the rest of the account.</summary>
    public bool Isolated;

    /// <summary>
    /// The part of the account's cash that belongs to this isolated position: what was moved in,
    /// plus the cash of its fills, fees and funding. Zero for cross positions; swept back to the
    /// cross balance when the position is flat and has no orders.
    /// </summary>
    public Money IsolatedCash;

    /// <summary>
    /// Every field is zero: the position was never touched or is back to nothing, and snapshots and
    /// state leaves leave it out. The same test as <c>Equals(default(Position))</c>, which on this
    /// struct (it has padding) falls back to comparing field by field through reflection, boxing and
    /// allocating on every call; a field added here must be added to this test too
    /// (<c>PositionTests</c> checks each one).
    /// </summary>
    public readonly bool IsEmpty =>
        Size.IsZero && OpenCost.IsZero && RealizedPnl.IsZero
        && OpenBuyQuantity.IsZero && OpenSellQuantity.IsZero && OpenBuyNotional.IsZero && OpenSellNotional.IsZero
        && OpenOrderCount == 0 && ReduceOnlyOpenQuantity.IsZero && !Isolated && IsolatedCash.IsZero;

    public readonly bool IsFlatAndIdle => Size.IsZero && OpenOrderCount == 0 && OpenCost.IsZero && IsolatedCash.IsZero;

    /// <summary>Average entry price, rounded toward zero for display; zero when flat.</summary>
    public readonly Price AverageEntryPrice =>
        Size.IsZero ? Price.Zero : new Price(FixedMath.MulDiv(Math.Abs(OpenCost.Micros), Quantity.Scale, Math.Abs(Size.Units), Rounding.Floor));
}
