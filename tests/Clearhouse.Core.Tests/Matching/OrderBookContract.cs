using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Matching;

/// <summary>
/// The behaviour every order book must have. Each implementation gets a subclass, so the fast
/// book and the reference book are held to exactly the same tests (exchange-core's OrderBookBaseTest).
/// </summary>
public abstract class OrderBookContract
{
    protected abstract IOrderBook NewBook();

    private readonly Recorder recorder = new();
    private long nextId = 1;

    private RestingOrder Order(int account, Side side, long price, long quantity, long? id = null) => new()
    {
        OrderId = id ?? nextId++,
        AccountId = account,
        Side = side,
        Price = new Price(price),
        Amount = new Quantity(quantity),
        Remaining = new Quantity(quantity),
    };

    private IOrderBook BookWith(params RestingOrder[] orders)
    {
        var book = NewBook();
        foreach (var order in orders)
        {
            book.Add(order);
        }

        return book;
    }

    [Fact]
    public void An_empty_book_has_no_best_prices_and_crosses_nothing()
    {
        var book = NewBook();
        Assert.False(book.TryGetBestBid(out _));
        Assert.False(book.TryGetBestAsk(out _));
        Assert.False(book.WouldCross(Side.Buy, new Price(long.MaxValue)));
        Assert.Equal(0, book.OrderCount);
    }

    [Fact]
    public void Best_bid_is_the_highest_and_best_ask_the_lowest()
    {
        var book = BookWith(Order(1, Side.Buy, 99, 1), Order(1, Side.Buy, 100, 1), Order(1, Side.Sell, 102, 1), Order(1, Side.Sell, 101, 1));
        Assert.True(book.TryGetBestBid(out var bid));
        Assert.True(book.TryGetBestAsk(out var ask));
        Assert.Equal(100, bid.Micros);
        Assert.Equal(101, ask.Micros);
    }

    [Fact]
    public void A_buy_matches_the_lowest_ask_first_at_the_resting_price()
    {
        var book = BookWith(Order(1, Side.Sell, 102, 5, id: 10), Order(2, Side.Sell, 101, 5, id: 11));
        var outcome = book.Match(Side.Buy, new Price(105), new Quantity(7), accountId: 9, SelfTradePrevention.CancelResting, recorder);
        Assert.Equal(7, outcome.Filled.Units);
        Assert.Equal([(11L, 101L, 5L), (10L, 102L, 2L)], recorder.Fills);
        Assert.True(book.TryGetOrder(10, out var rest));
        Assert.Equal(3, rest.Remaining.Units);
        Assert.False(book.TryGetOrder(11, out _));
    }

    [Fact]
    public void Orders_at_one_price_fill_oldest_first()
    {
        var book = BookWith(Order(1, Side.Buy, 100, 2, id: 1), Order(2, Side.Buy, 100, 2, id: 2), Order(3, Side.Buy, 100, 2, id: 3));
        book.Match(Side.Sell, new Price(100), new Quantity(3), 9, SelfTradePrevention.CancelResting, recorder);
        Assert.Equal([(1L, 100L, 2L), (2L, 100L, 1L)], recorder.Fills);
    }

    [Fact]
    public void Matching_stops_at_the_limit_price()
    {
        var book = BookWith(Order(1, Side.Sell, 101, 1), Order(1, Side.Sell, 103, 1));
        var outcome = book.Match(Side.Buy, new Price(102), new Quantity(5), 9, SelfTradePrevention.CancelResting, recorder);
        Assert.Equal(1, outcome.Filled.Units);
        Assert.True(book.TryGetBestAsk(out var ask));
        Assert.Equal(103, ask.Micros);
    }

    [Fact]
    public void Self_trade_prevention_by_default_cancels_the_resting_order_and_keeps_matching()
    {
        var book = BookWith(Order(9, Side.Sell, 100, 1, id: 1), Order(2, Side.Sell, 100, 1, id: 2));
        var outcome = book.Match(Side.Buy, new Price(100), new Quantity(1), 9, SelfTradePrevention.CancelResting, recorder);
        Assert.Equal(1, outcome.Filled.Units);
        Assert.Equal([1L], recorder.SelfTradeCancels);
        Assert.Equal([(2L, 100L, 1L)], recorder.Fills);
        Assert.Equal(0, book.OrderCount);
    }

    [Fact]
    public void Self_trade_prevention_can_instead_stop_the_incoming_order()
    {
        var book = BookWith(Order(2, Side.Sell, 100, 1, id: 1), Order(9, Side.Sell, 100, 1, id: 2), Order(3, Side.Sell, 100, 1, id: 3));
        var outcome = book.Match(Side.Buy, new Price(100), new Quantity(3), 9, SelfTradePrevention.CancelIncoming, recorder);
        Assert.True(outcome.StoppedBySelfTrade);
        Assert.Equal(1, outcome.Filled.Units);
        Assert.Equal(2, book.OrderCount);
        Assert.Empty(recorder.SelfTradeCancels);
    }

