using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

using static Clearhouse.Core.Numerics.DeterministicMath;

namespace Clearhouse.Core.Numerics;

/// <summary>
/// Four-lane twins of <see cref="DeterministicMath"/>: each function performs, lane by lane,
/// exactly the IEEE operations of its scalar twin in the same order (branches become selects),
/// so the results are bit-identical to the scalar ones. Any change here must be mirrored there and
/// the other way round; the tests compare both over random and edge-case inputs.
/// </summary>
internal static class DeterministicMathVector
{
    private static readonly Vector256<double> Magic = Vector256.Create(RoundingMagic);
    private static readonly Vector256<long> MagicBits = Vector256.Create(RoundingMagicBits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Exp(Vector256<double> x)
    {
        var t = x * Vector256.Create(InvLn2) + Magic;
        var k = t.AsInt64() - MagicBits;
        var kd = t - Magic;
        var hi = x - kd * Vector256.Create(Ln2Hi);
        var result = ExpReduced(hi, kd * Vector256.Create(Ln2Lo), k);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ExpMaxArgument)), Vector256.Create(double.PositiveInfinity), result);
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpMinArgument)), Vector256<double>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ExpSplit(Vector256<double> hi, Vector256<double> lo)
    {
        var sum = hi + lo;
        var t = sum * Vector256.Create(InvLn2) + Magic;
        var k = t.AsInt64() - MagicBits;
        var kd = t - Magic;
        var rhi = (hi - kd * Vector256.Create(Ln2Hi)) + lo;
        var result = ExpReduced(rhi, kd * Vector256.Create(Ln2Lo), k);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(sum, Vector256.Create(ExpMinArgument)), result, Vector256<double>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ExpReduced(Vector256<double> hi, Vector256<double> lo, Vector256<long> k)
    {
        var r = hi - lo;
        var rr = r * r;
        var c = r - rr * (Vector256.Create(ExpP1) + rr * (Vector256.Create(ExpP2) + rr * (Vector256.Create(ExpP3) + rr * (Vector256.Create(ExpP4) + rr * Vector256.Create(ExpP5)))));
        var y = Vector256.Create(1.0) - ((lo - (r * c) / (Vector256.Create(2.0) - c)) - hi);
        return ScaleByPowerOfTwo(y, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ScaleByPowerOfTwo(Vector256<double> y, Vector256<long> k)
    {
        var k1 = Vector256.ShiftRightArithmetic(k, 1);
        var k2 = k - k1;
        var bias = Vector256.Create(1023L);
        var s1 = Vector256.ShiftLeft(k1 + bias, 52).AsDouble();
        var s2 = Vector256.ShiftLeft(k2 + bias, 52).AsDouble();
        return y * s1 * s2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Ln(Vector256<double> x)
    {
        var subnormal = Vector256.LessThan(x, Vector256.Create(SmallestNormal));
        var xs = Vector256.ConditionalSelect(subnormal, x * Vector256.Create(TwoPow54), x);
        var kAdjust = Vector256.ConditionalSelect(subnormal.AsInt64(), Vector256.Create(-54L), Vector256<long>.Zero);

        var bits = xs.AsInt64();
        var hx = Vector256.ShiftRightLogical(bits, 32);
        hx += Vector256.Create((long)(0x3ff00000 - 0x3fe6a09e));
        var k = Vector256.ShiftRightLogical(hx, 20) - Vector256.Create(0x3ffL) + kAdjust;
        hx = (hx & Vector256.Create(0x000fffffL)) + Vector256.Create(0x3fe6a09eL);
        var m = (Vector256.ShiftLeft(hx, 32) | (bits & Vector256.Create(0xffffffffL))).AsDouble();

        var f = m - Vector256.Create(1.0);
        var hfsq = Vector256.Create(0.5) * f * f;
        var s = f / (Vector256.Create(2.0) + f);
        var z = s * s;
        var w = z * z;
        var t1 = w * (Vector256.Create(LnLg2) + w * (Vector256.Create(LnLg4) + w * Vector256.Create(LnLg6)));
        var t2 = z * (Vector256.Create(LnLg1) + w * (Vector256.Create(LnLg3) + w * (Vector256.Create(LnLg5) + w * Vector256.Create(LnLg7))));
        var rr = t2 + t1;
        var dk = Vector256.ConvertToDouble(k);
        var result = s * (hfsq + rr) + dk * Vector256.Create(Ln2Lo) - hfsq + f + dk * Vector256.Create(Ln2Hi);

        // Ln(0) = −∞, Ln(+∞) = +∞, Ln(negative or NaN) = NaN, as the scalar version.
        var positive = Vector256.GreaterThan(x, Vector256<double>.Zero);
        var infinite = Vector256.Equals(x, Vector256.Create(double.PositiveInfinity));
        var special = Vector256.ConditionalSelect(
            Vector256.Equals(x, Vector256<double>.Zero),
            Vector256.Create(double.NegativeInfinity),
            Vector256.ConditionalSelect(infinite, x, Vector256.Create(double.NaN)));
        return Vector256.ConditionalSelect(positive & ~infinite, result, special);
    }

    /// <summary>Φ(x) and φ(x); see <see cref="DeterministicMath.NormalCdfAndPdf"/>.</summary>
    public static Vector256<double> NormalCdfAndPdf(Vector256<double> x, out Vector256<double> pdf)
    {
        var e = ExpMinusHalfSquare(ClampForPdf(x));
        pdf = Vector256.ConditionalSelect(Vector256.Equals(x, x), Vector256.Create(InvSqrt2Pi) * e, x);
        return NormalCdfGivenExp(x, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ClampForPdf(Vector256<double> x)
    {
        var y = Vector256.Abs(x);
        var clamp = Vector256.Create(PdfClamp);
        return Vector256.ConditionalSelect(Vector256.LessThan(y, clamp), y, clamp);
    }

    /// <summary>See <see cref="DeterministicMath.NormalCdfGivenExp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> NormalCdfGivenExp(Vector256<double> x, Vector256<double> e)
    {
        var y = Vector256.Abs(x);
        var central = Vector256.LessThanOrEqual(y, Vector256.Create(CodyThreshold));
        var middle = Vector256.LessThanOrEqual(y, Vector256.Create(CodyRoot32));
        var beyond = Vector256.GreaterThan(y, Vector256.Create(CodyUpperTail));
        var positive = Vector256.GreaterThan(x, Vector256<double>.Zero);

        // Central and middle rationals always (nearly every group of random arguments needs both),
        // their numerators and denominators blended before one division: per lane the same
        // operations as the branches of the scalar twin. The costly tail rational only when some
        // lane needs it.
        CentralParts(x, out var centralNum, out var centralDen);
        MiddleParts(y, out var middleNum, out var middleDen);
        var quotient = Vector256.ConditionalSelect(central, centralNum, middleNum) / Vector256.ConditionalSelect(central, centralDen, middleDen);
        if ((~middle & ~beyond) != Vector256<double>.Zero)
        {
            quotient = Vector256.ConditionalSelect(middle, quotient, TailRational(y));
        }

        var cum = e * quotient;
        var one = Vector256.Create(1.0);
        var result = Vector256.ConditionalSelect(central, Vector256.Create(0.5) + quotient, Vector256.ConditionalSelect(positive, one - cum, cum));
        result = Vector256.ConditionalSelect(beyond, Vector256.ConditionalSelect(positive, one, Vector256<double>.Zero), result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CentralParts(Vector256<double> x, out Vector256<double> num, out Vector256<double> den)
    {
        var xsq = x * x;
        var xnum = Vector256.Create(CodyA4) * xsq;
        var xden = xsq;
        xnum = (xnum + Vector256.Create(CodyA0)) * xsq;
        xden = (xden + Vector256.Create(CodyB0)) * xsq;
        xnum = (xnum + Vector256.Create(CodyA1)) * xsq;
        xden = (xden + Vector256.Create(CodyB1)) * xsq;
        xnum = (xnum + Vector256.Create(CodyA2)) * xsq;
        xden = (xden + Vector256.Create(CodyB2)) * xsq;
        num = x * (xnum + Vector256.Create(CodyA3));
        den = xden + Vector256.Create(CodyB3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MiddleParts(Vector256<double> y, out Vector256<double> num, out Vector256<double> den)
    {
        var xnum = Vector256.Create(CodyC8) * y;
        var xden = y;
        xnum = (xnum + Vector256.Create(CodyC0)) * y;
        xden = (xden + Vector256.Create(CodyD0)) * y;
        xnum = (xnum + Vector256.Create(CodyC1)) * y;
        xden = (xden + Vector256.Create(CodyD1)) * y;
        xnum = (xnum + Vector256.Create(CodyC2)) * y;
        xden = (xden + Vector256.Create(CodyD2)) * y;
        xnum = (xnum + Vector256.Create(CodyC3)) * y;
        xden = (xden + Vector256.Create(CodyD3)) * y;
        xnum = (xnum + Vector256.Create(CodyC4)) * y;
        xden = (xden + Vector256.Create(CodyD4)) * y;
        xnum = (xnum + Vector256.Create(CodyC5)) * y;
        xden = (xden + Vector256.Create(CodyD5)) * y;
        xnum = (xnum + Vector256.Create(CodyC6)) * y;
        xden = (xden + Vector256.Create(CodyD6)) * y;
        num = xnum + Vector256.Create(CodyC7);
        den = xden + Vector256.Create(CodyD7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> TailRational(Vector256<double> y)
    {
        var xsq = Vector256.Create(1.0) / (y * y);
        var xnum = Vector256.Create(CodyP5) * xsq;
        var xden = xsq;
        xnum = (xnum + Vector256.Create(CodyP0)) * xsq;
        xden = (xden + Vector256.Create(CodyQ0)) * xsq;
        xnum = (xnum + Vector256.Create(CodyP1)) * xsq;
        xden = (xden + Vector256.Create(CodyQ1)) * xsq;
        xnum = (xnum + Vector256.Create(CodyP2)) * xsq;
        xden = (xden + Vector256.Create(CodyQ2)) * xsq;
        xnum = (xnum + Vector256.Create(CodyP3)) * xsq;
        xden = (xden + Vector256.Create(CodyQ3)) * xsq;
        var temp = xsq * (xnum + Vector256.Create(CodyP4)) / (xden + Vector256.Create(CodyQ4));
        return (Vector256.Create(InvSqrt2Pi) - temp) / y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ExpMinusHalfSquare(Vector256<double> y)
    {
        var s = ((y * Vector256.Create(16.0) + Magic) - Magic) * Vector256.Create(0.0625);
        var del = (y - s) * (y + s);
        return ExpSplit(-(s * s) * Vector256.Create(0.5), -del * Vector256.Create(0.5));
    }
}
