using System.Runtime.Intrinsics;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

// The eight-lane (AVX-512) twin of the four-lane batch kernel in ImpliedVolatilityBatch.cs: the same code with Vector512.
public static partial class ImpliedVolatility
{
    private static void SolveBlock512(
        int i,
        ReadOnlySpan<OptionRight> rights,
        ReadOnlySpan<double> forwards,
        ReadOnlySpan<double> strikes,
        ReadOnlySpan<double> years,
        ReadOnlySpan<double> prices,
        ReadOnlySpan<double> rates,
        Span<double> vols)
    {
        const int Lanes = 8;
        Span<double> signs = stackalloc double[Lanes];
        bool unknownRight = false;
        for (int j = 0; j < Lanes; j++)
        {
            OptionRight right = rights[i + j];
            signs[j] = right == OptionRight.Call ? 1.0 : -1.0;
            unknownRight |= right != OptionRight.Call && right != OptionRight.Put;
        }

        var zero = Vector512<double>.Zero;
        var one = Vector512.Create(1.0);
        var infinity = Vector512.Create(double.PositiveInfinity);
        var sign = Vector512.Create((ReadOnlySpan<double>)signs);
        var forward = Vector512.Create(forwards.Slice(i, Lanes));
        var strike = Vector512.Create(strikes.Slice(i, Lanes));
        var time = Vector512.Create(years.Slice(i, Lanes));
        var price = Vector512.Create(prices.Slice(i, Lanes));
        var rate = Vector512.Create(rates.Slice(i, Lanes));

        // Validation and the no-arbitrage bounds, as in TrySolve; the lanes outside them (and the
        // exactly-intrinsic ones) are left to the scalar solver and given harmless values here.
        var valid = Vector512.GreaterThan(forward, zero) & Vector512.LessThan(forward, infinity)
            & Vector512.GreaterThan(strike, zero) & Vector512.LessThan(strike, infinity)
            & Vector512.GreaterThan(time, zero) & Vector512.LessThan(time, infinity)
            & Vector512.GreaterThanOrEqual(price, zero) & Vector512.LessThan(price, infinity)
            & Vector512.Equals(rate - rate, zero);
        var discount = DeterministicMathVector512.Exp(-rate * time);
        var undiscounted = price / discount;
        var moneyness = sign * (forward - strike);
        var intrinsic = Vector512.ConditionalSelect(Vector512.GreaterThan(moneyness, zero), moneyness, zero);
        var cap = Vector512.ConditionalSelect(Vector512.GreaterThan(sign, zero), forward, strike);
        var x0 = DeterministicMathVector512.Ln(forward / strike);
        var xOtm = -Vector512.Abs(x0);
        var beta0 = (undiscounted - intrinsic) / (Vector512.Sqrt(forward) * Vector512.Sqrt(strike));
        var expHalfX0 = DeterministicMathVector512.Exp(Vector512.Create(0.5) * xOtm);
        var handled = valid & Vector512.GreaterThan(undiscounted, intrinsic) & Vector512.LessThan(undiscounted, cap)
            & Vector512.LessThan(beta0, expHalfX0) & Vector512.GreaterThan(beta0, zero);

        var x = Vector512.ConditionalSelect(handled, xOtm, Vector512.Create(-1.0));
        var beta = Vector512.ConditionalSelect(handled, beta0, Vector512.Create(0.1));
        var expHalfX = Vector512.ConditionalSelect(handled, expHalfX0, DeterministicMathVector512.Exp(Vector512.Create(-0.5)));
        var expMinusHalfX = one / expHalfX;
        var expX = expHalfX * expHalfX;
        var bMax = expHalfX;
        var invSqrt2Pi = Vector512.Create(DeterministicMath.InvSqrt2Pi);

        // Jäckel's three points (at x = 0: s_c = 0, b_c = 0, b'(s_c) = 1/√(2π), as the formulas give).
        var sc = Vector512.Sqrt(Vector512.Create(-2.0) * x);
        var bc = Vector512.Create(0.5) * expHalfX - expMinusHalfX * DeterministicMathVector512.NormalCdfGivenExp(-sc, expX);
        bc = Vector512.ConditionalSelect(Vector512.Equals(x, zero), zero, bc);
        var vc = invSqrt2Pi * expHalfX;
        var lowerSide = Vector512.LessThan(beta, bc);
        var sl = sc - bc / vc;
        var su = sc + (bMax - bc) / vc;
        var slPositive = Vector512.GreaterThan(sl, zero);

        // One evaluation of b: at s_l on the lower side (when s_l > 0), at s_u on the upper side.
        var probe = Vector512.ConditionalSelect(lowerSide, Vector512.ConditionalSelect(slPositive, sl, one), su);
        var bProbe = NormalisedCall512(x, probe, expHalfX, expMinusHalfX, expX, out var vProbe, out _, out _);
        var bl = Vector512.ConditionalSelect(slPositive, bProbe, zero);
        var vl = Vector512.ConditionalSelect(slPositive, vProbe, zero);
        var isLower = lowerSide & Vector512.LessThan(beta, bl);
        var isUpper = ~lowerSide & ~Vector512.LessThanOrEqual(beta, bProbe);
        var middleLow = lowerSide & ~isLower;
        var middleHigh = ~lowerSide & ~isUpper;
        var slOrZero = Vector512.ConditionalSelect(slPositive, sl, zero);

        var lo = Vector512.ConditionalSelect(middleLow, slOrZero, Vector512.ConditionalSelect(middleHigh, sc, Vector512.ConditionalSelect(isUpper, su, zero)));
        var hi = Vector512.ConditionalSelect(isLower, sl, Vector512.ConditionalSelect(middleLow, sc, Vector512.ConditionalSelect(middleHigh, su, infinity)));

        // Middle guess: cubic Hermite between (b_l, s_l) and (b_c, s_c), or (b_c, s_c) and (b_u, s_u).
        // With s_l ≤ 0 the lower end is (0, 0) with slope 0, which makes HermiteGuess take the chord.
        var hermite = HermiteGuess512(
            beta,
            Vector512.ConditionalSelect(middleLow, bl, bc),
            Vector512.ConditionalSelect(middleLow, slOrZero, sc),
            Vector512.ConditionalSelect(middleLow, vl, vc),
            Vector512.ConditionalSelect(middleLow, bc, bProbe),
            Vector512.ConditionalSelect(middleLow, sc, su),
            Vector512.ConditionalSelect(middleLow, vc, vProbe));
        hermite = Vector512.ConditionalSelect(middleHigh & ~Vector512.GreaterThan(bProbe, bc), su, hermite);

        // Lower and upper asymptotes inverted: one Φ⁻¹ estimate serves both; skipped when every lane is
        // on a middle branch (then nothing below is selected into any lane).
        var outer = isLower | isUpper;
        var s = hermite;
        var lnTarget = zero;
        if (Vector512.ExtractMostSignificantBits(outer) != 0)
        {
            var a = Vector512.Create(3.0 * Sqrt3 / (2.0 * Math.PI)) * beta / -x;
            var u = DeterministicMathVector512.Exp(DeterministicMathVector512.Ln(Vector512.ConditionalSelect(isLower, a, one)) / Vector512.Create(3.0));
            var p = Vector512.ConditionalSelect(isLower, u, (bMax - beta) / (expHalfX + expMinusHalfX));
            var inverse = InverseNormalCdfEstimate512(p);
            var lowerGuess = -x / (Vector512.Create(-Sqrt3) * inverse);
            lowerGuess = Vector512.ConditionalSelect(Vector512.GreaterThan(u, zero) & Vector512.LessThan(u, Vector512.Create(0.5)), lowerGuess, Vector512.Create(double.NaN));
            lowerGuess = Vector512.ConditionalSelect(Vector512.GreaterThan(lowerGuess, zero) & Vector512.LessThan(lowerGuess, sl), lowerGuess, Vector512.Create(0.5) * sl);
            var upperGuess = Vector512.Create(-2.0) * inverse;
            upperGuess = Vector512.ConditionalSelect(Vector512.GreaterThan(upperGuess, su) & Vector512.LessThan(upperGuess, infinity), upperGuess, Vector512.Create(2.0) * su);
            s = Vector512.ConditionalSelect(isLower, lowerGuess, Vector512.ConditionalSelect(isUpper, upperGuess, hermite));

            // ln β on the lower branch, ln(b_max − β) on the upper one.
            lnTarget = DeterministicMathVector512.Ln(Vector512.ConditionalSelect(isLower, beta, Vector512.ConditionalSelect(isUpper, bMax - beta, one)));
        }

        s = Vector512.ConditionalSelect(Vector512.GreaterThan(s, zero), s, Vector512.ConditionalSelect(Vector512.LessThan(hi, infinity), Vector512.Create(0.5) * (lo + hi), one));
        var gapTarget = bMax - beta;

        var active = handled;
        var result = Vector512.Create(double.NaN);
        var stepTolerance = Vector512.Create(StepTolerance);
        var quarticTolerance = Vector512.Create(QuarticStopTolerance);
        var half = Vector512.Create(0.5);
        var two = Vector512.Create(2.0);
        for (int iteration = 1; iteration <= MaxIterations && Vector512.ExtractMostSignificantBits(active) != 0; iteration++)
        {
            var h = x / s;
            var b2 = h * h / s - Vector512.Create(0.25) * s;
            var b3 = b2 * b2 - Vector512.Create(3.0) * h * h / (s * s) - Vector512.Create(0.25);
            var value = NormalisedCall512(x, s, expHalfX, expMinusHalfX, expX, out var bp, out var noise, out var complement, isUpper);
            var below = Vector512.ConditionalSelect(isUpper, Vector512.GreaterThan(complement, gapTarget), Vector512.LessThan(value, beta));
            var atNoiseFloor = ~isUpper & Vector512.LessThanOrEqual(Vector512.Abs(value - beta), noise);
            // Middle branch: b − β. The lower and upper objectives (and their logarithm) only while a
            // live lane needs them.
            var newton = -(value - beta) / bp;
            var h2 = b2;
            var h3 = b3;
            if (Vector512.ExtractMostSignificantBits(outer & active) != 0)
            {
                var lnValue = DeterministicMathVector512.Ln(Vector512.ConditionalSelect(isUpper, complement, value));

                // Lower branch: 1/ln b − 1/ln β.
                var lq = bp / (value * lnValue);
                var lowerNewton = (one / lnValue - one / lnTarget) * value * lnValue * lnValue / bp;
                var lnPlus2 = lnValue + two;
                var lowerH2 = -lnPlus2 * lq + b2;
                var lowerH3 = (two * lnValue * lnValue + Vector512.Create(6.0) * lnValue + Vector512.Create(6.0)) * lq * lq - Vector512.Create(3.0) * lnPlus2 * lq * b2 + b3;
                lowerNewton = Vector512.ConditionalSelect(Vector512.GreaterThan(value, zero), lowerNewton, Vector512.Create(double.NaN));

                // Upper branch: ln(b_max − β) − ln(b_max − b).
                var uq = bp / complement;
                var upperNewton = -(lnTarget - lnValue) / uq;
                var upperH2 = uq + b2;
                var upperH3 = two * uq * uq + Vector512.Create(3.0) * uq * b2 + b3;

                newton = Vector512.ConditionalSelect(isLower, lowerNewton, Vector512.ConditionalSelect(isUpper, upperNewton, newton));
                h2 = Vector512.ConditionalSelect(isLower, lowerH2, Vector512.ConditionalSelect(isUpper, upperH2, h2));
                h3 = Vector512.ConditionalSelect(isLower, lowerH3, Vector512.ConditionalSelect(isUpper, upperH3, h3));
            }

            lo = Vector512.ConditionalSelect(below & Vector512.GreaterThan(s, lo), s, lo);
            hi = Vector512.ConditionalSelect(~below & Vector512.LessThan(s, hi), s, hi);

            var step = newton * (one + half * h2 * newton) / (one + newton * (h2 + h3 * newton / Vector512.Create(6.0)));
            var absStep = Vector512.Abs(step);
            var next = s + step;
            var householder = Vector512.GreaterThan(next, lo) & Vector512.LessThan(next, hi);
            var bisected = Vector512.ConditionalSelect(Vector512.LessThan(hi, infinity), half * (lo + hi), two * Vector512.ConditionalSelect(Vector512.GreaterThan(s, lo), s, lo));

            // Stopping rules in the scalar solver's order: tiny step, small in-bracket step, noise floor, collapsed bracket.
            var tiny = Vector512.LessThanOrEqual(absStep, stepTolerance * s);
            var small = householder & Vector512.LessThanOrEqual(absStep, quarticTolerance * s);
            var proposed = Vector512.ConditionalSelect(householder, next, bisected);
            var noiseStop = atNoiseFloor;
            var collapsed = Vector512.LessThanOrEqual(hi - lo, stepTolerance * lo);
            var stopValue = Vector512.ConditionalSelect(tiny | small, next, Vector512.ConditionalSelect(noiseStop, Vector512.ConditionalSelect(householder, next, s), proposed));
            var stopped = active & (tiny | small | noiseStop | collapsed);
            result = Vector512.ConditionalSelect(stopped, stopValue, result);
            active &= ~stopped;
            s = Vector512.ConditionalSelect(active, proposed, s);
        }

        var vol = result / Vector512.Sqrt(time);
        Span<double> block = stackalloc double[Lanes];
        vol.CopyTo(block);
        ulong fallback = Vector512.ExtractMostSignificantBits(~handled | active);
        if (unknownRight)
        {
            fallback = (1ul << Lanes) - 1;
        }

        for (int j = 0; j < Lanes; j++)
        {
            vols[i + j] = (fallback & (1ul << j)) != 0
                ? SolveOne(rights[i + j], forwards[i + j], strikes[i + j], years[i + j], prices[i + j], rates[i + j])
                : block[j];
        }
    }

