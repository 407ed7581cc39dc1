using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

using static Clearhouse.Core.Numerics.DeterministicMath;

namespace Clearhouse.Core.Numerics;

/// <summary>
/// Eight-lane twins of <see cref="DeterministicMath"/>: each function performs, lane by lane,
/// exactly the IEEE operations of its scalar twin in the same order (branches become selects),
/// so the results are bit-identical to the scalar ones. Any change here must be mirrored there and
/// the other way round; the tests compare both over random and edge-case inputs. This file is
/// DeterministicMathVector.cs with Vector256 replaced by Vector512 (sed), nothing else: keep it so.
/// </summary>
internal static class DeterministicMathVector512
{
    private static readonly Vector512<double> Magic = Vector512.Create(RoundingMagic);
    private static readonly Vector512<long> MagicBits = Vector512.Create(RoundingMagicBits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Exp(Vector512<double> x)
    {
        var t = x * Vector512.Create(InvLn2) + Magic;
        var k = t.AsInt64() - MagicBits;
        var kd = t - Magic;
        var hi = x - kd * Vector512.Create(Ln2Hi);
        var result = ExpReduced(hi, kd * Vector512.Create(Ln2Lo), k);
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(ExpMaxArgument)), Vector512.Create(double.PositiveInfinity), result);
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpMinArgument)), Vector512<double>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ExpSplit(Vector512<double> hi, Vector512<double> lo)
    {
        var sum = hi + lo;
        var t = sum * Vector512.Create(InvLn2) + Magic;
        var k = t.AsInt64() - MagicBits;
        var kd = t - Magic;
        var rhi = (hi - kd * Vector512.Create(Ln2Hi)) + lo;
        var result = ExpReduced(rhi, kd * Vector512.Create(Ln2Lo), k);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(sum, Vector512.Create(ExpMinArgument)), result, Vector512<double>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ExpReduced(Vector512<double> hi, Vector512<double> lo, Vector512<long> k)
    {
        var r = hi - lo;
        var rr = r * r;
        var c = r - rr * (Vector512.Create(ExpP1) + rr * (Vector512.Create(ExpP2) + rr * (Vector512.Create(ExpP3) + rr * (Vector512.Create(ExpP4) + rr * Vector512.Create(ExpP5)))));
        var y = Vector512.Create(1.0) - ((lo - (r * c) / (Vector512.Create(2.0) - c)) - hi);
        return ScaleByPowerOfTwo(y, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ScaleByPowerOfTwo(Vector512<double> y, Vector512<long> k)
    {
        var k1 = Vector512.ShiftRightArithmetic(k, 1);
        var k2 = k - k1;
        var bias = Vector512.Create(1023L);
        var s1 = Vector512.ShiftLeft(k1 + bias, 52).AsDouble();
        var s2 = Vector512.ShiftLeft(k2 + bias, 52).AsDouble();
        return y * s1 * s2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Ln(Vector512<double> x)
    {
        var subnormal = Vector512.LessThan(x, Vector512.Create(SmallestNormal));
        var xs = Vector512.ConditionalSelect(subnormal, x * Vector512.Create(TwoPow54), x);
        var kAdjust = Vector512.ConditionalSelect(subnormal.AsInt64(), Vector512.Create(-54L), Vector512<long>.Zero);

        var bits = xs.AsInt64();
        var hx = Vector512.ShiftRightLogical(bits, 32);
        hx += Vector512.Create((long)(0x3ff00000 - 0x3fe6a09e));
        var k = Vector512.ShiftRightLogical(hx, 20) - Vector512.Create(0x3ffL) + kAdjust;
        hx = (hx & Vector512.Create(0x000fffffL)) + Vector512.Create(0x3fe6a09eL);
        var m = (Vector512.ShiftLeft(hx, 32) | (bits & Vector512.Create(0xffffffffL))).AsDouble();

        var f = m - Vector512.Create(1.0);
        var hfsq = Vector512.Create(0.5) * f * f;
        var s = f / (Vector512.Create(2.0) + f);
        var z = s * s;
        var w = z * z;
        var t1 = w * (Vector512.Create(LnLg2) + w * (Vector512.Create(LnLg4) + w * Vector512.Create(LnLg6)));
        var t2 = z * (Vector512.Create(LnLg1) + w * (Vector512.Create(LnLg3) + w * (Vector512.Create(LnLg5) + w * Vector512.Create(LnLg7))));
        var rr = t2 + t1;
        var dk = Vector512.ConvertToDouble(k);
        var result = s * (hfsq + rr) + dk * Vector512.Create(Ln2Lo) - hfsq + f + dk * Vector512.Create(Ln2Hi);

        // Ln(0) = −∞, Ln(+∞) = +∞, Ln(negative or NaN) = NaN, as the scalar version.
        var positive = Vector512.GreaterThan(x, Vector512<double>.Zero);
        var infinite = Vector512.Equals(x, Vector512.Create(double.PositiveInfinity));
        var special = Vector512.ConditionalSelect(
            Vector512.Equals(x, Vector512<double>.Zero),
            Vector512.Create(double.NegativeInfinity),
            Vector512.ConditionalSelect(infinite, x, Vector512.Create(double.NaN)));
        return Vector512.ConditionalSelect(positive & ~infinite, result, special);
    }

    /// <summary>Φ(x) and φ(x); see <see cref="DeterministicMath.NormalCdfAndPdf"/>.</summary>
    public static Vector512<double> NormalCdfAndPdf(Vector512<double> x, out Vector512<double> pdf)
    {
        var e = ExpMinusHalfSquare(ClampForPdf(x));
        pdf = Vector512.ConditionalSelect(Vector512.Equals(x, x), Vector512.Create(InvSqrt2Pi) * e, x);
        return NormalCdfGivenExp(x, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ClampForPdf(Vector512<double> x)
    {
        var y = Vector512.Abs(x);
        var clamp = Vector512.Create(PdfClamp);
        return Vector512.ConditionalSelect(Vector512.LessThan(y, clamp), y, clamp);
    }

    /// <summary>See <see cref="DeterministicMath.NormalCdfGivenExp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> NormalCdfGivenExp(Vector512<double> x, Vector512<double> e)
    {
        var y = Vector512.Abs(x);
        var central = Vector512.LessThanOrEqual(y, Vector512.Create(CodyThreshold));
        var middle = Vector512.LessThanOrEqual(y, Vector512.Create(CodyRoot32));
        var beyond = Vector512.GreaterThan(y, Vector512.Create(CodyUpperTail));
        var positive = Vector512.GreaterThan(x, Vector512<double>.Zero);

        // Central and middle rationals always (nearly every group of random arguments needs both),
        // their numerators and denominators blended before one division: per lane the same
        // operations as the branches of the scalar twin. The costly tail rational only when some
        // lane needs it.
        CentralParts(x, out var centralNum, out var centralDen);
        MiddleParts(y, out var middleNum, out var middleDen);
        var quotient = Vector512.ConditionalSelect(central, centralNum, middleNum) / Vector512.ConditionalSelect(central, centralDen, middleDen);
        if ((~middle & ~beyond) != Vector512<double>.Zero)
        {
            quotient = Vector512.ConditionalSelect(middle, quotient, TailRational(y));
        }

        var cum = e * quotient;
        var one = Vector512.Create(1.0);
        var result = Vector512.ConditionalSelect(central, Vector512.Create(0.5) + quotient, Vector512.ConditionalSelect(positive, one - cum, cum));
        result = Vector512.ConditionalSelect(beyond, Vector512.ConditionalSelect(positive, one, Vector512<double>.Zero), result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CentralParts(Vector512<double> x, out Vector512<double> num, out Vector512<double> den)
    {
        var xsq = x * x;
        var xnum = Vector512.Create(CodyA4) * xsq;
        var xden = xsq;
        xnum = (xnum + Vector512.Create(CodyA0)) * xsq;
        xden = (xden + Vector512.Create(CodyB0)) * xsq;
        xnum = (xnum + Vector512.Create(CodyA1)) * xsq;
        xden = (xden + Vector512.Create(CodyB1)) * xsq;
        xnum = (xnum + Vector512.Create(CodyA2)) * xsq;
        xden = (xden + Vector512.Create(CodyB2)) * xsq;
        num = x * (xnum + Vector512.Create(CodyA3));
        den = xden + Vector512.Create(CodyB3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MiddleParts(Vector512<double> y, out Vector512<double> num, out Vector512<double> den)
    {
        var xnum = Vector512.Create(CodyC8) * y;
        var xden = y;
        xnum = (xnum + Vector512.Create(CodyC0)) * y;
        xden = (xden + Vector512.Create(CodyD0)) * y;
        xnum = (xnum + Vector512.Create(CodyC1)) * y;
        xden = (xden + Vector512.Create(CodyD1)) * y;
        xnum = (xnum + Vector512.Create(CodyC2)) * y;
        xden = (xden + Vector512.Create(CodyD2)) * y;
        xnum = (xnum + Vector512.Create(CodyC3)) * y;
        xden = (xden + Vector512.Create(CodyD3)) * y;
        xnum = (xnum + Vector512.Create(CodyC4)) * y;
        xden = (xden + Vector512.Create(CodyD4)) * y;
        xnum = (xnum + Vector512.Create(CodyC5)) * y;
        xden = (xden + Vector512.Create(CodyD5)) * y;
        xnum = (xnum + Vector512.Create(CodyC6)) * y;
        xden = (xden + Vector512.Create(CodyD6)) * y;
        num = xnum + Vector512.Create(CodyC7);
        den = xden + Vector512.Create(CodyD7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> TailRational(Vector512<double> y)
    {
        var xsq = Vector512.Create(1.0) / (y * y);
        var xnum = Vector512.Create(CodyP5) * xsq;
        var xden = xsq;
        xnum = (xnum + Vector512.Create(CodyP0)) * xsq;
        xden = (xden + Vector512.Create(CodyQ0)) * xsq;
        xnum = (xnum + Vector512.Create(CodyP1)) * xsq;
        xden = (xden + Vector512.Create(CodyQ1)) * xsq;
        xnum = (xnum + Vector512.Create(CodyP2)) * xsq;
        xden = (xden + Vector512.Create(CodyQ2)) * xsq;
        xnum = (xnum + Vector512.Create(CodyP3)) * xsq;
        xden = (xden + Vector512.Create(CodyQ3)) * xsq;
        var temp = xsq * (xnum + Vector512.Create(CodyP4)) / (xden + Vector512.Create(CodyQ4));
        return (Vector512.Create(InvSqrt2Pi) - temp) / y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ExpMinusHalfSquare(Vector512<double> y)
    {
        var s = ((y * Vector512.Create(16.0) + Magic) - Magic) * Vector512.Create(0.0625);
        var del = (y - s) * (y + s);
        return ExpSplit(-(s * s) * Vector512.Create(0.5), -del * Vector512.Create(0.5));
    }
}
