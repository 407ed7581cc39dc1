using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>Price bands (docs/guards.md): limit orders beyond ±band of the mark are refused; market orders are capped.</summary>
public class PriceBandTests
{
    private static readonly GuardParameters Band10Pct = new(PriceBandPpm: 100_000);

    [Theory]
    [InlineData(Side.Buy, 110_000.0, true)] // exactly +10%: on the band
    [InlineData(Side.Buy, 110_000.5, false)] // one tick beyond
    [InlineData(Side.Sell, 90_000.0, true)] // exactly −10%
    [InlineData(Side.Sell, 89_999.5, false)]
    [InlineData(Side.Buy, 89_999.5, false)] // the band is two-sided: a bid far below the mark is refused too
    [InlineData(Side.Sell, 110_000.5, false)]
    public void Limit_order_on_the_band_is_accepted_and_one_tick_beyond_is_rejected(Side side, double price, bool accepted)
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, Band10Pct);
        int trader = v.NewAccount(1_000_000m);
        var order = GuardVenue.Order(trader, btc, side, (decimal)price, 0.1m);
        if (accepted)
        {
            v.Accept(order);
        }
        else
        {
            v.Reject(order, RejectReason.PriceOutsideBand);
        }
    }

    [Fact]
    public void Amend_beyond_the_band_is_rejected_and_changes_nothing()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m, Band10Pct);
        int trader = v.NewAccount(1_000_000m);
        long id = v.Place(trader, btc, Side.Buy, 99_000m, 0.1m);
        v.Reject(new AmendOrder(trader, id, Price.FromDecimal(111_000m), Quantity.FromDecimal(0.1m)), RejectReason.PriceOutsideBand);
        v.Accept(new AmendOrder(trader, id, Price.FromDecimal(110_000m), Quantity.FromDecimal(0.1m)));
    }

    [Fact]
    public void Market_order_is_capped_at_the_band_when_it_is_tighter_than_market_protection()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int maker = v.NewAccount(10_000_000m);
        int taker = v.NewAccount(10_000_000m);
        v.Place(maker, btc, Side.Sell, 101_000m, 1m);
        v.Place(maker, btc, Side.Sell, 103_000m, 1m); // inside the 5% protection, outside a 2% band
        v.Accept(new SetInstrumentGuards(btc, new GuardParameters(PriceBandPpm: 20_000)));

        v.Accept(GuardVenue.Order(taker, btc, Side.Buy, 0m, 2m, TimeInForce.ImmediateOrCancel, OrderType.Market));

        var trade = Assert.Single(v.Events, e => e.Kind == EventKind.TradeExecuted);
        Assert.Equal(Price.FromDecimal(101_000m), trade.Price);
        Assert.Equal(Quantity.FromDecimal(1m), v.Size(taker, btc));
        Assert.Contains(v.Events, e => e.Kind == EventKind.OrderCancelled && e.CancelReason == CancelReason.ImmediateOrCancelRemainder);
    }

    [Fact]
    public void Without_a_band_market_orders_are_still_capped_by_market_protection()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int maker = v.NewAccount(10_000_000m);
        int taker = v.NewAccount(10_000_000m);
        v.Place(maker, btc, Side.Sell, 105_000m, 1m); // exactly at the 5% protection
        v.Place(maker, btc, Side.Sell, 105_000.5m, 1m);

        v.Accept(GuardVenue.Order(taker, btc, Side.Buy, 0m, 2m, TimeInForce.ImmediateOrCancel, OrderType.Market));

        var trade = Assert.Single(v.Events, e => e.Kind == EventKind.TradeExecuted);
        Assert.Equal(Price.FromDecimal(105_000m), trade.Price);
    }
}