    /// <summary>
    /// Lane-wise <see cref="NormalisedCall(double, double, in Exponentials, out double, out double)"/>:
    /// b(x, s), ∂b/∂s and the noise estimate; on the lanes of <paramref name="upper"/> also the complement
    /// b_max − b = e^(x/2)·Φ(−h − t) + e^(−x/2)·Φ(h − t) (elsewhere <paramref name="complement"/> is not meaningful).
    /// </summary>
    private static Vector512<double> NormalisedCall512(
        Vector512<double> x,
        Vector512<double> s,
        Vector512<double> expHalfX,
        Vector512<double> expMinusHalfX,
        Vector512<double> expX,
        out Vector512<double> vega,
        out Vector512<double> noise,
        out Vector512<double> complement,
        Vector512<double> upper = default)
    {
        var h = x / s;
        var t = Vector512.Create(0.5) * s;
        var plus = h + t;
        var minus = h - t;
        var e1 = DeterministicMathVector512.ExpMinusHalfSquare(DeterministicMathVector512.ClampForPdf(plus));
        var cdfFirst = DeterministicMathVector512.NormalCdfGivenExp(Vector512.ConditionalSelect(upper, -plus, plus), e1);
        var first = expHalfX * cdfFirst;
        var second = expMinusHalfX * DeterministicMathVector512.NormalCdfGivenExp(minus, e1 * expX);
        var z = Vector512.Abs(h) + t;
        vega = Vector512.Create(DeterministicMath.InvSqrt2Pi) * (e1 * expHalfX);
        noise = Vector512.Create(NoiseUlps) * (Vector512.Create(1.0) + z * z) * (first + second);
        complement = first + second;
        return first - second;
    }

