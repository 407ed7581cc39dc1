using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>Where an order stands, in Deribit's words (<see cref="DeribitWords.State"/>).</summary>
public enum TrackedOrderState : byte
{
    Open,
    Filled,
    Cancelled,
}

/// <summary>
/// What the gateway knows of one order: the engine's facts (from its events) plus what only the
/// request carried — order type, time in force, flags, the Deribit label. A plain struct, copied
/// out under the account's lock, so readers never see one half-updated.
/// </summary>
public struct OrderRecord
{
    public long OrderId;
    public int AccountId;
    public int InstrumentId;
    public Side Side;
    public OrderType Type;
    public TimeInForce TimeInForce;
    public OrderFlags Flags;
    public string? Label;
    public Price Price;

    /// <summary>Total amount, filled part included.</summary>
    public Quantity Amount;

    /// <summary>Still open (for a cancelled order: what was cancelled).</summary>
    public Quantity Remaining;

    /// <summary>Σ fill price (micros) × fill amount (units), for the average price.</summary>
    public Int128 FilledNotional;

    /// <summary>Fill amount whose prices are known (an order seeded from the engine after a restart has an earlier filled part with unknown prices).</summary>
    public Quantity PricedFill;

    public Money Commission;
    public long CreatedMicros;
    public long UpdatedMicros;
    public TrackedOrderState State;
    public CancelReason CancelReason;
    public bool IsLiquidation;
    public bool Replaced;

    public readonly Quantity Filled => Amount - Remaining;

    public readonly decimal AveragePrice => PricedFill.IsPositive
        ? decimal.Round((decimal)FilledNotional / PricedFill.Units / Price.Scale, 8, MidpointRounding.ToEven)
        : 0m;
}

/// <summary>One fill of one account's order: the account's side of a <see cref="EventKind.TradeExecuted"/> event.</summary>
public struct TradeRecord
{
    public long TradeId;

    /// <summary>The instrument's trades numbered from 1, as the public tape numbers them (Deribit's <c>trade_seq</c>).</summary>
    public long TradeSeq;
    public long OrderId;
    public int InstrumentId;
    public Side Side;
    public Price Price;
    public Quantity Amount;
    public Money Fee;
    public bool IsMaker;
    public bool IsLiquidation;
    public long TimestampMicros;
    public Price IndexPrice;
    public Price MarkPrice;
    public OrderType OrderType;
    public OrderFlags Flags;
    public string? Label;

    /// <summary>The order filled completely with this trade.</summary>
    public bool OrderFilled;
}
