using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Numerics;

public class FixedPointTests
{
    [Theory]
    [InlineData(7, 2, Rounding.Floor, 3)]
    [InlineData(7, 2, Rounding.Ceiling, 4)]
    [InlineData(-7, 2, Rounding.Floor, -4)]
    [InlineData(-7, 2, Rounding.Ceiling, -3)]
    [InlineData(6, 2, Rounding.Floor, 3)]
    [InlineData(-6, 2, Rounding.Ceiling, -3)]
    public void Division_rounds_in_the_named_direction_for_both_signs(long dividend, long divisor, Rounding rounding, long expected) =>
        Assert.Equal(expected, FixedMath.Divide(dividend, divisor, rounding));

    [Fact]
    public void MulDiv_forms_the_product_in_128_bits_when_it_overflows_64()
    {
        // 3e18 × 5 = 1.5e19 does not fit a long; the quotient does.
        Assert.Equal(1_500_000_000_000_000_000, FixedMath.MulDiv(3_000_000_000_000_000_000, 5, 10, Rounding.Floor));
        Assert.Equal(-1_500_000_000_000_000_001, FixedMath.MulDiv(-3_000_000_000_000_000_001, 5, 10, Rounding.Floor));
        Assert.Equal(-1_500_000_000_000_000_000, FixedMath.MulDiv(-3_000_000_000_000_000_001, 5, 10, Rounding.Ceiling));
    }

    [Fact]
    public void MulDiv_throws_rather_than_wrapping_when_the_result_does_not_fit() =>
        Assert.Throws<OverflowException>(() => FixedMath.MulDiv(long.MaxValue, long.MaxValue, 1, Rounding.Floor));

    [Fact]
    public void Notional_of_one_and_a_half_btc_at_100000_5_is_150000_75_usdc()
    {
        var notional = Notional.Of(Price.FromDecimal(100_000.5m), Quantity.FromDecimal(1.5m), Rounding.Floor);
        Assert.Equal(Money.FromDecimal(150_000.75m), notional);
    }

    [Fact]
    public void Notional_below_a_micro_rounds_up_for_a_debit_and_down_for_a_credit()
    {
        // 0.000001 USDC × 0.5 units = 0.0000005 USDC: half a micro.
        var price = new Price(1);
        var quantity = Quantity.FromDecimal(0.5m);
        Assert.Equal(new Money(1), Notional.Of(price, quantity, Rounding.Ceiling));
        Assert.Equal(Money.Zero, Notional.Of(price, quantity, Rounding.Floor));
    }

    [Fact]
    public void Notional_of_a_short_is_negative_and_floor_makes_it_more_negative()
    {
        var notional = Notional.Of(new Price(1), Quantity.FromDecimal(-0.5m), Rounding.Floor);
        Assert.Equal(new Money(-1), notional);
    }

    [Theory]
    [InlineData("0.000001", true)]
    [InlineData("0.0000001", false)]
    [InlineData("12345678.123456", true)]
    [InlineData("99999999999999999999", false)]
    public void Money_accepts_only_amounts_it_can_represent_exactly(string text, bool ok)
    {
        Assert.Equal(ok, Money.TryFromDecimal(decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture), out _));
    }

    [Fact]
    public void Quantity_has_eight_decimals_and_round_trips_through_text()
    {
        var q = Quantity.FromDecimal(0.00000001m);
        Assert.Equal(1, q.Units);
        Assert.Equal("0.00000001", q.ToString());
        Assert.False(Quantity.TryFromDecimal(0.000000001m, out _));
    }

    [Fact]
    public void Checked_arithmetic_throws_on_overflow_instead_of_wrapping() =>
        Assert.Throws<OverflowException>(() => new Money(long.MaxValue) + new Money(1));

    [Theory]
    [InlineData(100_000_500_000, 1_000_000, Rounding.Floor, 100_000_000_000)]
    [InlineData(100_000_500_000, 1_000_000, Rounding.Ceiling, 100_001_000_000)]
    [InlineData(100_000_000_000, 1_000_000, Rounding.Ceiling, 100_000_000_000)]
    public void Prices_round_to_a_tick_in_the_named_direction(long micros, long tick, Rounding rounding, long expected) =>
        Assert.Equal(expected, new Price(micros).RoundToTick(new Price(tick), rounding).Micros);

    [Fact]
    public void Ppm_scaling_rounds_as_told()
    {
        Assert.Equal(new Money(1), new Money(1).MultiplyPpm(500, Rounding.Ceiling));
        Assert.Equal(Money.Zero, new Money(1).MultiplyPpm(500, Rounding.Floor));
        Assert.Equal(new Money(50_000), Money.FromWhole(100).MultiplyPpm(500, Rounding.Floor));
    }
}
