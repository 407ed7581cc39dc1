using System.Runtime.InteropServices;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>
/// The orders and fills of every account as Deribit clients ask for them: each account's open
/// orders, its most recent closed orders (<see cref="ClosedPerAccount"/>) and fills
/// (<see cref="TradesPerAccount"/>), with what only the request carried (order type, time in
/// force, flags, label). Fed from the events of every applied command on the engine thread
/// (<see cref="ICommandObserver"/>): dictionary work under the account's own short lock, no
/// serialization, no allocation beyond the records themselves. Readers (request threads) copy what
/// they need under the same lock.
/// <para>
/// The engine keeps no labels and no closed orders, so after a restart the tracker knows the open
/// orders (seeded from the engine at start, <see cref="Seed"/>) but not their labels, the prices of
/// fills made before the restart, or orders closed before it.
/// </para>
/// </summary>
public sealed class OrderTracker : ICommandObserver
{
    public const int ClosedPerAccount = 1_000;
    public const int TradesPerAccount = 1_000;

    private readonly Lock labelGate = new();
    private readonly List<(PlaceOrder Command, string Label)> pendingLabels = [];
    private int pendingLabelCount;

    // Indexed by account id (ids are dense, from 1); only the engine thread grows it.
    private AccountActivity?[] accounts = new AccountActivity?[64];

    // The last trade_seq of each instrument, indexed by instrument id; only the thread holding the engine touches it.
    private long[] tradeSeqs = new long[16];

    private IUserActivitySink? sink;

    /// <summary>Receives, after each command, what changed for accounts the sink watches (the user channels).</summary>
    internal void Attach(IUserActivitySink activitySink) => sink = activitySink;

    /// <summary>
    /// Remembers the label of an order about to be submitted, so that the observer can attach it to
    /// the order the command creates. The engine has no field for a Deribit label (labels need not
    /// be unique, unlike client order ids), so the command itself is the key: the first applied
    /// <see cref="PlaceOrder"/> equal to it in every field but the sequencer's stamp takes the label.
    /// The caller must call <see cref="ForgetLabel"/> once the command has completed, whatever happened.
    /// </summary>
    public void ExpectLabel(PlaceOrder command, string label)
    {
        lock (labelGate)
        {
            pendingLabels.Add((command, label));
            Volatile.Write(ref pendingLabelCount, pendingLabels.Count);
        }
    }

    /// <summary>Drops a label no applied command took (the command never reached the engine).</summary>
    public void ForgetLabel(PlaceOrder command)
    {
        lock (labelGate)
        {
            for (int i = 0; i < pendingLabels.Count; i++)
            {
                if (ReferenceEquals(pendingLabels[i].Command, command))
                {
                    pendingLabels.RemoveAt(i);
                    break;
                }
            }

            Volatile.Write(ref pendingLabelCount, pendingLabels.Count);
        }
    }

    /// <summary>The account's order, open or recently closed; false when unknown or another account's.</summary>
    public bool TryGetOrder(int accountId, long orderId, out OrderRecord order)
    {
        order = default;
        if (Find(accountId) is not { } activity)
        {
            return false;
        }

        lock (activity.Gate)
        {
            return activity.Open.TryGetValue(orderId, out order) || activity.Closed.TryGetValue(orderId, out order);
        }
    }

    /// <summary>
    /// One of the account's recent fills by trade id, looking back from the newest (the fills of
    /// the command just answered are the last ones kept).
    /// </summary>
    public bool TryGetRecentTrade(int accountId, long tradeId, out TradeRecord trade)
    {
        trade = default;
        if (Find(accountId) is not { } activity)
        {
            return false;
        }

        lock (activity.Gate)
        {
            return activity.TryGetTrade(tradeId, out trade);
        }
    }

    /// <summary>The account's open orders passing <paramref name="filter"/>, oldest first.</summary>
    public List<OrderRecord> OpenOrders(int accountId, Func<int, bool> filter)
    {
        var result = new List<OrderRecord>();
        if (Find(accountId) is not { } activity)
        {
            return result;
        }

        lock (activity.Gate)
        {
            foreach (var order in activity.Open.Values)
            {
                if (filter(order.InstrumentId))
                {
                    result.Add(order);
                }
            }
        }

        result.Sort(static (a, b) => a.OrderId.CompareTo(b.OrderId));
        return result;
    }

