using System.Runtime.CompilerServices;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Matching;

/// <summary>
/// The fast order book. Each side is an array of price levels sorted so that the best level is
/// last (removing it, the commonest change, is O(1); inserting near the top of the book moves few
/// entries). Orders live in a pooled array of nodes, linked first-in first-out within their
/// level; an order id finds its node through one dictionary lookup. After warm-up nothing here
/// allocates: arrays only grow, and freed nodes are reused.
/// </summary>
public sealed class ArrayOrderBook : IOrderBook
{
    private const int None = -1;

    private readonly Dictionary<long, int> nodeOfOrder;
    private readonly SideLevels bids = new();
    private readonly SideLevels asks = new();
    private Node[] nodes;
    private int nodesUsed;
    private int freeNode = None;

    public ArrayOrderBook(int expectedOrders = 1024)
    {
        nodes = new Node[Math.Max(16, expectedOrders)];
        nodeOfOrder = new Dictionary<long, int>(Math.Max(16, expectedOrders));
    }

    public int OrderCount => nodeOfOrder.Count;

    public bool TryGetBestBid(out Price price) => bids.TryBest(out price);

    public bool TryGetBestAsk(out Price price) => asks.TryBest(out price);

    public bool TryGetOrder(long orderId, out RestingOrder order)
    {
        if (nodeOfOrder.TryGetValue(orderId, out int node))
        {
            order = nodes[node].Order;
            return true;
        }

        order = default;
        return false;
    }

    public bool WouldCross(Side side, Price price)
    {
        if (side == Side.Buy)
        {
            return asks.TryBest(out var bestAsk) && bestAsk <= price;
        }

        return bids.TryBest(out var bestBid) && bestBid >= price;
    }

    public Quantity FillableQuantity(Side side, Price limit, int accountId, SelfTradePrevention stp, Quantity atMost)
    {
        var levels = side == Side.Buy ? asks : bids;
        long total = 0;
        for (int l = levels.Count - 1; l >= 0 && total < atMost.Units; l--)
        {
            ref var level = ref levels.Items[l];
            if (!Reaches(side, level.Price, limit.Micros))
            {
                break;
            }

            for (int n = level.Head; n != None; n = nodes[n].Next)
            {
                ref var order = ref nodes[n].Order;
                if (order.AccountId == accountId)
                {
                    if (stp == SelfTradePrevention.CancelIncoming)
                    {
                        return new Quantity(Math.Min(total, atMost.Units));
                    }

                    continue;
                }

                total += order.Remaining.Units;
                if (total >= atMost.Units)
                {
                    break;
                }
            }
        }

        return new Quantity(Math.Min(total, atMost.Units));
    }

    public MatchOutcome Match(Side side, Price limit, Quantity quantity, int accountId, SelfTradePrevention stp, IMatchListener listener)
    {
        var levels = side == Side.Buy ? asks : bids;
        long left = quantity.Units;
        while (left > 0 && levels.Count > 0)
        {
            int levelIndex = levels.Count - 1;
            ref var level = ref levels.Items[levelIndex];
            if (!Reaches(side, level.Price, limit.Micros))
            {
                break;
            }

            int n = level.Head;
            while (n != None && left > 0)
            {
                int next = nodes[n].Next;
                ref var maker = ref nodes[n].Order;
                if (maker.AccountId == accountId)
                {
                    if (stp == SelfTradePrevention.CancelIncoming)
                    {
                        return new MatchOutcome(new Quantity(quantity.Units - left), StoppedBySelfTrade: true);
                    }

                    var cancelled = maker;
                    level.Quantity -= maker.Remaining.Units;
                    Unlink(ref level, n);
                    listener.OnSelfTradeCancel(cancelled);
                    n = next;
                    continue;
                }

                long traded = Math.Min(left, maker.Remaining.Units);
                left -= traded;
                maker.Remaining = new Quantity(maker.Remaining.Units - traded);
                level.Quantity -= traded;
                var filled = maker;
                if (maker.Remaining.IsZero)
                {
                    Unlink(ref level, n);
                }

                listener.OnMakerFill(filled, new Quantity(traded));
                n = next;
            }

            if (level.Count == 0)
            {
                levels.Count--;
            }
        }

        return new MatchOutcome(new Quantity(quantity.Units - left), StoppedBySelfTrade: false);
    }

    public void Add(in RestingOrder order)
    {
        var levels = order.Side == Side.Buy ? bids : asks;
        long key = Key(order.Side, order.Price.Micros);
        int index = levels.Find(key);
        if (index < 0)
        {
            index = ~index;
            levels.InsertAt(index, key, order.Price.Micros);
        }

        int node = AllocateNode();
        ref var slot = ref nodes[node];
        slot.Order = order;
        slot.Next = None;
        ref var level = ref levels.Items[index];
        slot.Prev = level.Tail;
        if (level.Tail == None)
        {
            level.Head = node;
        }
        else
        {
            nodes[level.Tail].Next = node;
        }

        level.Tail = node;
        level.Count++;
        level.Quantity += order.Remaining.Units;
        nodeOfOrder.Add(order.OrderId, node);
    }

