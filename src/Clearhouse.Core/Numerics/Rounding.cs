namespace Clearhouse.Core.Numerics;

/// <summary>
/// Direction of every rounding in Core. There is no "nearest": each call site says which way it
/// rounds and whom that favours (requirements and debits up, credits down, DESIGN.md section 2).
/// </summary>
public enum Rounding : byte
{
    /// <summary>Toward negative infinity.</summary>
    Floor = 0,

    /// <summary>Toward positive infinity.</summary>
    Ceiling = 1,
}

/// <summary>Exact integer arithmetic helpers with explicit rounding.</summary>
public static class FixedMath
{
    /// <summary>
    /// Computes <c>a × b / divisor</c> exactly (the product is formed in 128 bits) and rounds the
    /// quotient as told. Throws <see cref="OverflowException"/> if the result does not fit a long.
    /// </summary>
    public static long MulDiv(long a, long b, long divisor, Rounding rounding)
    {
        if (divisor <= 0)
        {
            ThrowDivisorNotPositive();
        }

        long high = Math.BigMul(a, b, out long low);
        if ((high == 0 && low >= 0) || (high == -1 && low < 0))
        {
            // Fast path: the product fits in 64 bits.
            return Divide(low, divisor, rounding);
        }

        var (quotient, remainder) = Int128.DivRem((Int128)a * b, divisor);
        return checked((long)Adjust(quotient, remainder, rounding));
    }

    /// <summary>Divides with explicit rounding; <paramref name="divisor"/> must be positive.</summary>
    public static long Divide(long dividend, long divisor, Rounding rounding)
    {
        long q = Math.DivRem(dividend, divisor, out long r);
        if (r == 0)
        {
            return q;
        }

        // Truncation rounds toward zero: fix up the cases where that is the wrong direction.
        if (rounding == Rounding.Floor && r < 0)
        {
            return q - 1;
        }

        if (rounding == Rounding.Ceiling && r > 0)
        {
            return q + 1;
        }

        return q;
    }

    private static Int128 Adjust(Int128 q, Int128 r, Rounding rounding)
    {
        if (rounding == Rounding.Floor && r < 0)
        {
            return q - 1;
        }

        if (rounding == Rounding.Ceiling && r > 0)
        {
            return q + 1;
        }

        return q;
    }

    private static void ThrowDivisorNotPositive() => throw new ArgumentOutOfRangeException("divisor", "The divisor must be positive.");
}
