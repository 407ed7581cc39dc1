using System.Runtime.CompilerServices;

namespace Clearhouse.Core.Numerics;

/// <summary>
/// Exponential, natural logarithm and the standard normal distribution built only from
/// IEEE-754 + − × ÷ and <see cref="Math.Sqrt(double)"/> (all correctly rounded, hence identical on
/// every platform) and exact bit manipulation. <see cref="Math.Exp(double)"/>,
/// <see cref="Math.Log(double)"/> and <see cref="Math.Pow(double, double)"/> are not guaranteed to
/// give the same bits on every runtime and CPU; anything that reaches hashed state (option marks,
/// margin) must use these instead (DESIGN.md section 2). No fused multiply-add is used anywhere.
/// </summary>
/// <remarks>
/// <para>Algorithms (docs/pricing.md has the measured accuracy):</para>
/// <list type="bullet">
/// <item><see cref="Exp"/>: fdlibm's <c>e_exp.c</c> (Sun Microsystems, 1993): reduction
/// x = k·ln 2 + r with a two-part ln 2 (Cody–Waite), a degree-5 Remez polynomial in r² and the
/// rational correction r·c/(2 − c). k is rounded to nearest with the exact 1.5·2⁵² trick so that no
/// float-to-int conversion mode matters.</item>
/// <item><see cref="Ln"/>: fdlibm/musl <c>e_log.c</c>: x = 2ᵏ·(1 + f) with √2/2 ≤ 1 + f &lt; √2,
/// s = f/(2 + f), a degree-7 polynomial in s² and a two-part ln 2.</item>
/// <item><see cref="NormalCdf"/>: W. J. Cody's ANORM (SPECFUN, Argonne, 1993; also R's
/// <c>pnorm</c>): three rational Chebyshev approximations (|x| ≤ 0.66291, ≤ √32, beyond), with the
/// tail factor exp(−x²/2) evaluated from an exactly representable split x² = s² + (x − s)(x + s),
/// s a multiple of 1/16, so that the error of x² is not magnified by the exponential. That keeps
/// the relative error of Φ(−x) at a few ulps down to Φ(−37.5) ≈ 5e-308.</item>
/// </list>
/// <para>Every public function here has a vector twin in <see cref="DeterministicMathVector"/> that performs
/// exactly the same operations lane by lane, so batched and scalar results are bit-identical.</para>
/// </remarks>
public static class DeterministicMath
{
    /// <summary>1/√(2π).</summary>
    public const double InvSqrt2Pi = 0.39894228040143267794;

    /// <summary>√(2π).</summary>
    public const double Sqrt2Pi = 2.5066282746310005024;

    /// <summary>ln 2 rounded to double.</summary>
    public const double Ln2 = 0.69314718055994530942;

    // fdlibm e_exp.c / e_log.c constants (bit patterns in the comments).
    internal const double Ln2Hi = 6.93147180369123816490e-01;   // 0x3fe62e42_fee00000: 32 significant bits, so k·Ln2Hi is exact for |k| < 2^21
    internal const double Ln2Lo = 1.90821492927058770002e-10;   // 0x3dea39ef_35793c76
    internal const double InvLn2 = 1.44269504088896338700e+00;  // 0x3ff71547_652b82fe
    internal const double ExpP1 = 1.66666666666666019037e-01;   // 0x3FC55555_5555553E
    internal const double ExpP2 = -2.77777777770155933842e-03;  // 0xBF66C16C_16BEBD93
    internal const double ExpP3 = 6.61375632143793436117e-05;   // 0x3F11566A_AF25DE2C
    internal const double ExpP4 = -1.65339022054652515390e-06;  // 0xBEBBBD41_C5D26BF1
    internal const double ExpP5 = 4.13813679705723846039e-08;   // 0x3E663769_72BEA4D0

    /// <summary>Above this, exp overflows to +∞ (fdlibm's o_threshold).</summary>
    internal const double ExpMaxArgument = 7.09782712893383973096e+02;

    /// <summary>Below this, exp underflows to 0 (fdlibm's u_threshold).</summary>
    internal const double ExpMinArgument = -7.45133219101941108420e+02;

