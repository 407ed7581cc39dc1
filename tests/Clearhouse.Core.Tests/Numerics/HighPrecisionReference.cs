using System.Numerics;

namespace Clearhouse.Core.Tests.Numerics;

/// <summary>
/// Slow, simple, independent references for exp, ln and Φ in binary fixed point with
/// <see cref="Bits"/> fractional bits (BigInteger), enough that even Φ(−37) ≈ 5.7e-300 computed
/// by a cancelling series keeps hundreds of correct digits. Used only to measure the error of
/// DeterministicMath; nothing here is fast or clever.
/// </summary>
internal static class HighPrecisionReference
{
    public const int Bits = 2200;

    private static readonly BigInteger One = BigInteger.One << Bits;
    private static readonly Lazy<BigInteger> LazyLn2 = new(() => 2 * AtanhOfRational(1, 3));
    private static readonly Lazy<BigInteger> LazyPi = new(ComputePi);

    /// <summary>The exact value of a finite double in fixed point (throws below the resolution).</summary>
    public static BigInteger FromDouble(double x)
    {
        if (x == 0)
        {
            return BigInteger.Zero;
        }

        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7ff);
        long mantissa = bits & 0xfffffffffffffL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1L << 52;
        }

        int shift = exponent - 1075 + Bits;
        if (shift < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(x), "Too small for the fixed-point resolution.");
        }

        var value = new BigInteger(mantissa) << shift;
        return x < 0 ? -value : value;
    }

    /// <summary>(actual − reference)/reference as a double.</summary>
    public static double RelativeError(double actual, BigInteger reference)
    {
        var diff = FromDouble(actual) - reference;
        return Ratio(diff, reference);
    }

    public static double Ratio(BigInteger numerator, BigInteger denominator)
    {
        if (numerator.IsZero)
        {
            return 0;
        }

        // Scale both to ~60 significant bits before converting.
        long shift = Math.Max(0, (long)BigInteger.Abs(denominator).GetBitLength() - 60);
        double d = (double)(denominator >> (int)shift);
        double n = (double)(numerator >> (int)shift);
        if (double.IsInfinity(n))
        {
            return n;
        }

        return n / d;
    }

    public static double ToDouble(BigInteger value) => Ratio(value, One);

    public static BigInteger Exp(double x)
    {
        // e^x = (e^(x/2^m))^(2^m); x/2^m is exact, its Taylor series converges fast.
        const int m = 14;
        var r = FromDouble(x) >> m;
        var sum = One;
        var term = One;
        for (int k = 1; ; k++)
        {
            term = term * r / (k * One);
            if (term.IsZero)
            {
                break;
            }

            sum += term;
        }

        for (int i = 0; i < m; i++)
        {
            sum = sum * sum >> Bits;
        }

        return sum;
    }

    public static BigInteger Ln(double x)
    {
        if (!(x > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(x));
        }

        // x = m·2^e with m in [1, 2): ln x = e·ln 2 + 2·atanh((m − 1)/(m + 1)).
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7ff);
        long mantissa = bits & 0xfffffffffffffL;
        int e;
        if (exponent == 0)
        {
            int lead = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)mantissa);
            e = -1074 + lead;
            mantissa <<= 52 - lead;
            mantissa &= 0xfffffffffffffL;
        }
        else
        {
            e = exponent - 1023;
        }

        var numerator = new BigInteger(mantissa);          // (m − 1)·2^52
        var denominator = (BigInteger.One << 53) + mantissa; // (m + 1)·2^52
        return e * LazyLn2.Value + 2 * AtanhOfRational(numerator, denominator);
    }

    /// <summary>Φ(x) = 1/2 + φ(x)·Σ x^(2n+1)/(1·3·5···(2n+1)) (all terms positive for x ≥ 0).</summary>
    public static BigInteger NormalCdf(double x)
    {
        var ax = FromDouble(Math.Abs(x));
        var sum = BigInteger.Zero;
        var term = ax;
        for (int n = 0; ; n++)
        {
            sum += term;
            term = term * ax >> Bits;
            term = term * ax / ((2 * n + 3) * One);
            if (term.IsZero)
            {
                break;
            }
        }

        var pdf = NormalPdf(x);
        var half = One / 2;
        var tail = pdf * sum >> Bits;
        return x >= 0 ? half + tail : half - tail;
    }

    public static BigInteger NormalPdf(double x)
    {
        // e^(−x²/2)/√(2π); x² and x²/2 are exact in fixed point but not as doubles, so do it here.
        var fx = FromDouble(x);
        var halfSquare = (fx * fx >> Bits) / 2;
        var e = ExpFixed(-halfSquare);
        var sqrt2Pi = Sqrt(2 * LazyPi.Value);
        return (e << Bits) / sqrt2Pi;
    }

    private static BigInteger ExpFixed(BigInteger value)
    {
        const int m = 14;
        var r = value >> m;
        var sum = One;
        var term = One;
        for (int k = 1; ; k++)
        {
            term = term * r / (k * One);
            if (term.IsZero)
            {
                break;
            }

            sum += term;
        }

        for (int i = 0; i < m; i++)
        {
            sum = sum * sum >> Bits;
        }

        return sum;
    }

    private static BigInteger Sqrt(BigInteger value)
    {
        // sqrt in fixed point: isqrt(value · 2^Bits).
        var n = value << Bits;
        var x = BigInteger.One << (int)((n.GetBitLength() + 1) / 2);
        while (true)
        {
            var y = (x + n / x) >> 1;
            if (y >= x)
            {
                return x;
            }

            x = y;
        }
    }

    /// <summary>atanh(p/q) = Σ (p/q)^(2k+1)/(2k+1), |p/q| ≤ 1/3.</summary>
    private static BigInteger AtanhOfRational(BigInteger p, BigInteger q)
    {
        var z = (p << Bits) / q;
        var z2 = z * z >> Bits;
        var power = z;
        var sum = BigInteger.Zero;
        for (int k = 0; !power.IsZero; k++)
        {
            sum += power / (2 * k + 1);
            power = power * z2 >> Bits;
        }

        return sum;
    }

    private static BigInteger ComputePi()
    {
        // Machin: π = 16·atan(1/5) − 4·atan(1/239).
        return 16 * Atan(5) - 4 * Atan(239);

        static BigInteger Atan(int inverse)
        {
            var power = One / inverse;
            var sum = BigInteger.Zero;
            var square = (BigInteger)inverse * inverse;
            for (int k = 0; !power.IsZero; k++)
            {
                var term = power / (2 * k + 1);
                sum += k % 2 == 0 ? term : -term;
                power /= square;
            }

            return sum;
        }
    }
}
