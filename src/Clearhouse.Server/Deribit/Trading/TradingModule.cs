using System.Collections.Frozen;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>
/// Order entry and order queries (docs/api.md): <c>private/buy</c>, <c>sell</c>,
/// <c>edit</c>, <c>cancel</c>, <c>cancel_all*</c>, <c>get_open_orders_*</c>,
/// <c>get_order_state</c>, <c>get_order_history_*</c>, <c>get_user_trades_*</c>. Every handler
/// reads and checks all its parameters first, then submits synchronously (so one WebSocket's
/// orders reach the engine in the order sent), and answers from the command's own events
/// (<c>private/buy</c> makes no second trip to the engine) or from the <see cref="OrderTracker"/>.
/// Amounts are in units of the underlying, as for Deribit's linear USDC contracts.
/// </summary>
public sealed class TradingModule(Sequencer sequencer, OrderTracker tracker) : IRpcModule
{
    public const int DefaultTradeCount = 10;
    public const int MaxTradeCount = 1_000;
    public const int DefaultHistoryCount = 20;

    private static readonly FrozenDictionary<string, TimeInForce> TimesInForce = new Dictionary<string, TimeInForce>
    {
        ["good_til_cancelled"] = TimeInForce.GoodTilCancelled,
        ["immediate_or_cancel"] = TimeInForce.ImmediateOrCancel,
        ["fill_or_kill"] = TimeInForce.FillOrKill,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenSet<string> TriggerOrderTypes = new[]
    {
        "stop_limit", "stop_market", "take_limit", "take_market", "market_limit", "trailing_stop",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The <c>type</c> filters of <c>get_open_orders_*</c>; only <c>all</c> and <c>limit</c> can match (the venue has no trigger orders).</summary>
    private static readonly FrozenSet<string> OpenOrderTypeFilters = new[]
    {
        "all", "limit", "trigger_all", "stop_all", "stop_limit", "stop_market", "take_all", "take_limit", "take_market", "trailing_all", "trailing_stop",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> Kinds = new[] { "future", "option", "spot", "future_combo", "option_combo", "combo", "any" }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, bool> Sortings = new Dictionary<string, bool>
    {
        ["asc"] = false,
        ["desc"] = true,
        ["default"] = true,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private InstrumentDirectory Instruments => sequencer.Instruments;

    public IEnumerable<RpcMethod> Methods() =>
    [
        new("private/buy", ApiScopes.Trade, RateClass.Trading, (c, p) => Place(c, p, Side.Buy)),
        new("private/sell", ApiScopes.Trade, RateClass.Trading, (c, p) => Place(c, p, Side.Sell)),
        new("private/edit", ApiScopes.Trade, RateClass.Trading, Edit),
        new("private/cancel", ApiScopes.Trade, RateClass.Trading, Cancel),
        new("private/cancel_all", ApiScopes.Trade, RateClass.Trading, CancelAll),
        new("private/cancel_all_by_instrument", ApiScopes.Trade, RateClass.Trading, CancelAllByInstrument),
        new("private/cancel_all_by_currency", ApiScopes.Trade, RateClass.Trading, CancelAllByCurrency),
        new("private/get_open_orders_by_currency", ApiScopes.Read, RateClass.Trading, OpenOrdersByCurrency),
        new("private/get_open_orders_by_instrument", ApiScopes.Read, RateClass.Trading, OpenOrdersByInstrument),
        new("private/get_order_state", ApiScopes.Read, RateClass.Trading, OrderState),
        new("private/get_order_history_by_instrument", ApiScopes.Read, RateClass.Trading, OrderHistoryByInstrument),
        new("private/get_order_history_by_currency", ApiScopes.Read, RateClass.Trading, OrderHistoryByCurrency),
        new("private/get_user_trades_by_instrument", ApiScopes.Read, RateClass.Trading, TradesByInstrument),
        new("private/get_user_trades_by_currency", ApiScopes.Read, RateClass.Trading, TradesByCurrency),
        new("private/get_user_trades_by_order", ApiScopes.Read, RateClass.Trading, TradesByOrder),
    ];

    // ---------------------------------------------------------------- order entry

    /// <summary><c>private/buy</c> and <c>private/sell</c>: the benchmark path. No LINQ, one command, the answer from its events.</summary>
    private ValueTask<object?> Place(RpcContext context, RpcParams p, Side side)
    {
        int accountId = context.Caller.AccountId;
        string name = p.String("instrument_name", required: true, maxLength: 64)!;
        var amount = p.Amount("amount", required: true)!.Value;
        string type = p.String("type", maxLength: 32) ?? "limit";
        OrderType orderType;
        if (type == "limit")
        {
            orderType = OrderType.Limit;
        }
        else if (type == "market")
        {
            orderType = OrderType.Market;
        }
        else if (TriggerOrderTypes.Contains(type))
        {
            throw NotImplemented("type", $"Trigger orders ('{type}') are not supported: only limit and market orders.");
        }
        else
        {
            throw RpcError.InvalidParams("type", $"'type' must be limit or market; not '{type}'.").ToException();
        }

        var price = orderType == OrderType.Limit ? p.Price("price", required: true)!.Value : p.Price("price") ?? Price.Zero;
        var timeInForce = p.Choice("time_in_force", TimesInForce) ?? TimeInForce.GoodTilCancelled;
        if (orderType == OrderType.Market && timeInForce == TimeInForce.GoodTilCancelled)
        {
            // A market order never rests: what it cannot fill at once is cancelled, as on Deribit.
            timeInForce = TimeInForce.ImmediateOrCancel;
        }

        bool postOnly = p.Bool("post_only") ?? false;
        _ = p.Bool("reject_post_only"); // a post-only order that would take is always rejected here (11054)
        bool reduceOnly = p.Bool("reduce_only") ?? false;
        string? label = p.String("label", maxLength: 64);
        RefuseUnsupported(p);
        if (p.Decimal("max_show") is { } maxShow && maxShow != amount.ToDecimal())
        {
            throw NotImplemented("max_show", "Iceberg orders are not supported: leave 'max_show' out or equal to 'amount'.");
        }

        if (!Instruments.TryGetId(name, out int instrumentId))
        {
            throw RpcError.UnknownInstrument(name).ToException();
        }

        var flags = (postOnly ? OrderFlags.PostOnly : OrderFlags.None) | (reduceOnly ? OrderFlags.ReduceOnly : OrderFlags.None);
        var command = new PlaceOrder(accountId, instrumentId, side, orderType, timeInForce, price, amount, flags);
        if (string.IsNullOrEmpty(label))
        {
            return Placed(sequencer.SubmitAsync(command), command, null);
        }

        tracker.ExpectLabel(command, label);
        return Labelled(sequencer.SubmitAsync(command), command, label);
    }

    private async ValueTask<object?> Labelled(Task<CommandResult> pending, PlaceOrder command, string label)
    {
        try
        {
            return await Placed(pending, command, label).ConfigureAwait(false);
        }
        finally
        {
            tracker.ForgetLabel(command);
        }
    }

    private async ValueTask<object?> Placed(Task<CommandResult> pending, PlaceOrder command, string? label)
    {
        var result = await pending.ConfigureAwait(false);
        if (!result.IsAccepted)
        {
            throw TradingErrors.From(result.Reason).ToException();
        }

        return PlacedOrder(result, command, label);
    }

    /// <summary>The order a <see cref="PlaceOrder"/> created, as it stood when the command was done, and its fills — all from the command's events.</summary>
    private DeribitOrderResult PlacedOrder(CommandResult result, PlaceOrder command, string? label)
    {
        var events = result.Events;
        var order = default(OrderRecord);
        int accepted = -1;
        for (int i = 0; i < events.Length; i++)
        {
            ref readonly var e = ref events[i];
            if (e.Kind == EventKind.OrderAccepted && e.AccountId == command.AccountId && e.InstrumentId == command.InstrumentId)
            {
                accepted = i;
                order = new OrderRecord
                {
                    OrderId = e.OrderId,
                    AccountId = e.AccountId,
                    InstrumentId = e.InstrumentId,
                    Side = e.Side,
                    Type = command.Type,
                    TimeInForce = command.TimeInForce,
                    Flags = command.Flags,
                    Label = label,
                    Price = e.Price,
                    Amount = e.Quantity,
                    Remaining = e.Remaining,
                    CreatedMicros = e.TimestampMicros,
                    UpdatedMicros = e.TimestampMicros,
                    State = TrackedOrderState.Open,
                };
                break;
            }
        }

        if (accepted < 0)
        {
            throw RpcError.Internal("The engine accepted the order but reported no order for it.").ToException();
        }

        var trades = ApplyEvents(ref order, events, accepted + 1);
        return new DeribitOrderResult(DeribitWords.Order(order, Instruments), trades);
    }

    /// <summary>
    /// Brings <paramref name="order"/> up to date with the events from <paramref name="start"/> on
    /// and returns its fills in this command, taken from the tracker where it has them (with the
    /// index and mark at the fill) and from the event otherwise.
    /// </summary>
    private DeribitUserTrade[] ApplyEvents(ref OrderRecord order, EngineEvent[] events, int start)
    {
        List<DeribitUserTrade>? trades = null;
        for (int i = start; i < events.Length; i++)
        {
            ref readonly var e = ref events[i];
            switch (e.Kind)
            {
                case EventKind.TradeExecuted when e.OrderId == order.OrderId && e.AccountId == order.AccountId:
                    (trades ??= []).Add(Fill(ref order, e, taker: true));
                    break;
                case EventKind.TradeExecuted when e.MakerOrderId == order.OrderId && e.MakerAccountId == order.AccountId:
                    (trades ??= []).Add(Fill(ref order, e, taker: false));
                    break;
                case EventKind.OrderCancelled when e.OrderId == order.OrderId:
                    order.Remaining = e.Remaining;
                    order.State = TrackedOrderState.Cancelled;
                    order.CancelReason = e.CancelReason;
                    break;
                case EventKind.OrderAmended when e.OrderId == order.OrderId:
                    order.Price = e.Price;
                    order.Amount = e.Quantity;
                    order.Remaining = e.Remaining;
                    if (!e.Remaining.IsPositive)
                    {
                        order.State = TrackedOrderState.Filled;
                    }

                    break;
            }
        }

        return trades is null ? [] : [.. trades];
    }

    private DeribitUserTrade Fill(ref OrderRecord order, in EngineEvent e, bool taker)
    {
        var remaining = taker ? e.Remaining : e.MakerRemaining;
        var fee = taker ? e.Amount : e.MakerFee;
        order.FilledNotional += (Int128)e.Price.Micros * e.Quantity.Units;
        order.PricedFill += e.Quantity;
        order.Commission += fee;
        order.Remaining = remaining;
        order.UpdatedMicros = e.TimestampMicros;
        if (!remaining.IsPositive)
        {
            order.State = TrackedOrderState.Filled;
        }

        if (!tracker.TryGetRecentTrade(order.AccountId, e.TradeId, out var trade))
        {
            trade = new TradeRecord
            {
                TradeId = e.TradeId,
                OrderId = order.OrderId,
                InstrumentId = e.InstrumentId,
                Side = taker ? e.Side : e.Side.Opposite(),
                Price = e.Price,
                Amount = e.Quantity,
                Fee = fee,
                IsMaker = !taker,
                IsLiquidation = taker && e.Liquidation,
                TimestampMicros = e.TimestampMicros,
                OrderType = order.Type,
                Flags = order.Flags,
                Label = order.Label,
                OrderFilled = !remaining.IsPositive,
            };
        }

        return DeribitWords.Trade(trade, Instruments);
    }

    /// <summary><c>private/edit</c>: a new price and/or total amount for an open order (the engine's <see cref="AmendOrder"/>).</summary>
    private ValueTask<object?> Edit(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        long orderId = TradingErrors.ParseOrderId(p);
        var amount = p.Amount("amount", required: true)!.Value;
        var price = p.Price("price");
        _ = p.Bool("post_only");
        _ = p.Bool("reject_post_only");
        _ = p.Bool("reduce_only");
        RefuseUnsupported(p);
        if (price is null)
        {
            // Deribit keeps the price when only the amount changes; the engine's amend takes both.
            price = tracker.TryGetOrder(accountId, orderId, out var current) && current.State == TrackedOrderState.Open
                ? current.Price
                : throw RpcError.OrderNotFound(DeribitWords.Id(orderId)).ToException();
        }

        return Edited(sequencer.SubmitAsync(new AmendOrder(accountId, orderId, price.Value, amount)), accountId, orderId);
    }

    private async ValueTask<object?> Edited(Task<CommandResult> pending, int accountId, long orderId)
    {
        var result = await pending.ConfigureAwait(false);
        if (!result.IsAccepted)
        {
            throw TradingErrors.From(result.Reason, result.Reason == RejectReason.UnknownOrder ? "order_id" : null).ToException();
        }

        // The order as the tracker has it now (it saw this command before we were answered), and this command's fills of it.
        if (!tracker.TryGetOrder(accountId, orderId, out var order))
        {
            throw RpcError.OrderNotFound(DeribitWords.Id(orderId)).ToException();
        }

        var trades = new List<DeribitUserTrade>();
        foreach (var e in result.Events)
        {
            bool mine = e.Kind == EventKind.TradeExecuted
                && ((e.OrderId == orderId && e.AccountId == accountId) || (e.MakerOrderId == orderId && e.MakerAccountId == accountId));
            if (mine && tracker.TryGetRecentTrade(accountId, e.TradeId, out var trade))
            {
                trades.Add(DeribitWords.Trade(trade, Instruments));
            }
        }

        return new DeribitOrderResult(DeribitWords.Order(order, Instruments), [.. trades]);
    }

    /// <summary><c>private/cancel</c>: the cancelled order.</summary>
    private ValueTask<object?> Cancel(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        long orderId = TradingErrors.ParseOrderId(p);
        return Cancelled(sequencer.SubmitAsync(new CancelOrder(accountId, orderId)), accountId, orderId);
    }

    private async ValueTask<object?> Cancelled(Task<CommandResult> pending, int accountId, long orderId)
    {
        var result = await pending.ConfigureAwait(false);
        if (!result.IsAccepted)
        {
            throw TradingErrors.From(result.Reason, result.Reason == RejectReason.UnknownOrder ? "order_id" : null).ToException();
        }

        return tracker.TryGetOrder(accountId, orderId, out var order)
            ? DeribitWords.Order(order, Instruments)
            : throw RpcError.OrderNotFound(DeribitWords.Id(orderId)).ToException();
    }

    /// <summary><c>private/cancel_all</c>: how many orders were cancelled.</summary>
    private ValueTask<object?> CancelAll(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        _ = p.Bool("detailed");
        return CountCancelled([sequencer.SubmitAsync(new CancelAllOrders(accountId))], accountId);
    }

    /// <summary><c>private/cancel_all_by_instrument</c>: how many orders in that instrument were cancelled.</summary>
    private ValueTask<object?> CancelAllByInstrument(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string name = p.String("instrument_name", required: true, maxLength: 64)!;
        _ = p.String("type", maxLength: 32);
        _ = p.Bool("detailed");
        int instrumentId = InstrumentId(name);
        return CountCancelled([sequencer.SubmitAsync(new CancelAllOrders(accountId, instrumentId))], accountId);
    }

    /// <summary>
    /// <c>private/cancel_all_by_currency</c>: every order in instruments of that currency (and kind).
    /// One engine command per instrument with open orders (the engine cancels per instrument or
    /// all); all of them are submitted before the first answer is awaited.
    /// </summary>
    private ValueTask<object?> CancelAllByCurrency(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string currency = Currency(p);
        string? kind = Kind(p);
        _ = p.String("type", maxLength: 32);
        _ = p.Bool("detailed");
        if (MatchesEverything(currency, kind))
        {
            return CountCancelled([sequencer.SubmitAsync(new CancelAllOrders(accountId))], accountId);
        }

        var instrumentIds = new SortedSet<int>();
        foreach (var order in tracker.OpenOrders(accountId, InCurrency(currency, kind)))
        {
            instrumentIds.Add(order.InstrumentId);
        }

        var pending = new List<Task<CommandResult>>(instrumentIds.Count);
        foreach (int instrumentId in instrumentIds)
        {
            pending.Add(sequencer.SubmitAsync(new CancelAllOrders(accountId, instrumentId)));
        }

        return CountCancelled(pending, accountId);
    }

    private static async ValueTask<object?> CountCancelled(List<Task<CommandResult>> pending, int accountId)
    {
        int count = 0;
        foreach (var task in pending)
        {
            var result = await task.ConfigureAwait(false);
            if (!result.IsAccepted)
            {
                throw TradingErrors.From(result.Reason).ToException();
            }

            foreach (var e in result.Events)
            {
                // Only this account's own cancellations: liquidation steps the same command ran cancel other accounts' orders.
                if (e.Kind == EventKind.OrderCancelled && e.AccountId == accountId && e.CancelReason == CancelReason.UserRequested)
                {
                    count++;
                }
            }
        }

        return count;
    }

    // ---------------------------------------------------------------- order queries

    private ValueTask<object?> OpenOrdersByCurrency(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string currency = Currency(p);
        string? kind = Kind(p);
        bool limitOrders = OpenOrderType(p);
        return Done(limitOrders ? Orders(tracker.OpenOrders(accountId, InCurrency(currency, kind))) : []);
    }

    private ValueTask<object?> OpenOrdersByInstrument(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        int instrumentId = InstrumentId(p.String("instrument_name", required: true, maxLength: 64)!);
        bool limitOrders = OpenOrderType(p);
        return Done(limitOrders ? Orders(tracker.OpenOrders(accountId, id => id == instrumentId)) : []);
    }

    private ValueTask<object?> OrderState(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        long orderId = TradingErrors.ParseOrderId(p);
        return tracker.TryGetOrder(accountId, orderId, out var order)
            ? Done(DeribitWords.Order(order, Instruments))
            : throw RpcError.OrderNotFound(DeribitWords.Id(orderId)).ToException();
    }

    private ValueTask<object?> OrderHistoryByInstrument(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        int instrumentId = InstrumentId(p.String("instrument_name", required: true, maxLength: 64)!);
        return Done(History(p, tracker.ClosedOrders(accountId, id => id == instrumentId)));
    }

    private ValueTask<object?> OrderHistoryByCurrency(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string currency = Currency(p);
        string? kind = Kind(p);
        return Done(History(p, tracker.ClosedOrders(accountId, InCurrency(currency, kind))));
    }

    /// <summary>Closed orders, newest first, paged by <c>count</c> and <c>offset</c>; fully unfilled ones only with <c>include_unfilled</c> (Deribit's default leaves them out).</summary>
    private DeribitOrder[] History(RpcParams p, List<OrderRecord> closed)
    {
        int count = (int)(p.Integer("count", 1, MaxTradeCount) ?? DefaultHistoryCount);
        int offset = (int)(p.Integer("offset", 0, int.MaxValue) ?? 0);
        bool includeUnfilled = p.Bool("include_unfilled") ?? false;
        _ = p.Bool("include_old");
        var result = new List<DeribitOrder>(Math.Min(count, closed.Count));
        int skipped = 0;
        foreach (var order in closed)
        {
            if (!includeUnfilled && !order.Filled.IsPositive)
            {
                continue;
            }

            if (skipped++ < offset)
            {
                continue;
            }

            if (result.Count == count)
            {
                break;
            }

            result.Add(DeribitWords.Order(order, Instruments));
        }

        return [.. result];
    }

    private ValueTask<object?> TradesByInstrument(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        int instrumentId = InstrumentId(p.String("instrument_name", required: true, maxLength: 64)!);
        return Done(TradesPage(p, tracker.Trades(accountId, id => id == instrumentId), orderId: 0));
    }

    private ValueTask<object?> TradesByCurrency(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string currency = Currency(p);
        string? kind = Kind(p);
        return Done(TradesPage(p, tracker.Trades(accountId, InCurrency(currency, kind)), orderId: 0));
    }

    /// <summary><c>private/get_user_trades_by_order</c>: the order's fills (an array, as Deribit answers this one).</summary>
    private ValueTask<object?> TradesByOrder(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        long orderId = TradingErrors.ParseOrderId(p);
        bool newestFirst = p.Choice("sorting", Sortings) ?? false;
        if (!tracker.TryGetOrder(accountId, orderId, out var order))
        {
            throw RpcError.OrderNotFound(DeribitWords.Id(orderId)).ToException();
        }

        var trades = tracker.Trades(accountId, id => id == order.InstrumentId);
        var result = new List<DeribitUserTrade>();
        foreach (var trade in trades)
        {
            if (trade.OrderId == orderId)
            {
                result.Add(DeribitWords.Trade(trade, Instruments));
            }
        }

        if (newestFirst)
        {
            result.Reverse();
        }

        return Done(result.ToArray());
    }

    /// <summary>
    /// A page of fills: within <c>start_timestamp</c>/<c>end_timestamp</c> (ms) and
    /// <c>start_seq</c>/<c>end_seq</c> (trade sequence) when given, sorted by <c>sorting</c>
    /// (<c>desc</c>, the default: newest first), at most <c>count</c>, <c>has_more</c> when some were left out.
    /// </summary>
    private DeribitUserTradesPage TradesPage(RpcParams p, List<TradeRecord> trades, long orderId)
    {
        int count = (int)(p.Integer("count", 1, MaxTradeCount) ?? DefaultTradeCount);
        bool newestFirst = p.Choice("sorting", Sortings) ?? true;
        long fromMillis = p.Integer("start_timestamp", 0, long.MaxValue / 1000) ?? 0;
        long toMillis = p.Integer("end_timestamp", 0, long.MaxValue / 1000) ?? long.MaxValue / 1000;
        long fromSeq = p.Integer("start_seq", 0, long.MaxValue) ?? 0;
        long toSeq = p.Integer("end_seq", 0, long.MaxValue) ?? long.MaxValue;
        _ = p.Bool("include_old");
        _ = p.Bool("historical");
        var page = new List<DeribitUserTrade>(Math.Min(count, trades.Count));
        bool more = false;
        for (int k = 0; k < trades.Count; k++)
        {
            var trade = trades[newestFirst ? trades.Count - 1 - k : k];
            long millis = DeribitWords.Millis(trade.TimestampMicros);
            if (millis < fromMillis || millis > toMillis || trade.TradeSeq < fromSeq || trade.TradeSeq > toSeq || (orderId != 0 && trade.OrderId != orderId))
            {
                continue;
            }

            if (page.Count == count)
            {
                more = true;
                break;
            }

            page.Add(DeribitWords.Trade(trade, Instruments));
        }

        return new DeribitUserTradesPage([.. page], more);
    }

    // ---------------------------------------------------------------- helpers

    private DeribitOrder[] Orders(List<OrderRecord> records)
    {
        var result = new DeribitOrder[records.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DeribitWords.Order(records[i], Instruments);
        }

        return result;
    }

    private int InstrumentId(string name) =>
        Instruments.TryGetId(name, out int id) ? id : throw RpcError.UnknownInstrument(name).ToException();

    /// <summary>A currency filter: <c>any</c>, <c>USDC</c> (every instrument here settles in it) or a currency instruments are listed on (<c>BTC</c>, <c>ETH</c>).</summary>
    private string Currency(RpcParams p) => AccountModule.CheckCurrency(Instruments, p.String("currency", required: true, maxLength: 16)!, allowAny: true);

    private static string? Kind(RpcParams p)
    {
        string? kind = p.String("kind", maxLength: 16);
        return kind is null || Kinds.Contains(kind)
            ? kind
            : throw RpcError.InvalidParams("kind", $"'kind' must be one of future, option, spot, future_combo, option_combo, combo, any; not '{kind}'.").ToException();
    }

    /// <summary>Whether a <c>type</c> filter of <c>get_open_orders_*</c> can match this venue's orders (limit orders only).</summary>
    private static bool OpenOrderType(RpcParams p)
    {
        string type = p.String("type", maxLength: 32) ?? "all";
        return OpenOrderTypeFilters.Contains(type)
            ? type is "all" or "limit"
            : throw RpcError.InvalidParams("type", $"'type' must be one of {string.Join(", ", OpenOrderTypeFilters.Order(StringComparer.Ordinal))}; not '{type}'.").ToException();
    }

    private static bool MatchesEverything(string currency, string? kind) =>
        (currency.Equals("any", StringComparison.OrdinalIgnoreCase) || currency.Equals(InstrumentNameParts.SettlementCurrency, StringComparison.OrdinalIgnoreCase))
        && kind is null or "any";

    private Func<int, bool> InCurrency(string currency, string? kind)
    {
        var instruments = Instruments;
        return id =>
        {
            var parts = InstrumentNameParts.Of(instruments.NameOf(id));
            return parts.InCurrency(currency) && parts.OfKind(kind);
        };
    }

    /// <summary>Parameters of Deribit order entry that ask for something this venue does not have: refused, never ignored.</summary>
    private static void RefuseUnsupported(RpcParams p)
    {
        if (p.Has("trigger") || p.Has("trigger_price") || p.Has("trigger_offset"))
        {
            throw NotImplemented("trigger", "Trigger (stop and take-profit) orders are not supported.");
        }

        if (p.String("advanced", maxLength: 16) is { } advanced)
        {
            throw NotImplemented("advanced", $"Advanced option orders ('{advanced}') are not supported: give the price in USDC.");
        }

        if (p.Bool("mmp") == true)
        {
            throw NotImplemented("mmp", "Market maker protection is not supported.");
        }
    }

    private static RpcException NotImplemented(string param, string reason) => new RpcError(10033, "not_implemented", reason, param).ToException();

    private static ValueTask<object?> Done(object? result) => ValueTask.FromResult(result);
}
