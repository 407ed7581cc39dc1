using System.Globalization;

namespace Clearhouse.Core.Numerics;

/// <summary>
/// An amount of the underlying (contracts; one contract is one unit of the underlying), stored
/// in 1e-8 units ("satoshis"): <c>1 BTC = 100_000_000</c>. Signed where it is a position
/// (long positive, short negative); order amounts are always positive.
/// </summary>
public readonly record struct Quantity(long Units) : IComparable<Quantity>
{
    public const long Scale = 100_000_000;

    public const int Decimals = 8;

    public static Quantity Zero => default;

    public bool IsZero => Units == 0;

    public bool IsPositive => Units > 0;

    public bool IsNegative => Units < 0;

    public Quantity Abs() => new(Math.Abs(Units));

    public int Sign => Math.Sign(Units);

    public static Quantity FromDecimal(decimal value) => new(Scaled.ToUnits(value, Scale, nameof(Quantity)));

    public static bool TryFromDecimal(decimal value, out Quantity quantity)
    {
        bool ok = Scaled.TryToUnits(value, Scale, out long units);
        quantity = new Quantity(units);
        return ok;
    }

    public static Quantity FromWhole(long whole) => new(checked(whole * Scale));

    public decimal ToDecimal() => (decimal)Units / Scale;

    public static Quantity operator +(Quantity a, Quantity b) => new(checked(a.Units + b.Units));

    public static Quantity operator -(Quantity a, Quantity b) => new(checked(a.Units - b.Units));

    public static Quantity operator -(Quantity a) => new(checked(-a.Units));

    public static bool operator <(Quantity a, Quantity b) => a.Units < b.Units;

    public static bool operator >(Quantity a, Quantity b) => a.Units > b.Units;

    public static bool operator <=(Quantity a, Quantity b) => a.Units <= b.Units;

    public static bool operator >=(Quantity a, Quantity b) => a.Units >= b.Units;

    public static Quantity Min(Quantity a, Quantity b) => a.Units <= b.Units ? a : b;

    public bool IsMultipleOf(Quantity lot) => lot.Units > 0 && Units % lot.Units == 0;

    public int CompareTo(Quantity other) => Units.CompareTo(other.Units);

    public override string ToString() => ToDecimal().ToString(CultureInfo.InvariantCulture);
}
