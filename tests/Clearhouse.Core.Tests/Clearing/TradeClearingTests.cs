using Clearhouse.Core.Accounts;
using Clearhouse.Core.Clearing;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Clearing;

public class TradeClearingTests
{
    private static Quantity Q(decimal d) => Quantity.FromDecimal(d);

    private static Money M(decimal d) => Money.FromDecimal(d);

    [Fact]
    public void Opening_a_long_records_its_cost_and_realizes_nothing()
    {
        var p = default(Position);
        var realized = TradeClearing.ApplyFill(ref p, Q(2), M(200_000));
        Assert.Equal(Money.Zero, realized);
        Assert.Equal(Q(2), p.Size);
        Assert.Equal(Price.FromWhole(100_000), p.AverageEntryPrice);
    }

    [Fact]
    public void Adding_to_a_long_averages_the_entry_price()
    {
        var p = default(Position);
        TradeClearing.ApplyFill(ref p, Q(1), M(100_000));
        TradeClearing.ApplyFill(ref p, Q(1), M(110_000));
        Assert.Equal(Price.FromWhole(105_000), p.AverageEntryPrice);
    }

    [Fact]
    public void Reducing_a_long_realizes_the_gain_on_the_part_closed()
    {
        var p = default(Position);
        TradeClearing.ApplyFill(ref p, Q(2), M(200_000));
        var realized = TradeClearing.ApplyFill(ref p, Q(-1), M(-110_000)); // sold 1 at 110,000
        Assert.Equal(M(10_000), realized);
        Assert.Equal(Q(1), p.Size);
        Assert.Equal(M(100_000), p.OpenCost);
        Assert.Equal(M(10_000), p.RealizedPnl);
    }

    [Fact]
    public void Covering_a_short_at_a_lower_price_realizes_a_gain()
    {
        var p = default(Position);
        TradeClearing.ApplyFill(ref p, Q(-1), M(-100_000));
        var realized = TradeClearing.ApplyFill(ref p, Q(1), M(90_000));
        Assert.Equal(M(10_000), realized);
        Assert.True(p.Size.IsZero);
        Assert.Equal(Money.Zero, p.OpenCost);
    }

    [Fact]
    public void A_flip_closes_the_whole_position_and_opens_the_rest_at_the_fill_price()
    {
        var p = default(Position);
        TradeClearing.ApplyFill(ref p, Q(1), M(100_000));
        var realized = TradeClearing.ApplyFill(ref p, Q(-3), M(-360_000)); // sell 3 at 120,000
        Assert.Equal(M(20_000), realized);
        Assert.Equal(Q(-2), p.Size);
        Assert.Equal(M(-240_000), p.OpenCost);
        Assert.Equal(Price.FromWhole(120_000), p.AverageEntryPrice);
    }

    [Fact]
    public void Partial_close_rounds_the_released_cost_up_so_realized_pnl_rounds_against_the_account()
    {
        var p = default(Position);
        TradeClearing.ApplyFill(ref p, new Quantity(3), new Money(10)); // cost 10 micros for 3 units
        var realized = TradeClearing.ApplyFill(ref p, new Quantity(-1), new Money(-3)); // released ceil(10/3) = 4
        Assert.Equal(new Money(-1), realized);
        Assert.Equal(new Money(6), p.OpenCost);
    }
}
