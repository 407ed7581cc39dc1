using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Engine;

public class AmendTests
{
    private readonly Venue venue = new();
    private readonly int btc;
    private readonly int alice;
    private readonly int bob;
    private readonly int carol;

    public AmendTests()
    {
        btc = venue.ListBtcPerpetual();
        alice = venue.NewAccount(1_000_000m);
        bob = venue.NewAccount(1_000_000m);
        carol = venue.NewAccount(1_000_000m);
    }

    private RejectReason Amend(int account, long orderId, decimal price, decimal amount) =>
        venue.Apply(new AmendOrder(account, orderId, Price.FromDecimal(price), Quantity.FromDecimal(amount)));

    private long FirstMakerHitBySelling(decimal amount)
    {
        venue.Sell(carol, btc, 99_000m, amount, TimeInForce.ImmediateOrCancel);
        return venue.Trades.First().MakerOrderId;
    }

    [Fact]
    public void A_size_decrease_keeps_time_priority()
    {
        long first = venue.Buy(alice, btc, 100_000m, 1m);
        venue.Buy(bob, btc, 100_000m, 1m);
        Assert.Equal(RejectReason.None, Amend(alice, first, 100_000m, 0.5m));
        Assert.Equal(first, FirstMakerHitBySelling(0.1m));
    }

    [Fact]
    public void A_size_increase_loses_time_priority()
    {
        long first = venue.Buy(alice, btc, 100_000m, 1m);
        long second = venue.Buy(bob, btc, 100_000m, 1m);
        Assert.Equal(RejectReason.None, Amend(alice, first, 100_000m, 2m));
        Assert.Equal(second, FirstMakerHitBySelling(0.1m));
    }

    [Fact]
    public void A_price_change_loses_time_priority_even_when_moved_back()
    {
        long first = venue.Buy(alice, btc, 100_000m, 1m);
        long second = venue.Buy(bob, btc, 100_000m, 1m);
        Assert.Equal(RejectReason.None, Amend(alice, first, 99_999.5m, 1m));
        Assert.Equal(RejectReason.None, Amend(alice, first, 100_000m, 1m));
        Assert.Equal(second, FirstMakerHitBySelling(0.1m));
    }

    [Fact]
    public void An_amend_that_crosses_the_book_trades_at_once()
    {
        venue.Sell(bob, btc, 100_500m, 0.4m);
        long bid = venue.Buy(alice, btc, 100_000m, 1m);
        Assert.Equal(RejectReason.None, Amend(alice, bid, 100_500m, 1m));
        var trade = Assert.Single(venue.Trades);
        Assert.Equal(bid, trade.OrderId);
        Assert.Equal(Quantity.FromDecimal(0.4m), trade.Quantity);
        Assert.True(venue.Engine.TryGetOpenOrder(bid, out var rest, out _));
        Assert.Equal(Quantity.FromDecimal(0.6m), rest.Remaining);
        Assert.Equal(Price.FromDecimal(100_500m), rest.Price);
    }

    [Fact]
    public void The_amount_is_the_new_total_and_must_stay_above_what_has_filled()
    {
        long ask = venue.Sell(alice, btc, 100_000m, 1m);
        venue.Buy(bob, btc, 100_000m, 0.4m);
        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.AmendAmountNotAboveFilled, Amend(alice, ask, 100_000m, 0.4m));
        Assert.Equal(before, venue.Engine.ComputeStateHashHex());
        Assert.Equal(RejectReason.None, Amend(alice, ask, 100_000m, 0.5m));
        Assert.True(venue.Engine.TryGetOpenOrder(ask, out var order, out _));
        Assert.Equal(Quantity.FromDecimal(0.1m), order.Remaining);
    }

    [Fact]
    public void A_post_only_order_cannot_be_amended_across_the_book()
    {
        venue.Sell(bob, btc, 100_500m, 1m);
        long bid = venue.Place(alice, btc, Side.Buy, 100_000m, 1m, flags: OrderFlags.PostOnly);
        string before = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.PostOnlyWouldCross, Amend(alice, bid, 100_500m, 1m));
        Assert.Equal(before, venue.Engine.ComputeStateHashHex());
    }

    [Fact]
    public void Amending_an_order_of_another_account_is_refused_as_unknown()
    {
        long bid = venue.Buy(alice, btc, 100_000m, 1m);
        Assert.Equal(RejectReason.UnknownOrder, Amend(bob, bid, 100_000m, 2m));
    }
}
