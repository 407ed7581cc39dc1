using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Matching;

/// <summary>
/// The obviously correct order book: one list per side kept in priority order by a stable sort
/// after every insertion. Slow (O(n log n) per insert) and meant only as the oracle the fast
/// <see cref="ArrayOrderBook"/> is compared against in tests.
/// </summary>
public sealed class ReferenceOrderBook : IOrderBook
{
    private readonly List<RestingOrder> bids = [];
    private readonly List<RestingOrder> asks = [];
    private long arrival;
    private readonly Dictionary<long, long> arrivalOf = [];

    public int OrderCount => bids.Count + asks.Count;

    public bool TryGetBestBid(out Price price) => TryBest(bids, out price);

    public bool TryGetBestAsk(out Price price) => TryBest(asks, out price);

    public bool TryGetOrder(long orderId, out RestingOrder order)
    {
        foreach (var o in bids.Concat(asks))
        {
            if (o.OrderId == orderId)
            {
                order = o;
                return true;
            }
        }

        order = default;
        return false;
    }

    public bool WouldCross(Side side, Price price) => side == Side.Buy
        ? asks.Count > 0 && asks[0].Price <= price
        : bids.Count > 0 && bids[0].Price >= price;

    public Quantity FillableQuantity(Side side, Price limit, int accountId, SelfTradePrevention stp, Quantity atMost)
    {
        var total = Quantity.Zero;
        foreach (var o in Opposite(side))
        {
            if (!Reaches(side, o.Price, limit) || total >= atMost)
            {
                break;
            }

            if (o.AccountId == accountId)
            {
                if (stp == SelfTradePrevention.CancelIncoming)
                {
                    break;
                }

                continue;
            }

            total += o.Remaining;
        }

        return Quantity.Min(total, atMost);
    }

    public MatchOutcome Match(Side side, Price limit, Quantity quantity, int accountId, SelfTradePrevention stp, IMatchListener listener)
    {
        var book = Opposite(side);
        var left = quantity;
        while (left.IsPositive && book.Count > 0 && Reaches(side, book[0].Price, limit))
        {
            var maker = book[0];
            if (maker.AccountId == accountId)
            {
                if (stp == SelfTradePrevention.CancelIncoming)
                {
                    return new MatchOutcome(quantity - left, StoppedBySelfTrade: true);
                }

                book.RemoveAt(0);
                listener.OnSelfTradeCancel(maker);
                continue;
            }

            var traded = Quantity.Min(left, maker.Remaining);
            maker.Remaining -= traded;
            left -= traded;
            if (maker.Remaining.IsZero)
            {
                book.RemoveAt(0);
            }
            else
            {
                book[0] = maker;
            }

            listener.OnMakerFill(maker, traded);
        }

        return new MatchOutcome(quantity - left, StoppedBySelfTrade: false);
    }

    public void Add(in RestingOrder order)
    {
        var book = order.Side == Side.Buy ? bids : asks;
        arrivalOf[order.OrderId] = arrival++;
        book.Add(order);
        Resort(book, order.Side);
    }

    public bool Remove(long orderId, out RestingOrder removed)
    {
        foreach (var book in new[] { bids, asks })
        {
            int index = book.FindIndex(o => o.OrderId == orderId);
            if (index >= 0)
            {
                removed = book[index];
                book.RemoveAt(index);
                arrivalOf.Remove(orderId);
                return true;
            }
        }

        removed = default;
        return false;
    }

    public void Reduce(long orderId, Quantity newRemaining, Quantity newAmount, long updatedMicros)
    {
        foreach (var book in new[] { bids, asks })
        {
            int index = book.FindIndex(o => o.OrderId == orderId);
            if (index >= 0)
            {
                var o = book[index];
                o.Remaining = newRemaining;
                o.Amount = newAmount;
                o.UpdatedMicros = updatedMicros;
                book[index] = o;
                return;
            }
        }

        throw new InvalidOperationException($"Order {orderId} is not in the book.");
    }

    public int CopyLevels(Side side, Span<BookLevel> levels)
    {
        var groups = (side == Side.Buy ? bids : asks)
            .GroupBy(o => o.Price)
            .Select(g => new BookLevel(g.Key, new Quantity(g.Sum(o => o.Remaining.Units)), g.Count()))
            .Take(levels.Length)
            .ToArray();
        groups.CopyTo(levels);
        return groups.Length;
    }

    public IReadOnlyList<RestingOrder> OrdersInPriority() => [.. bids, .. asks];

    private static bool TryBest(List<RestingOrder> book, out Price price)
    {
        price = book.Count > 0 ? book[0].Price : default;
        return book.Count > 0;
    }

    private List<RestingOrder> Opposite(Side side) => side == Side.Buy ? asks : bids;

    private static bool Reaches(Side side, Price resting, Price limit) => side == Side.Buy ? resting <= limit : resting >= limit;

    private void Resort(List<RestingOrder> book, Side side)
    {
        // Price priority, then time priority by arrival; OrderBy is a stable sort.
        var sorted = (side == Side.Buy
            ? book.OrderByDescending(o => o.Price.Micros)
            : book.OrderBy(o => o.Price.Micros)).ThenBy(o => arrivalOf[o.OrderId]).ToList();
        book.Clear();
        book.AddRange(sorted);
    }
}
