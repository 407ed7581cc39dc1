using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Matching;

/// <summary>
/// Receives what happens to resting orders while an incoming order matches. Implemented by the
/// engine, which clears each fill; the book only decides who trades with whom, at what price.
/// </summary>
public interface IMatchListener
{
    /// <summary>
    /// A resting order traded <paramref name="quantity"/> at its own price. <paramref name="maker"/> is
    /// the resting order after the fill (its <c>Remaining</c> may be zero: it has left the book).
    /// </summary>
    void OnMakerFill(in RestingOrder maker, Quantity quantity);

    /// <summary>A resting order of the incoming order's own account was cancelled by self-trade prevention.</summary>
    void OnSelfTradeCancel(in RestingOrder resting);
}

/// <summary>How an incoming order's matching ended.</summary>
public readonly record struct MatchOutcome(Quantity Filled, bool StoppedBySelfTrade);

/// <summary>
/// A central limit order book for one instrument with price-time priority. The book validates
/// nothing about accounts or margin: the engine decides whether an order may enter, and the
/// book matches it. Two implementations pass the same tests: <see cref="ReferenceOrderBook"/>
/// (obviously correct, slow) and <see cref="ArrayOrderBook"/> (fast, allocation-free).
/// </summary>
public interface IOrderBook
{
    int OrderCount { get; }

    /// <summary>Best bid, or false when the bid side is empty.</summary>
    bool TryGetBestBid(out Price price);

    bool TryGetBestAsk(out Price price);

    bool TryGetOrder(long orderId, out RestingOrder order);

    /// <summary>True when an order on <paramref name="side"/> at <paramref name="price"/> would trade with the other side.</summary>
    bool WouldCross(Side side, Price price);

    /// <summary>
    /// How much an order of <paramref name="accountId"/> could fill on <paramref name="side"/> up to
    /// <paramref name="limit"/>, stopping at <paramref name="atMost"/>: the fill-or-kill check.
    /// Own orders never fill: under <see cref="SelfTradePrevention.CancelResting"/> they are skipped,
    /// under <see cref="SelfTradePrevention.CancelIncoming"/> they end the scan.
    /// </summary>
    Quantity FillableQuantity(Side side, Price limit, int accountId, SelfTradePrevention stp, Quantity atMost);

    /// <summary>
    /// Matches an incoming order against the opposite side, best price first, oldest first within a
    /// price, up to <paramref name="limit"/> and <paramref name="quantity"/>. Fills happen at the
    /// resting order's price. Does not rest the remainder: call <see cref="Add"/> for that.
    /// </summary>
    MatchOutcome Match(Side side, Price limit, Quantity quantity, int accountId, SelfTradePrevention stp, IMatchListener listener);

    /// <summary>Rests an order at the back of its price level. The order must not cross the book.</summary>
    void Add(in RestingOrder order);

    /// <summary>Removes an order; false if it is not in the book.</summary>
    bool Remove(long orderId, out RestingOrder removed);

    /// <summary>Lowers an order's open amount in place, keeping its time priority.</summary>
    void Reduce(long orderId, Quantity newRemaining, Quantity newAmount, long updatedMicros);

    /// <summary>Copies up to <c>levels.Length</c> best levels of one side, best first; returns how many.</summary>
    int CopyLevels(Side side, Span<BookLevel> levels);

    /// <summary>
    /// Every resting order in canonical order: bids best price first then asks best price first,
    /// oldest first within a level. Used for hashing and snapshots; allocates.
    /// </summary>
    IReadOnlyList<RestingOrder> OrdersInPriority();
}