    [Fact]
    public void Fillable_quantity_skips_own_orders_and_stops_at_the_limit()
    {
        var book = BookWith(Order(9, Side.Sell, 100, 5), Order(2, Side.Sell, 100, 2), Order(3, Side.Sell, 101, 4), Order(4, Side.Sell, 103, 10));
        Assert.Equal(6, book.FillableQuantity(Side.Buy, new Price(102), 9, SelfTradePrevention.CancelResting, new Quantity(100)).Units);
        Assert.Equal(0, book.FillableQuantity(Side.Buy, new Price(102), 9, SelfTradePrevention.CancelIncoming, new Quantity(100)).Units);
        Assert.Equal(3, book.FillableQuantity(Side.Buy, new Price(102), 9, SelfTradePrevention.CancelResting, new Quantity(3)).Units);
    }

    [Fact]
    public void Removing_the_last_order_of_a_level_removes_the_level()
    {
        var book = BookWith(Order(1, Side.Buy, 100, 1, id: 1), Order(1, Side.Buy, 99, 1, id: 2));
        Assert.True(book.Remove(1, out var removed));
        Assert.Equal(1, removed.OrderId);
        Assert.True(book.TryGetBestBid(out var bid));
        Assert.Equal(99, bid.Micros);
        Assert.False(book.Remove(1, out _));
    }

    [Fact]
    public void Reducing_an_order_keeps_its_place_in_the_queue()
    {
        var book = BookWith(Order(1, Side.Buy, 100, 5, id: 1), Order(2, Side.Buy, 100, 5, id: 2));
        book.Reduce(1, new Quantity(2), new Quantity(2), 0);
        book.Match(Side.Sell, new Price(100), new Quantity(3), 9, SelfTradePrevention.CancelResting, recorder);
        Assert.Equal([(1L, 100L, 2L), (2L, 100L, 1L)], recorder.Fills);
    }

    [Fact]
    public void Levels_aggregate_quantity_and_count_best_first()
    {
        var book = BookWith(Order(1, Side.Sell, 101, 1), Order(2, Side.Sell, 101, 2), Order(1, Side.Sell, 105, 7), Order(1, Side.Buy, 99, 4));
        Span<BookLevel> levels = stackalloc BookLevel[5];
        int n = book.CopyLevels(Side.Sell, levels);
        Assert.Equal(2, n);
        Assert.Equal(new BookLevel(new Price(101), new Quantity(3), 2), levels[0]);
        Assert.Equal(new BookLevel(new Price(105), new Quantity(7), 1), levels[1]);
        Assert.Equal(1, book.CopyLevels(Side.Buy, levels));
    }

    [Fact]
    public void Orders_in_priority_list_bids_then_asks_best_first_then_oldest_first()
    {
        var book = BookWith(Order(1, Side.Buy, 99, 1, id: 1), Order(1, Side.Buy, 100, 1, id: 2), Order(1, Side.Buy, 100, 1, id: 3), Order(1, Side.Sell, 102, 1, id: 4), Order(1, Side.Sell, 101, 1, id: 5));
        Assert.Equal([2L, 3L, 1L, 5L, 4L], book.OrdersInPriority().Select(o => o.OrderId));
    }

    [Fact]
    public void A_large_book_stays_sorted_through_many_inserts_and_removals()
    {
        var book = NewBook();
        var random = new Random(7);
        var live = new List<long>();
        for (int i = 1; i <= 2_000; i++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                int at = random.Next(live.Count);
                Assert.True(book.Remove(live[at], out _));
                live.RemoveAt(at);
            }
            else
            {
                var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
                long price = side == Side.Buy ? random.Next(1, 500) : random.Next(501, 1000);
                book.Add(Order(1, side, price, 1, id: i));
                live.Add(i);
            }
        }

        Assert.Equal(live.Count, book.OrderCount);
        var orders = book.OrdersInPriority();
        var bids = orders.Where(o => o.Side == Side.Buy).Select(o => o.Price.Micros).ToList();
        var asks = orders.Where(o => o.Side == Side.Sell).Select(o => o.Price.Micros).ToList();
        Assert.Equal(bids.OrderByDescending(p => p), bids);
        Assert.Equal(asks.OrderBy(p => p), asks);
    }

    private sealed class Recorder : IMatchListener
    {
        public List<(long OrderId, long Price, long Quantity)> Fills { get; } = [];

        public List<long> SelfTradeCancels { get; } = [];

        public void OnMakerFill(in RestingOrder maker, Quantity quantity) => Fills.Add((maker.OrderId, maker.Price.Micros, quantity.Units));

        public void OnSelfTradeCancel(in RestingOrder resting) => SelfTradeCancels.Add(resting.OrderId);
    }
}

public sealed class ArrayOrderBookTests : OrderBookContract
{
    protected override IOrderBook NewBook() => new ArrayOrderBook(expectedOrders: 4);
}

public sealed class ReferenceOrderBookTests : OrderBookContract
{
    protected override IOrderBook NewBook() => new ReferenceOrderBook();
}