    /// <summary>Lane-wise <see cref="HermiteGuess"/>.</summary>
    private static Vector512<double> HermiteGuess512(Vector512<double> beta, Vector512<double> b0, Vector512<double> s0, Vector512<double> v0, Vector512<double> b1, Vector512<double> s1, Vector512<double> v1)
    {
        var one = Vector512.Create(1.0);
        var two = Vector512.Create(2.0);
        var db = b1 - b0;
        var u = (beta - b0) / db;
        var chord = s0 + u * (s1 - s0);
        var w = one - u;
        var guess = (one + two * u) * w * w * s0 + u * w * w * (db / v0) + u * u * (Vector512.Create(3.0) - two * u) * s1 - u * u * w * (db / v1);
        var zero = Vector512<double>.Zero;
        var use = Vector512.GreaterThan(v0, zero) & Vector512.GreaterThan(v1, zero) & Vector512.GreaterThan(guess, s0) & Vector512.LessThan(guess, s1);
        return Vector512.ConditionalSelect(use, guess, chord);
    }

    /// <summary>Lane-wise <see cref="DeterministicMath.InverseNormalCdfEstimate"/> (Acklam's rational, no refinement).</summary>
    private static Vector512<double> InverseNormalCdfEstimate512(Vector512<double> p)
    {
        var zero = Vector512<double>.Zero;
        var one = Vector512.Create(1.0);
        const double PLow = 0.02425;
        var q = p - Vector512.Create(0.5);
        var r = q * q;
        var central = (((((Vector512.Create(-3.969683028665376e+01) * r + Vector512.Create(2.209460984245205e+02)) * r - Vector512.Create(2.759285104469687e+02)) * r + Vector512.Create(1.383577518672690e+02)) * r - Vector512.Create(3.066479806614716e+01)) * r + Vector512.Create(2.506628277459239e+00)) * q
            / (((((Vector512.Create(-5.447609879822406e+01) * r + Vector512.Create(1.615858368580409e+02)) * r - Vector512.Create(1.556989798598866e+02)) * r + Vector512.Create(6.680131188771972e+01)) * r - Vector512.Create(1.328068155288572e+01)) * r + one);
        var low = Vector512.LessThan(p, Vector512.Create(PLow));
        var high = Vector512.GreaterThan(p, Vector512.Create(1.0 - PLow));
        var result = central;
        if (Vector512.ExtractMostSignificantBits(low | high) != 0)
        {
            var tailArgument = Vector512.ConditionalSelect(low, p, one - p);
            var tq = Vector512.Sqrt(Vector512.Create(-2.0) * DeterministicMathVector512.Ln(tailArgument));
            var tail = (((((Vector512.Create(-7.784894002430293e-03) * tq - Vector512.Create(3.223964580411365e-01)) * tq - Vector512.Create(2.400758277161838e+00)) * tq - Vector512.Create(2.549732539343734e+00)) * tq + Vector512.Create(4.374664141464968e+00)) * tq + Vector512.Create(2.938163982698783e+00))
                / ((((Vector512.Create(7.784695709041462e-03) * tq + Vector512.Create(3.224671290700398e-01)) * tq + Vector512.Create(2.445134137142996e+00)) * tq + Vector512.Create(3.754408661907416e+00)) * tq + one);
            result = Vector512.ConditionalSelect(low, tail, Vector512.ConditionalSelect(high, -tail, central));
        }

        result = Vector512.ConditionalSelect(Vector512.Equals(p, zero), Vector512.Create(double.NegativeInfinity), result);
        result = Vector512.ConditionalSelect(Vector512.Equals(p, one), Vector512.Create(double.PositiveInfinity), result);
        var inRange = Vector512.GreaterThanOrEqual(p, zero) & Vector512.LessThanOrEqual(p, one);
        return Vector512.ConditionalSelect(inRange, result, Vector512.Create(double.NaN));
    }
}
