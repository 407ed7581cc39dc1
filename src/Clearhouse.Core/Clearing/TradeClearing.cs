using Clearhouse.Core.Accounts;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Clearing;

/// <summary>
/// Position accounting for one side of a fill. Cash moves in the ledger; this keeps the cost
/// basis and realized PnL that explain it.
/// </summary>
public static class TradeClearing
{
    /// <summary>
    /// Applies a signed fill of <paramref name="delta"/> for which the account paid
    /// <paramref name="cashPaid"/> (negative when it received cash) and returns the PnL realized.
    /// Reducing releases the cost basis pro rata, rounded up, so realized PnL rounds against the
    /// account; the rounding only moves value between realized and unrealized, never creates it.
    /// A flip closes the whole position and opens the rest at the same price.
    /// </summary>
    public static Money ApplyFill(ref Position position, Quantity delta, Money cashPaid)
    {
        long size = position.Size.Units;
        if (size == 0 || Math.Sign(size) == delta.Sign)
        {
            position.Size += delta;
            position.OpenCost += cashPaid;
            return Money.Zero;
        }

        long closing = Math.Min(Math.Abs(delta.Units), Math.Abs(size));
        Money realized;
        if (closing == Math.Abs(delta.Units))
        {
            var released = new Money(FixedMath.MulDiv(position.OpenCost.Micros, closing, Math.Abs(size), Rounding.Ceiling));
            realized = -cashPaid - released;
            position.OpenCost -= released;
            position.Size += delta;
        }
        else
        {
            var closeCash = new Money(FixedMath.MulDiv(cashPaid.Micros, closing, Math.Abs(delta.Units), Rounding.Ceiling));
            realized = -closeCash - position.OpenCost;
            position.Size += delta;
            position.OpenCost = cashPaid - closeCash;
        }

        position.RealizedPnl += realized;
        return realized;
    }
}