    internal const double LnLg1 = 6.666666666666735130e-01;  // 0x3FE55555_55555593
    internal const double LnLg2 = 3.999999999940941908e-01;  // 0x3FD99999_9997FA04
    internal const double LnLg3 = 2.857142874366239149e-01;  // 0x3FD24924_94229359
    internal const double LnLg4 = 2.222219843214978396e-01;  // 0x3FCC71C5_1D8E78AF
    internal const double LnLg5 = 1.818357216161805012e-01;  // 0x3FC74664_96CB03DE
    internal const double LnLg6 = 1.531383769920937332e-01;  // 0x3FC39A09_D078C69F
    internal const double LnLg7 = 1.479819860511658591e-01;  // 0x3FC2F112_DF3E5244

    /// <summary>1.5·2⁵²: adding and subtracting it rounds a double of magnitude below 2⁵¹ to the nearest integer (ties to even).</summary>
    internal const double RoundingMagic = 6755399441055744.0;

    internal const long RoundingMagicBits = 0x4338000000000000;

    /// <summary>2⁻¹⁰²², the smallest normal double.</summary>
    internal const double SmallestNormal = 2.2250738585072014e-308;

    internal const double TwoPow54 = 18014398509481984.0;

    // Cody's ANORM coefficients (SPECFUN anorm.f; identical in R's pnorm.c).
    internal const double CodyThreshold = 0.66291;
    internal const double CodyRoot32 = 5.656854248;
    internal const double CodyUpperTail = 37.5193;

    internal const double CodyA0 = 2.2352520354606839287;
    internal const double CodyA1 = 161.02823106855587881;
    internal const double CodyA2 = 1067.6894854603709582;
    internal const double CodyA3 = 18154.981253343561249;
    internal const double CodyA4 = 0.065682337918207449113;
    internal const double CodyB0 = 47.20258190468824187;
    internal const double CodyB1 = 976.09855173777669322;
    internal const double CodyB2 = 10260.932208618978205;
    internal const double CodyB3 = 45507.789335026729956;

    internal const double CodyC0 = 0.39894151208813466764;
    internal const double CodyC1 = 8.8831497943883759412;
    internal const double CodyC2 = 93.506656132177855979;
    internal const double CodyC3 = 597.27027639480026226;
    internal const double CodyC4 = 2494.5375852903726711;
    internal const double CodyC5 = 6848.1904505362823326;
    internal const double CodyC6 = 11602.651437647350124;
    internal const double CodyC7 = 9842.7148383839780218;
    internal const double CodyC8 = 1.0765576773720192317e-8;
    internal const double CodyD0 = 22.266688044328115691;
    internal const double CodyD1 = 235.38790178262499861;
    internal const double CodyD2 = 1519.377599407554805;
    internal const double CodyD3 = 6485.558298266760755;
    internal const double CodyD4 = 18615.571640885098091;
    internal const double CodyD5 = 34900.952721145977266;
    internal const double CodyD6 = 38912.003286093271411;
    internal const double CodyD7 = 19685.429676859990727;

    internal const double CodyP0 = 0.21589853405795699;
    internal const double CodyP1 = 0.1274011611602473639;
    internal const double CodyP2 = 0.022235277870649807;
    internal const double CodyP3 = 0.001421619193227893466;
    internal const double CodyP4 = 2.9112874951168792e-5;
    internal const double CodyP5 = 0.02307344176494017303;
    internal const double CodyQ0 = 1.28426009614491121;
    internal const double CodyQ1 = 0.468238212480865118;
    internal const double CodyQ2 = 0.0659881378689285515;
    internal const double CodyQ3 = 0.00378239633202758244;
    internal const double CodyQ4 = 7.29751555083966205e-5;

    /// <summary>|x| at and beyond which the normal density is clamped (φ(40) underflows to 0 anyway).</summary>
    internal const double PdfClamp = 40.0;

    /// <summary>
    /// eˣ, within 1 ulp (fdlibm's bound). Returns +∞ above 709.78, 0 below −745.13 and NaN for NaN;
    /// results in the subnormal range are rounded once from the exact scaling of a normal number.
    /// </summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        if (x > ExpMaxArgument)
        {
            return double.PositiveInfinity;
        }