    public bool Remove(long orderId, out RestingOrder removed)
    {
        if (!nodeOfOrder.TryGetValue(orderId, out int node))
        {
            removed = default;
            return false;
        }

        removed = nodes[node].Order;
        var levels = removed.Side == Side.Buy ? bids : asks;
        int index = levels.Find(Key(removed.Side, removed.Price.Micros));
        ref var level = ref levels.Items[index];
        level.Quantity -= removed.Remaining.Units;
        Unlink(ref level, node);
        if (level.Count == 0)
        {
            levels.RemoveAt(index);
        }

        return true;
    }

    public void Reduce(long orderId, Quantity newRemaining, Quantity newAmount, long updatedMicros)
    {
        int node = nodeOfOrder[orderId];
        ref var order = ref nodes[node].Order;
        var levels = order.Side == Side.Buy ? bids : asks;
        ref var level = ref levels.Items[levels.Find(Key(order.Side, order.Price.Micros))];
        level.Quantity += newRemaining.Units - order.Remaining.Units;
        order.Remaining = newRemaining;
        order.Amount = newAmount;
        order.UpdatedMicros = updatedMicros;
    }

    public int CopyLevels(Side side, Span<BookLevel> levels)
    {
        var source = side == Side.Buy ? bids : asks;
        int count = Math.Min(levels.Length, source.Count);
        for (int i = 0; i < count; i++)
        {
            ref var level = ref source.Items[source.Count - 1 - i];
            levels[i] = new BookLevel(new Price(level.Price), new Quantity(level.Quantity), level.Count);
        }

        return count;
    }

    public IReadOnlyList<RestingOrder> OrdersInPriority()
    {
        var result = new List<RestingOrder>(OrderCount);
        foreach (var levels in new[] { bids, asks })
        {
            for (int l = levels.Count - 1; l >= 0; l--)
            {
                for (int n = levels.Items[l].Head; n != None; n = nodes[n].Next)
                {
                    result.Add(nodes[n].Order);
                }
            }
        }

        return result;
    }

    /// <summary>Sort key: ascending key order puts the best level last on both sides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Key(Side side, long price) => side == Side.Buy ? price : -price;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Reaches(Side side, long resting, long limit) => side == Side.Buy ? resting <= limit : resting >= limit;

    private void Unlink(ref Level level, int node)
    {
        ref var slot = ref nodes[node];
        if (slot.Prev == None)
        {
            level.Head = slot.Next;
        }
        else
        {
            nodes[slot.Prev].Next = slot.Next;
        }

        if (slot.Next == None)
        {
            level.Tail = slot.Prev;
        }
        else
        {
            nodes[slot.Next].Prev = slot.Prev;
        }

        level.Count--;
        nodeOfOrder.Remove(slot.Order.OrderId);
        slot.Order = default;
        slot.Prev = None;
        slot.Next = freeNode;
        freeNode = node;
    }

    private int AllocateNode()
    {
        if (freeNode != None)
        {
            int node = freeNode;
            freeNode = nodes[node].Next;
            return node;
        }

        if (nodesUsed == nodes.Length)
        {
            Array.Resize(ref nodes, nodes.Length * 2);
        }

        return nodesUsed++;
    }

    private struct Node
    {
        public RestingOrder Order;
        public int Prev;
        public int Next;
    }

    private struct Level
    {
        public long Key;
        public long Price;
        public int Head;
        public int Tail;
        public long Quantity;
        public int Count;
    }

    /// <summary>One side's levels in ascending key order (best last).</summary>
    private sealed class SideLevels
    {
        public Level[] Items = new Level[64];
        public int Count;

        public bool TryBest(out Price price)
        {
            price = Count > 0 ? new Price(Items[Count - 1].Price) : default;
            return Count > 0;
        }

        /// <summary>Binary search by key: the index, or the complement of the insertion point.</summary>
        public int Find(long key)
        {
            // Most activity is at the top of the book: check the best level first.
            if (Count > 0 && Items[Count - 1].Key == key)
            {
                return Count - 1;
            }

            // Branch-free lower bound (the first level whose key is not below the key): the loop
            // halves the range a fixed number of times, taking the upper half by arithmetic rather
            // than by a branch that mispredicts about every other step. Keys are prices (at most
            // ~1e14 micros), so k − key cannot overflow and its sign bit says k < key.
            // Measured on a 200-level side: Remove + Add 150 → 125 ns (docs/benchmarks.md).
            var items = Items;
            int lo = 0;
            int n = Count;
            while (n > 1)
            {
                int half = n >> 1;
                lo += unchecked((int)((items[lo + half - 1].Key - key) >> 63)) & half;
                n -= half;
            }

            if (n == 1)
            {
                lo += unchecked((int)((items[lo].Key - key) >> 63)) & 1;
            }

            return lo < Count && items[lo].Key == key ? lo : ~lo;
        }

        public void InsertAt(int index, long key, long price)
        {
            if (Count == Items.Length)
            {
                Array.Resize(ref Items, Items.Length * 2);
            }

            if (index < Count)
            {
                Array.Copy(Items, index, Items, index + 1, Count - index);
            }

            Items[index] = new Level { Key = key, Price = price, Head = None, Tail = None };
            Count++;
        }

        public void RemoveAt(int index)
        {
            Count--;
            if (index < Count)
            {
                Array.Copy(Items, index + 1, Items, index, Count - index);
            }
        }
    }
}