    /// <summary>The account's recently closed orders passing <paramref name="filter"/>, newest first.</summary>
    public List<OrderRecord> ClosedOrders(int accountId, Func<int, bool> filter)
    {
        var result = new List<OrderRecord>();
        if (Find(accountId) is not { } activity)
        {
            return result;
        }

        lock (activity.Gate)
        {
            foreach (var order in activity.Closed.Values)
            {
                if (filter(order.InstrumentId))
                {
                    result.Add(order);
                }
            }
        }

        result.Sort(static (a, b) => b.UpdatedMicros != a.UpdatedMicros ? b.UpdatedMicros.CompareTo(a.UpdatedMicros) : b.OrderId.CompareTo(a.OrderId));
        return result;
    }

    /// <summary>The account's recent fills passing <paramref name="filter"/>, oldest first.</summary>
    public List<TradeRecord> Trades(int accountId, Func<int, bool> filter)
    {
        var result = new List<TradeRecord>();
        if (Find(accountId) is not { } activity)
        {
            return result;
        }

        lock (activity.Gate)
        {
            activity.CopyTrades(result, filter);
        }

        return result;
    }

    /// <summary>
    /// Takes the open orders the engine already has (a recovered venue). Runs on the engine thread
    /// (through a query); orders the observer already knows are kept as they are.
    /// </summary>
    public void Seed(Engine engine)
    {
        for (int accountId = 1; accountId <= engine.AccountCount; accountId++)
        {
            var open = engine.GetOpenOrders(accountId);
            if (open.Count == 0)
            {
                continue;
            }

            var activity = GetOrAdd(accountId);
            lock (activity.Gate)
            {
                foreach (var (instrumentId, resting) in open)
                {
                    activity.Open.TryAdd(resting.OrderId, new OrderRecord
                    {
                        OrderId = resting.OrderId,
                        AccountId = accountId,
                        InstrumentId = instrumentId,
                        Side = resting.Side,
                        Type = OrderType.Limit, // only limit orders rest
                        TimeInForce = TimeInForce.GoodTilCancelled, // only good-til-cancelled orders rest
                        Flags = resting.Flags,
                        Price = resting.Price,
                        Amount = resting.Amount,
                        Remaining = resting.Remaining,
                        CreatedMicros = resting.CreatedMicros,
                        UpdatedMicros = resting.UpdatedMicros,
                        State = TrackedOrderState.Open,
                    });
                }
            }
        }
    }

    // ---------------------------------------------------------------- the engine thread

    public void OnApplied(Command command, RejectReason reason, ReadOnlySpan<EngineEvent> events, Engine engine)
    {
        var place = command as PlaceOrder;
        string? label = place is not null && Volatile.Read(ref pendingLabelCount) != 0 ? TakeLabel(place) : null;
        if (reason != RejectReason.None)
        {
            CountTrades(events);
            return;
        }

        var watcher = sink;
        bool placedSeen = false;
        foreach (ref readonly var e in events)
        {
            switch (e.Kind)
            {
                case EventKind.OrderAccepted:
                    // The command's own order is the first one accepted for its account and
                    // instrument; any other is a liquidation order the engine placed (for this or
                    // another account) while running the liquidation queue after the command.
                    bool own = place is not null && !placedSeen && e.AccountId == place.AccountId && e.InstrumentId == place.InstrumentId;
                    placedSeen |= own;
                    Accept(e, own ? place : null, own ? label : null);
                    break;
                case EventKind.TradeExecuted:
                    long tradeSeq = NextTradeSeq(e.InstrumentId);
                    Fill(e, engine, taker: true, tradeSeq);
                    Fill(e, engine, taker: false, tradeSeq);
                    break;
                case EventKind.OrderCancelled:
                    Cancel(e);
                    break;
                case EventKind.OrderAmended:
                    Amend(e);
                    break;
            }

            if (watcher is not null && e.AccountId > 0 && watcher.Watches(e.AccountId))
            {
                watcher.Touched(e);
            }

            if (watcher is not null && e.Kind == EventKind.TradeExecuted && e.MakerAccountId > 0 && watcher.Watches(e.MakerAccountId))
            {
                watcher.TouchedAsMaker(e);
            }
        }

        watcher?.CommandDone(this);
    }

    private string? TakeLabel(PlaceOrder stamped)
    {
        lock (labelGate)
        {
            for (int i = 0; i < pendingLabels.Count; i++)
            {
                var pending = pendingLabels[i];
                if (SameOrder(pending.Command, stamped))
                {
                    pendingLabels.RemoveAt(i);
                    Volatile.Write(ref pendingLabelCount, pendingLabels.Count);
                    return pending.Label;
                }
            }
        }

        return null;
    }

    private static bool SameOrder(PlaceOrder a, PlaceOrder b) =>
        a.AccountId == b.AccountId && a.InstrumentId == b.InstrumentId && a.Side == b.Side && a.Type == b.Type
        && a.TimeInForce == b.TimeInForce && a.Price == b.Price && a.Amount == b.Amount && a.Flags == b.Flags
        && a.SelfTradePrevention == b.SelfTradePrevention && a.ExpiresAtMicros == b.ExpiresAtMicros
        && string.Equals(a.ClientOrderId, b.ClientOrderId, StringComparison.Ordinal);