        if (x < ExpMinArgument)
        {
            return 0.0;
        }

        double t = x * InvLn2 + RoundingMagic;
        long k = BitConverter.DoubleToInt64Bits(t) - RoundingMagicBits;
        double kd = t - RoundingMagic;
        double hi = x - kd * Ln2Hi;
        return ExpReduced(hi, kd * Ln2Lo, k);
    }

    /// <summary>
    /// e^(hi + lo) for a sum that the caller knows more precisely than one double holds: used for
    /// exp(−x²/2) with x² split exactly. <paramref name="hi"/> must be a multiple of 2⁻³² of magnitude
    /// below 2²⁰ (so that subtracting k·ln2Hi is exact) and |lo| at most about 2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double ExpSplit(double hi, double lo)
    {
        double sum = hi + lo;
        if (!(sum >= ExpMinArgument))
        {
            // NaN lanes never reach here in practice (callers clamp); treat as underflow like the vector path.
            return 0.0;
        }

        double t = sum * InvLn2 + RoundingMagic;
        long k = BitConverter.DoubleToInt64Bits(t) - RoundingMagicBits;
        double kd = t - RoundingMagic;
        double rhi = (hi - kd * Ln2Hi) + lo;
        return ExpReduced(rhi, kd * Ln2Lo, k);
    }

    /// <summary>fdlibm's core: e^(hi − lo) · 2ᵏ with |hi − lo| ≤ about 0.35 (a little more for ExpSplit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ExpReduced(double hi, double lo, long k)
    {
        double r = hi - lo;
        double rr = r * r;
        double c = r - rr * (ExpP1 + rr * (ExpP2 + rr * (ExpP3 + rr * (ExpP4 + rr * ExpP5))));
        double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
        return ScaleByPowerOfTwo(y, k);
    }

    /// <summary>
    /// y·2ᵏ for k in [−1100, 1100], as two exact multiplications by normal powers of two (the second
    /// may round once into the subnormal range or overflow to +∞).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double ScaleByPowerOfTwo(double y, long k)
    {
        long k1 = k >> 1;
        long k2 = k - k1;
        double s1 = BitConverter.Int64BitsToDouble((k1 + 1023) << 52);
        double s2 = BitConverter.Int64BitsToDouble((k2 + 1023) << 52);
        return y * s1 * s2;
    }

    /// <summary>
    /// Natural logarithm, within 1 ulp (fdlibm's bound). Ln(0) = −∞, Ln(+∞) = +∞, NaN for negative
    /// numbers and NaN. Subnormal inputs are handled exactly (scaled by 2⁵⁴ first).
    /// </summary>
    public static double Ln(double x)
    {
        if (!(x > 0.0) || x == double.PositiveInfinity)
        {
            return x == 0.0 ? double.NegativeInfinity : x == double.PositiveInfinity ? x : double.NaN;
        }

        return LnPositiveFinite(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double LnPositiveFinite(double x)
    {
        long kAdjust = 0;
        if (x < SmallestNormal)
        {
            x *= TwoPow54;
            kAdjust = -54;
        }

        long bits = BitConverter.DoubleToInt64Bits(x);
        long hx = (long)((ulong)bits >> 32);
        hx += 0x3ff00000 - 0x3fe6a09e;
        long k = (hx >> 20) - 0x3ff + kAdjust;
        hx = (hx & 0x000fffff) + 0x3fe6a09e;
        double m = BitConverter.Int64BitsToDouble((hx << 32) | (bits & 0xffffffffL));

        double f = m - 1.0;
        double hfsq = 0.5 * f * f;
        double s = f / (2.0 + f);
        double z = s * s;
        double w = z * z;
        double t1 = w * (LnLg2 + w * (LnLg4 + w * LnLg6));
        double t2 = z * (LnLg1 + w * (LnLg3 + w * (LnLg5 + w * LnLg7)));
        double rr = t2 + t1;
        double dk = k;
        return s * (hfsq + rr) + dk * Ln2Lo - hfsq + f + dk * Ln2Hi;
    }

    /// <summary>
    /// Φ(x), the standard normal cumulative distribution, with a relative error of a few ulps for
    /// every x down to −37.5 (Φ(−37.5) ≈ 4.6e-308); 0 below that and 1 where it rounds to 1.
    /// </summary>
    public static double NormalCdf(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        double y = Math.Abs(x);
        if (y <= CodyThreshold)
        {
            CentralParts(x, out double num, out double den);
            return 0.5 + num / den;
        }

        if (y > CodyUpperTail)
        {
            return x > 0.0 ? 1.0 : 0.0;
        }

        double cum = ExpMinusHalfSquare(y) * MiddleOrTail(y);
        return x > 0.0 ? 1.0 - cum : cum;
    }

    /// <summary>φ(x) = e^(−x²/2)/√(2π), relative error a few ulps; 0 where it underflows, NaN for NaN.</summary>
    public static double NormalPdf(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        double y = Math.Abs(x);
        y = y < PdfClamp ? y : PdfClamp;
        return InvSqrt2Pi * ExpMinusHalfSquare(y);
    }

    /// <summary>
    /// Φ(x) and φ(x) together: in the tails both need e^(−x²/2), computed once here. Bit-identical
    /// to calling <see cref="NormalCdf"/> and <see cref="NormalPdf"/> separately.
    /// </summary>
    public static double NormalCdfAndPdf(double x, out double pdf)
    {
        double e = ExpMinusHalfSquare(ClampForPdf(x));
        pdf = double.IsNaN(x) ? x : InvSqrt2Pi * e;
        return NormalCdfGivenExp(x, e);
    }

    /// <summary>|x| clamped to [0, 40] (NaN → 40); the argument of <see cref="ExpMinusHalfSquare"/> for φ and Φ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double ClampForPdf(double x)
    {
        double y = Math.Abs(x);
        return y < PdfClamp ? y : PdfClamp;
    }

    /// <summary>
    /// Φ(x) given e = e^(−x²/2) as computed by the caller (<see cref="ExpMinusHalfSquare"/> of
    /// <see cref="ClampForPdf"/>(x), or an equivalent the caller can justify): lets Black-76 obtain
    /// e^(−d2²/2) = e^(−d1²/2)·F/K without a second exponential.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double NormalCdfGivenExp(double x, double e)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        double y = Math.Abs(x);
        if (y <= CodyThreshold)
        {
            CentralParts(x, out double num, out double den);
            return 0.5 + num / den;
        }

        if (y > CodyUpperTail)
        {
            return x > 0.0 ? 1.0 : 0.0;
        }

        double cum = e * MiddleOrTail(y);
        return x > 0.0 ? 1.0 - cum : cum;
    }

    /// <summary>Φ(−y)·e^(y²/2) for 0.66291 &lt; y ≤ 37.5193: Cody's second or third rational.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MiddleOrTail(double y)
    {
        if (y <= CodyRoot32)
        {
            MiddleParts(y, out double num, out double den);
            return num / den;
        }

        return TailRational(y);
    }

    /// <summary>
    /// Φ⁻¹(p): Acklam's rational approximation (relative error below 1.15e-9) refined by one Halley
    /// step on <see cref="NormalCdf"/>, which brings it to about 1e-15 relative where Φ is well
    /// conditioned. ±∞ at 0 and 1, NaN outside [0, 1]. Used for initial guesses; not hashed directly.
    /// </summary>
    public static double InverseNormalCdf(double p)
    {
        double x = InverseNormalCdfEstimate(p);
        if (!double.IsFinite(x))
        {
            return x;
        }

        // One Halley step: e = Φ(x) − p, u = e/φ(x), x ← x − u/(1 + x·u/2).
        double cdf = NormalCdfAndPdf(x, out double pdf);
        if (pdf > 0.0)
        {
            double u = (cdf - p) / pdf;
            x -= u / (1.0 + 0.5 * x * u);
        }

        return x;
    }

    /// <summary>
    /// Acklam's rational approximation of Φ⁻¹(p) alone (relative error below 1.15e-9), without the
    /// Halley step of <see cref="InverseNormalCdf"/>: enough for an initial guess.
    /// ±∞ at 0 and 1, NaN outside [0, 1].
    /// </summary>
    internal static double InverseNormalCdfEstimate(double p)
    {
        if (!(p >= 0.0 && p <= 1.0))
        {
            return double.NaN;
        }

        if (p == 0.0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1.0)
        {
            return double.PositiveInfinity;
        }

        const double plow = 0.02425;
        if (p < plow)
        {
            double q = Math.Sqrt(-2.0 * Ln(p));
            return AcklamTail(q);
        }

        if (p <= 1.0 - plow)
        {
            double q = p - 0.5;
            double r = q * q;
            return (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0);
        }

        double qu = Math.Sqrt(-2.0 * Ln(1.0 - p));
        return -AcklamTail(qu);
    }

    private static double AcklamTail(double q) =>
        (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
        / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1.0);

    /// <summary>
    /// Cody's first interval, Φ(x) − 1/2 = num/den for |x| ≤ 0.66291: the numerator x·P(x²) and the
    /// denominator Q(x²), divided by the caller.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CentralParts(double x, out double num, out double den)
    {
        double xsq = x * x;
        double xnum = CodyA4 * xsq;
        double xden = xsq;
        xnum = (xnum + CodyA0) * xsq;
        xden = (xden + CodyB0) * xsq;
        xnum = (xnum + CodyA1) * xsq;
        xden = (xden + CodyB1) * xsq;
        xnum = (xnum + CodyA2) * xsq;
        xden = (xden + CodyB2) * xsq;
        num = x * (xnum + CodyA3);
        den = xden + CodyB3;
    }

    /// <summary>Cody's second interval, Φ(−y)·e^(y²/2) = num/den for 0.66291 &lt; y ≤ √32: numerator and denominator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MiddleParts(double y, out double num, out double den)
    {
        double xnum = CodyC8 * y;
        double xden = y;
        xnum = (xnum + CodyC0) * y;
        xden = (xden + CodyD0) * y;
        xnum = (xnum + CodyC1) * y;
        xden = (xden + CodyD1) * y;
        xnum = (xnum + CodyC2) * y;
        xden = (xden + CodyD2) * y;
        xnum = (xnum + CodyC3) * y;
        xden = (xden + CodyD3) * y;
        xnum = (xnum + CodyC4) * y;
        xden = (xden + CodyD4) * y;
        xnum = (xnum + CodyC5) * y;
        xden = (xden + CodyD5) * y;
        xnum = (xnum + CodyC6) * y;
        xden = (xden + CodyD6) * y;
        num = xnum + CodyC7;
        den = xden + CodyD7;
    }

    /// <summary>Cody's third interval: Φ(−y)·e^(y²/2) for y &gt; √32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double TailRational(double y)
    {
        double xsq = 1.0 / (y * y);
        double xnum = CodyP5 * xsq;
        double xden = xsq;
        xnum = (xnum + CodyP0) * xsq;
        xden = (xden + CodyQ0) * xsq;
        xnum = (xnum + CodyP1) * xsq;
        xden = (xden + CodyQ1) * xsq;
        xnum = (xnum + CodyP2) * xsq;
        xden = (xden + CodyQ2) * xsq;
        xnum = (xnum + CodyP3) * xsq;
        xden = (xden + CodyQ3) * xsq;
        double temp = xsq * (xnum + CodyP4) / (xden + CodyQ4);
        return (InvSqrt2Pi - temp) / y;
    }

    /// <summary>
    /// e^(−y²/2) for 0 ≤ y ≤ 40, with y² split as s² + (y − s)(y + s), s = y rounded to a multiple
    /// of 1/16: s² is exact, so only the small second part carries rounding error (Cody's device).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double ExpMinusHalfSquare(double y)
    {
        double s = ((y * 16.0 + RoundingMagic) - RoundingMagic) * 0.0625;
        double del = (y - s) * (y + s);
        return ExpSplit(-(s * s) * 0.5, -del * 0.5);
    }
}
