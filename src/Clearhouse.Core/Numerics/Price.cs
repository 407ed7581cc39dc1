using System.Globalization;

namespace Clearhouse.Core.Numerics;

/// <summary>
/// A price in USDC per one unit of the underlying, stored in micro-USDC: scale 1e-6, so a
/// price of 100,000.5 USDC is <c>100_000_500_000</c>. Prices may be negative only where a
/// formula needs it (a basis or a price change); order prices are always positive.
/// </summary>
public readonly record struct Price(long Micros) : IComparable<Price>
{
    public const long Scale = 1_000_000;

    public const int Decimals = 6;

    public static Price Zero => default;

    public bool IsPositive => Micros > 0;

    public static Price FromDecimal(decimal value) => new(Scaled.ToUnits(value, Scale, nameof(Price)));

    public static bool TryFromDecimal(decimal value, out Price price)
    {
        bool ok = Scaled.TryToUnits(value, Scale, out long units);
        price = new Price(units);
        return ok;
    }

    public static Price FromWhole(long whole) => new(checked(whole * Scale));

    public decimal ToDecimal() => (decimal)Micros / Scale;

    public static Price operator +(Price a, Price b) => new(checked(a.Micros + b.Micros));

    public static Price operator -(Price a, Price b) => new(checked(a.Micros - b.Micros));

    public static bool operator <(Price a, Price b) => a.Micros < b.Micros;

    public static bool operator >(Price a, Price b) => a.Micros > b.Micros;

    public static bool operator <=(Price a, Price b) => a.Micros <= b.Micros;

    public static bool operator >=(Price a, Price b) => a.Micros >= b.Micros;

    /// <summary>True when this price is a whole number of <paramref name="tick"/>s.</summary>
    public bool IsMultipleOf(Price tick) => tick.Micros > 0 && Micros % tick.Micros == 0;

    /// <summary>This price scaled by <paramref name="ppm"/> parts per million, rounded as told.</summary>
    public Price MultiplyPpm(long ppm, Rounding rounding) => new(FixedMath.MulDiv(Micros, ppm, 1_000_000, rounding));

    /// <summary>Rounds to a multiple of <paramref name="tick"/> in the direction given.</summary>
    public Price RoundToTick(Price tick, Rounding rounding) => new(checked(FixedMath.Divide(Micros, tick.Micros, rounding) * tick.Micros));

    public int CompareTo(Price other) => Micros.CompareTo(other.Micros);

    public override string ToString() => ToDecimal().ToString(CultureInfo.InvariantCulture);
}
