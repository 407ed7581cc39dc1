using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>Deribit's words and the conversions from the venue's types.</summary>
public static class DeribitWords
{
    public static string Direction(Side side) => side == Side.Buy ? "buy" : "sell";

    public static string OrderType(OrderType type) => type == Core.Matching.OrderType.Market ? "market" : "limit";

    public static string TimeInForce(TimeInForce timeInForce) => timeInForce switch
    {
        Core.Matching.TimeInForce.ImmediateOrCancel => "immediate_or_cancel",
        Core.Matching.TimeInForce.FillOrKill => "fill_or_kill",
        _ => "good_til_cancelled",
    };

    public static string State(TrackedOrderState state) => state switch
    {
        TrackedOrderState.Filled => "filled",
        TrackedOrderState.Cancelled => "cancelled",
        _ => "open",
    };

    /// <summary>
    /// Deribit's <c>cancel_reason</c> where it has a word for it (<c>user_request</c>,
    /// <c>autoliquidation</c>, <c>settlement</c>); otherwise a word in the same style for the
    /// venue's own reasons (an immediate-or-cancel remainder, self-trade prevention, a reduce-only
    /// order trimmed, the order's own expiry).
    /// </summary>
    public static string CancelReason(CancelReason reason) => reason switch
    {
        Core.Engine.CancelReason.UserRequested => "user_request",
        Core.Engine.CancelReason.Liquidation => "autoliquidation",
        Core.Engine.CancelReason.InstrumentExpired => "settlement",
        Core.Engine.CancelReason.SelfTradePrevention => "self_trade_prevention",
        Core.Engine.CancelReason.ImmediateOrCancelRemainder => "immediate_or_cancel",
        Core.Engine.CancelReason.ReduceOnlyTrimmed => "reduce_only",
        Core.Engine.CancelReason.OrderExpired => "order_expired",
        _ => "user_request",
    };

    public static long Millis(long micros) => micros / 1000;

    public static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static DeribitOrder Order(in OrderRecord order, InstrumentDirectory instruments) => new()
    {
        OrderId = Id(order.OrderId),
        InstrumentName = instruments.NameOf(order.InstrumentId),
        Direction = Direction(order.Side),
        OrderType = OrderType(order.Type),
        OrderState = State(order.State),
        Price = order.Price.ToDecimal(),
        Amount = order.Amount.ToDecimal(),
        FilledAmount = order.Filled.ToDecimal(),
        AveragePrice = order.AveragePrice,
        CreationTimestamp = Millis(order.CreatedMicros),
        LastUpdateTimestamp = Millis(order.UpdatedMicros),
        TimeInForce = TimeInForce(order.TimeInForce),
        PostOnly = (order.Flags & OrderFlags.PostOnly) != 0,
        ReduceOnly = (order.Flags & OrderFlags.ReduceOnly) != 0,
        Label = order.Label ?? string.Empty,
        Commission = order.Commission.ToDecimal(),
        IsLiquidation = order.IsLiquidation,
        Replaced = order.Replaced,
        MaxShow = order.Amount.ToDecimal(),
        CancelReason = order.State == TrackedOrderState.Cancelled ? CancelReason(order.CancelReason) : null,
    };

    public static DeribitUserTrade Trade(in TradeRecord trade, InstrumentDirectory instruments) => new()
    {
        TradeId = Id(trade.TradeId),
        TradeSeq = trade.TradeSeq,
        OrderId = Id(trade.OrderId),
        InstrumentName = instruments.NameOf(trade.InstrumentId),
        Direction = Direction(trade.Side),
        Price = trade.Price.ToDecimal(),
        Amount = trade.Amount.ToDecimal(),
        Fee = trade.Fee.ToDecimal(),
        Liquidity = trade.IsMaker ? "M" : "T",
        Timestamp = Millis(trade.TimestampMicros),
        IndexPrice = trade.IndexPrice.ToDecimal(),
        MarkPrice = trade.MarkPrice.ToDecimal(),
        OrderType = OrderType(trade.OrderType),
        State = trade.OrderFilled ? "filled" : "open",
        Label = trade.Label,
        PostOnly = (trade.Flags & OrderFlags.PostOnly) != 0,
        ReduceOnly = (trade.Flags & OrderFlags.ReduceOnly) != 0,
        Liquidation = trade.IsLiquidation ? "T" : null,
    };
}

/// <summary>
/// What an instrument name says about it, without asking the engine: the currency it is on (the
/// part before <c>_USDC</c>: <c>BTC</c>), its settlement currency (<c>USDC</c>) and its Deribit
/// kind (<c>option</c> when the name ends in <c>-C</c> or <c>-P</c>, else <c>future</c>).
/// </summary>
public readonly record struct InstrumentNameParts(string Currency, string Settlement, string Kind)
{
    public const string SettlementCurrency = "USDC";

    public static InstrumentNameParts Of(string name)
    {
        int dash = name.IndexOf('-', StringComparison.Ordinal);
        string head = dash < 0 ? name : name[..dash];
        int underscore = head.IndexOf('_', StringComparison.Ordinal);
        string currency = underscore < 0 ? head : head[..underscore];
        string settlement = underscore < 0 ? SettlementCurrency : head[(underscore + 1)..];
        bool option = name.EndsWith("-C", StringComparison.Ordinal) || name.EndsWith("-P", StringComparison.Ordinal);
        return new InstrumentNameParts(currency, settlement, option ? "option" : "future");
    }

    /// <summary>
    /// Whether the instrument is in a Deribit <c>currency</c> filter: <c>any</c>, its own currency
    /// (<c>BTC</c> matches <c>BTC_USDC-*</c>, which is what ccxt asks for when it has no symbol),
    /// or its settlement currency (<c>USDC</c> matches every linear instrument). Case-insensitive.
    /// </summary>
    public bool InCurrency(string currency) =>
        currency.Equals("any", StringComparison.OrdinalIgnoreCase)
        || currency.Equals(Currency, StringComparison.OrdinalIgnoreCase)
        || currency.Equals(Settlement, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the instrument is of a Deribit <c>kind</c> filter (<c>any</c>, <c>future</c>, <c>option</c>; null: any).</summary>
    public bool OfKind(string? kind) => kind is null || kind == "any" || kind == Kind;
}