    private void Accept(in EngineEvent e, PlaceOrder? place, string? label)
    {
        var activity = GetOrAdd(e.AccountId);
        var order = new OrderRecord
        {
            OrderId = e.OrderId,
            AccountId = e.AccountId,
            InstrumentId = e.InstrumentId,
            Side = e.Side,
            Type = place?.Type ?? OrderType.Limit,
            TimeInForce = place?.TimeInForce ?? TimeInForce.ImmediateOrCancel,
            Flags = place?.Flags ?? OrderFlags.ReduceOnly,
            Label = label,
            Price = e.Price,
            Amount = e.Quantity,
            Remaining = e.Remaining,
            CreatedMicros = e.TimestampMicros,
            UpdatedMicros = e.TimestampMicros,
            State = TrackedOrderState.Open,
            IsLiquidation = place is null,
        };
        lock (activity.Gate)
        {
            activity.Open[e.OrderId] = order;
        }
    }

    /// <summary>Numbers every trade of an instrument from 1, by the same rule as the public tape (<see cref="MarketData.PublicTradeTape"/>), so that a fill's <c>trade_seq</c> is the same in both.</summary>
    private long NextTradeSeq(int instrumentId)
    {
        if (instrumentId >= tradeSeqs.Length)
        {
            Array.Resize(ref tradeSeqs, Math.Max(instrumentId + 1, tradeSeqs.Length * 2));
        }

        return ++tradeSeqs[instrumentId];
    }

    private void CountTrades(ReadOnlySpan<EngineEvent> events)
    {
        foreach (ref readonly var e in events)
        {
            if (e.Kind == EventKind.TradeExecuted)
            {
                NextTradeSeq(e.InstrumentId);
            }
        }
    }

    private void Fill(in EngineEvent e, Engine engine, bool taker, long tradeSeq)
    {
        int accountId = taker ? e.AccountId : e.MakerAccountId;
        if (Find(accountId) is not { } activity)
        {
            return;
        }

        long orderId = taker ? e.OrderId : e.MakerOrderId;
        var remaining = taker ? e.Remaining : e.MakerRemaining;
        var trade = new TradeRecord
        {
            TradeId = e.TradeId,
            TradeSeq = tradeSeq,
            OrderId = orderId,
            InstrumentId = e.InstrumentId,
            Side = taker ? e.Side : e.Side.Opposite(),
            Price = e.Price,
            Amount = e.Quantity,
            Fee = taker ? e.Amount : e.MakerFee,
            IsMaker = !taker,
            IsLiquidation = taker && e.Liquidation,
            TimestampMicros = e.TimestampMicros,
            OrderFilled = !remaining.IsPositive,
        };
        if (engine.TryGetInstrument(e.InstrumentId, out var instrument))
        {
            trade.IndexPrice = instrument.Underlying.IndexPrice;
            trade.MarkPrice = instrument.MarkPrice;
        }

        lock (activity.Gate)
        {
            ref var order = ref CollectionsMarshal.GetValueRefOrNullRef(activity.Open, orderId);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref order))
            {
                order.FilledNotional += (Int128)e.Price.Micros * e.Quantity.Units;
                order.PricedFill += e.Quantity;
                order.Commission += trade.Fee;
                order.Remaining = remaining;
                order.UpdatedMicros = e.TimestampMicros;
                trade.OrderType = order.Type;
                trade.Flags = order.Flags;
                trade.Label = order.Label;
                if (!remaining.IsPositive)
                {
                    order.State = TrackedOrderState.Filled;
                    activity.Close(orderId);
                }
            }

