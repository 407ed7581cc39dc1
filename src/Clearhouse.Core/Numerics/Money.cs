using System.Globalization;

namespace Clearhouse.Core.Numerics;

/// <summary>
/// An amount of the settlement asset (USDC), stored as a whole number of micro-units:
/// scale 1e-6, so <c>1 USDC = 1_000_000</c>. Range ±9.2e12 USDC. Default: zero.
/// Arithmetic is checked (Core compiles with overflow checking); division is only through
/// <see cref="FixedMath"/> with an explicit <see cref="Rounding"/>.
/// </summary>
public readonly record struct Money(long Micros) : IComparable<Money>
{
    /// <summary>Micro-units per whole USDC.</summary>
    public const long Scale = 1_000_000;

    /// <summary>Decimal places of the scale.</summary>
    public const int Decimals = 6;

    public static Money Zero => default;

    public bool IsZero => Micros == 0;

    public bool IsNegative => Micros < 0;

    public bool IsPositive => Micros > 0;

    /// <summary>Converts an exact decimal amount; throws if it has more than six decimals.</summary>
    public static Money FromDecimal(decimal value) => new(Scaled.ToUnits(value, Scale, nameof(Money)));

    public static bool TryFromDecimal(decimal value, out Money money)
    {
        bool ok = Scaled.TryToUnits(value, Scale, out long units);
        money = new Money(units);
        return ok;
    }

    public static Money FromWhole(long whole) => new(checked(whole * Scale));

    public decimal ToDecimal() => (decimal)Micros / Scale;

    public static Money operator +(Money a, Money b) => new(checked(a.Micros + b.Micros));

    public static Money operator -(Money a, Money b) => new(checked(a.Micros - b.Micros));

    public static Money operator -(Money a) => new(checked(-a.Micros));

    public static bool operator <(Money a, Money b) => a.Micros < b.Micros;

    public static bool operator >(Money a, Money b) => a.Micros > b.Micros;

    public static bool operator <=(Money a, Money b) => a.Micros <= b.Micros;

    public static bool operator >=(Money a, Money b) => a.Micros >= b.Micros;

    public static Money Max(Money a, Money b) => a.Micros >= b.Micros ? a : b;

    public static Money Min(Money a, Money b) => a.Micros <= b.Micros ? a : b;

    /// <summary>This amount times <paramref name="ppm"/> parts per million, rounded as told.</summary>
    public Money MultiplyPpm(long ppm, Rounding rounding) => new(FixedMath.MulDiv(Micros, ppm, 1_000_000, rounding));

    public int CompareTo(Money other) => Micros.CompareTo(other.Micros);

    public override string ToString() => ToDecimal().ToString(CultureInfo.InvariantCulture);
}
