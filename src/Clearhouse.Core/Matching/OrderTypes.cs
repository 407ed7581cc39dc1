using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Matching;

public enum Side : byte
{
    Buy = 1,
    Sell = 2,
}

public enum OrderType : byte
{
    /// <summary>A limit order; how long it lives is its <see cref="TimeInForce"/>.</summary>
    Limit = 1,

    /// <summary>
    /// Takes liquidity immediately, never rests, and never fills beyond the instrument's market
    /// protection band around the mark price (so it cannot sweep a thin book to absurd prices).
    /// </summary>
    Market = 2,
}

public enum TimeInForce : byte
{
    GoodTilCancelled = 1,
    ImmediateOrCancel = 2,
    FillOrKill = 3,
}

/// <summary>What happens when an order would trade with another order of the same account.</summary>
public enum SelfTradePrevention : byte
{
    /// <summary>Default: the resting order is cancelled and the incoming order keeps matching.</summary>
    CancelResting = 0,

    /// <summary>The incoming order's remainder is cancelled; the resting order stays.</summary>
    CancelIncoming = 1,
}

[Flags]
public enum OrderFlags : byte
{
    None = 0,
    PostOnly = 1,
    ReduceOnly = 2,
}

public static class SideExtensions
{
    public static Side Opposite(this Side side) => side == Side.Buy ? Side.Sell : Side.Buy;

    /// <summary>+1 for buy, −1 for sell: the sign a fill of this side adds to a position.</summary>
    public static int Sign(this Side side) => side == Side.Buy ? 1 : -1;
}

/// <summary>An order resting in a book, as the book stores and reports it.</summary>
public struct RestingOrder
{
    public long OrderId;
    public int AccountId;
    public Side Side;
    public OrderFlags Flags;
    public Price Price;

    /// <summary>Total amount of the order, filled part included.</summary>
    public Quantity Amount;

    /// <summary>What is still open.</summary>
    public Quantity Remaining;

    public long CreatedMicros;
    public long UpdatedMicros;

    /// <summary>Client's own id, unique per account among open orders; null when none was given.</summary>
    public string? ClientOrderId;

    public readonly Quantity Filled => Amount - Remaining;

    public readonly bool IsReduceOnly => (Flags & OrderFlags.ReduceOnly) != 0;
}

/// <summary>One aggregated price level of a book side.</summary>
public readonly record struct BookLevel(Price Price, Quantity Quantity, int OrderCount);