            activity.AddTrade(trade);
        }
    }

    private void Cancel(in EngineEvent e)
    {
        if (Find(e.AccountId) is not { } activity)
        {
            return;
        }

        lock (activity.Gate)
        {
            ref var order = ref CollectionsMarshal.GetValueRefOrNullRef(activity.Open, e.OrderId);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref order))
            {
                order.Remaining = e.Remaining;
                order.UpdatedMicros = e.TimestampMicros;
                order.State = TrackedOrderState.Cancelled;
                order.CancelReason = e.CancelReason;
                activity.Close(e.OrderId);
            }
        }
    }

    private void Amend(in EngineEvent e)
    {
        if (Find(e.AccountId) is not { } activity)
        {
            return;
        }

        lock (activity.Gate)
        {
            ref var order = ref CollectionsMarshal.GetValueRefOrNullRef(activity.Open, e.OrderId);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref order))
            {
                order.Price = e.Price;
                order.Amount = e.Quantity;
                order.Remaining = e.Remaining;
                order.UpdatedMicros = e.TimestampMicros;
                order.Replaced |= e.CancelReason != CancelReason.ReduceOnlyTrimmed;
                if (!e.Remaining.IsPositive)
                {
                    order.State = TrackedOrderState.Filled;
                    activity.Close(e.OrderId);
                }
            }
        }
    }

    private AccountActivity? Find(int accountId)
    {
        var all = Volatile.Read(ref accounts);
        return (uint)accountId < (uint)all.Length ? all[accountId] : null;
    }

    /// <summary>Engine thread only (and the seed, which runs on it too).</summary>
    private AccountActivity GetOrAdd(int accountId)
    {
        var all = accounts;
        if ((uint)accountId >= (uint)all.Length)
        {
            var grown = new AccountActivity?[Math.Max(all.Length * 2, accountId + 1)];
            all.CopyTo(grown, 0);
            Volatile.Write(ref accounts, grown);
            all = grown;
        }

        return all[accountId] ??= new AccountActivity();
    }

    /// <summary>One account's orders and fills, behind its own lock.</summary>
    private sealed class AccountActivity
    {
        public readonly Lock Gate = new();
        public readonly Dictionary<long, OrderRecord> Open = [];
        public readonly Dictionary<long, OrderRecord> Closed = [];
        private readonly Queue<long> closedInOrder = new();
        // A ring once full; it starts small and doubles up to TradesPerAccount, so that an account
        // that traded a few times does not hold room for a thousand fills.
        private TradeRecord[] trades = new TradeRecord[8];
        private int tradeStart;
        private int tradeCount;

        /// <summary>Moves an open order to the closed ones, forgetting the oldest closed one beyond the bound. Under <see cref="Gate"/>.</summary>
        public void Close(long orderId)
        {
            if (!Open.Remove(orderId, out var order))
            {
                return;
            }

            Closed[orderId] = order;
            closedInOrder.Enqueue(orderId);
            while (closedInOrder.Count > ClosedPerAccount)
            {
                Closed.Remove(closedInOrder.Dequeue());
            }
        }

        /// <summary>Under <see cref="Gate"/>.</summary>
        public void AddTrade(in TradeRecord trade)
        {
            if (tradeCount == trades.Length && trades.Length < TradesPerAccount)
            {
                var grown = new TradeRecord[Math.Min(trades.Length * 2, TradesPerAccount)];
                for (int i = 0; i < tradeCount; i++)
                {
                    grown[i] = trades[(tradeStart + i) % trades.Length];
                }

                trades = grown;
                tradeStart = 0;
            }

            if (tradeCount < trades.Length)
            {
                trades[(tradeStart + tradeCount++) % trades.Length] = trade;
            }
            else
            {
                trades[tradeStart] = trade;
                tradeStart = (tradeStart + 1) % trades.Length;
            }
        }

        /// <summary>Newest first; trade ids only grow, so the search stops at the first older one. Under <see cref="Gate"/>.</summary>
        public bool TryGetTrade(long tradeId, out TradeRecord trade)
        {
            for (int i = tradeCount - 1; i >= 0; i--)
            {
                ref readonly var candidate = ref trades[(tradeStart + i) % trades.Length];
                if (candidate.TradeId == tradeId)
                {
                    trade = candidate;
                    return true;
                }

                if (candidate.TradeId < tradeId)
                {
                    break;
                }
            }

            trade = default;
            return false;
        }

        /// <summary>Under <see cref="Gate"/>.</summary>
        public void CopyTrades(List<TradeRecord> output, Func<int, bool> filter)
        {
            for (int i = 0; i < tradeCount; i++)
            {
                ref readonly var trade = ref trades[(tradeStart + i) % trades.Length];
                if (filter(trade.InstrumentId))
                {
                    output.Add(trade);
                }
            }
        }
    }
}

/// <summary>
/// Where the tracker reports, on the engine thread, what a command changed for watched accounts
/// (those with a user channel subscription). Implementations only note things down and hand them
/// to another thread; they never serialize or send here.
/// </summary>
internal interface IUserActivitySink
{
    /// <summary>Cheap: whether anyone listens to this account.</summary>
    bool Watches(int accountId);

    /// <summary>An event of a watched account (its order, its fill as taker, its cash).</summary>
    void Touched(in EngineEvent e);

    /// <summary>A fill where the watched account's resting order was the maker.</summary>
    void TouchedAsMaker(in EngineEvent e);

    /// <summary>The command is fully applied and tracked: read the final states now.</summary>
    void CommandDone(OrderTracker tracker);
}
