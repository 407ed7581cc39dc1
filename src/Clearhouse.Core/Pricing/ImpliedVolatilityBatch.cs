using System.Runtime.Intrinsics;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

// Batched implied volatility: the method of TrySolve(in OptionTerms, double, double, double)
// (same normalisation, branches, initial guesses, Householder(3) objectives, bracket and stopping
// rules) run across 8 (AVX-512) or 4 (AVX2) options at once. Each lane keeps its own branch, bracket
// and iterate; a block iterates until every lane has stopped (a stopped lane is frozen). Lanes the
// vector path does not handle — invalid input, price at or outside the no-arbitrage bounds, exactly
// the intrinsic value, an unknown right, or a lane that would exhaust MaxIterations —
// and the tail of the batch that does not fill a vector go through the scalar solver.
//
// Not bit-identical to the scalar solver, and not required to be: implied volatilities are outputs
// (quotes, analytics), never hashed state. The lane arithmetic uses the same deterministic functions
// (DeterministicMathVector/DeterministicMathVector512 are bit-identical to
// DeterministicMath), so results agree with the scalar solver to the last few ulps (measured: at most
// 1.5e-13 relative over the 20,000 test round trips). The lane code rounds differently only in the
// initial guesses (the chord when s_l ≤ 0, the lower asymptote's constant folded as 3√3/(2π)). A
// lane's result depends only on its own inputs; the tests hold both widths to the scalar solver's
// error bounds.
public static partial class ImpliedVolatility
{
    /// <summary>
    /// Implied volatilities of many options: <c>vols[i]</c> solves Black76 = <c>prices[i]</c> for
    /// <c>rights[i]</c>, <c>forwards[i]</c>, <c>strikes[i]</c>, <c>years[i]</c>, <c>rates[i]</c>;
    /// NaN where <see cref="TrySolve(in OptionTerms, double, double, double)"/> fails (invalid input, below
    /// intrinsic, at or above the maximum, not converged, or a right that is neither call nor put),
    /// 0 at exactly the intrinsic value. All spans must have the same length.
    /// </summary>
    public static void SolveBatch(
        ReadOnlySpan<OptionRight> rights,
        ReadOnlySpan<double> forwards,
        ReadOnlySpan<double> strikes,
        ReadOnlySpan<double> years,
        ReadOnlySpan<double> prices,
        ReadOnlySpan<double> rates,
        Span<double> vols) =>
        SolveBatchWithWidth(rights, forwards, strikes, years, prices, rates, vols, Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0);

    /// <summary><see cref="SolveBatch"/> with the widest vector limited to <paramref name="vectorBits"/> (512, 256 or 0 for scalar only), for tests.</summary>
    internal static void SolveBatchWithWidth(
        ReadOnlySpan<OptionRight> rights,
        ReadOnlySpan<double> forwards,
        ReadOnlySpan<double> strikes,
        ReadOnlySpan<double> years,
        ReadOnlySpan<double> prices,
        ReadOnlySpan<double> rates,
        Span<double> vols,
        int vectorBits)
    {
        int n = vols.Length;
        if (rights.Length != n || forwards.Length != n || strikes.Length != n || years.Length != n || prices.Length != n || rates.Length != n)
        {
            throw new ArgumentException("All spans must have the same length.", nameof(vols));
        }

        int i = 0;
        if (vectorBits >= 512 && Vector512.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                SolveBlock512(i, rights, forwards, strikes, years, prices, rates, vols);
            }
        }

        if (vectorBits >= 256 && Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4)
            {
                SolveBlock256(i, rights, forwards, strikes, years, prices, rates, vols);
            }
        }

        for (; i < n; i++)
        {
            vols[i] = SolveOne(rights[i], forwards[i], strikes[i], years[i], prices[i], rates[i]);
        }
    }

    private static double SolveOne(OptionRight right, double forward, double strike, double years, double price, double rate) =>
        right == OptionRight.Call ? TrySolveUnpacked(1.0, strike, years, forward, price, rate).Volatility
        : right == OptionRight.Put ? TrySolveUnpacked(-1.0, strike, years, forward, price, rate).Volatility
        : double.NaN;

    private static void SolveBlock256(
        int i,
        ReadOnlySpan<OptionRight> rights,
        ReadOnlySpan<double> forwards,
        ReadOnlySpan<double> strikes,
        ReadOnlySpan<double> years,
        ReadOnlySpan<double> prices,
        ReadOnlySpan<double> rates,
        Span<double> vols)
    {
        const int Lanes = 4;
        Span<double> signs = stackalloc double[Lanes];
        bool unknownRight = false;
        for (int j = 0; j < Lanes; j++)
        {
            OptionRight right = rights[i + j];
            signs[j] = right == OptionRight.Call ? 1.0 : -1.0;
            unknownRight |= right != OptionRight.Call && right != OptionRight.Put;
        }

        var zero = Vector256<double>.Zero;
        var one = Vector256.Create(1.0);
        var infinity = Vector256.Create(double.PositiveInfinity);
        var sign = Vector256.Create((ReadOnlySpan<double>)signs);
        var forward = Vector256.Create(forwards.Slice(i, Lanes));
        var strike = Vector256.Create(strikes.Slice(i, Lanes));
        var time = Vector256.Create(years.Slice(i, Lanes));
        var price = Vector256.Create(prices.Slice(i, Lanes));
        var rate = Vector256.Create(rates.Slice(i, Lanes));

        // Validation and the no-arbitrage bounds, as in TrySolve; the lanes outside them (and the
        // exactly-intrinsic ones) are left to the scalar solver and given harmless values here.
        var valid = Vector256.GreaterThan(forward, zero) & Vector256.LessThan(forward, infinity)
            & Vector256.GreaterThan(strike, zero) & Vector256.LessThan(strike, infinity)
            & Vector256.GreaterThan(time, zero) & Vector256.LessThan(time, infinity)
            & Vector256.GreaterThanOrEqual(price, zero) & Vector256.LessThan(price, infinity)
            & Vector256.Equals(rate - rate, zero);
        var discount = DeterministicMathVector.Exp(-rate * time);
        var undiscounted = price / discount;
        var moneyness = sign * (forward - strike);
        var intrinsic = Vector256.ConditionalSelect(Vector256.GreaterThan(moneyness, zero), moneyness, zero);
        var cap = Vector256.ConditionalSelect(Vector256.GreaterThan(sign, zero), forward, strike);
        var x0 = DeterministicMathVector.Ln(forward / strike);
        var xOtm = -Vector256.Abs(x0);
        var beta0 = (undiscounted - intrinsic) / (Vector256.Sqrt(forward) * Vector256.Sqrt(strike));
        var expHalfX0 = DeterministicMathVector.Exp(Vector256.Create(0.5) * xOtm);
        var handled = valid & Vector256.GreaterThan(undiscounted, intrinsic) & Vector256.LessThan(undiscounted, cap)
            & Vector256.LessThan(beta0, expHalfX0) & Vector256.GreaterThan(beta0, zero);

        var x = Vector256.ConditionalSelect(handled, xOtm, Vector256.Create(-1.0));
        var beta = Vector256.ConditionalSelect(handled, beta0, Vector256.Create(0.1));
        var expHalfX = Vector256.ConditionalSelect(handled, expHalfX0, DeterministicMathVector.Exp(Vector256.Create(-0.5)));
        var expMinusHalfX = one / expHalfX;
        var expX = expHalfX * expHalfX;
        var bMax = expHalfX;
        var invSqrt2Pi = Vector256.Create(DeterministicMath.InvSqrt2Pi);

        // Jäckel's three points (at x = 0: s_c = 0, b_c = 0, b'(s_c) = 1/√(2π), as the formulas give).
        var sc = Vector256.Sqrt(Vector256.Create(-2.0) * x);
        var bc = Vector256.Create(0.5) * expHalfX - expMinusHalfX * DeterministicMathVector.NormalCdfGivenExp(-sc, expX);
        bc = Vector256.ConditionalSelect(Vector256.Equals(x, zero), zero, bc);
        var vc = invSqrt2Pi * expHalfX;
        var lowerSide = Vector256.LessThan(beta, bc);
        var sl = sc - bc / vc;
        var su = sc + (bMax - bc) / vc;
        var slPositive = Vector256.GreaterThan(sl, zero);

        // One evaluation of b: at s_l on the lower side (when s_l > 0), at s_u on the upper side.
        var probe = Vector256.ConditionalSelect(lowerSide, Vector256.ConditionalSelect(slPositive, sl, one), su);
        var bProbe = NormalisedCall256(x, probe, expHalfX, expMinusHalfX, expX, out var vProbe, out _, out _);
        var bl = Vector256.ConditionalSelect(slPositive, bProbe, zero);
        var vl = Vector256.ConditionalSelect(slPositive, vProbe, zero);
        var isLower = lowerSide & Vector256.LessThan(beta, bl);
        var isUpper = ~lowerSide & ~Vector256.LessThanOrEqual(beta, bProbe);
        var middleLow = lowerSide & ~isLower;
        var middleHigh = ~lowerSide & ~isUpper;
        var slOrZero = Vector256.ConditionalSelect(slPositive, sl, zero);

        var lo = Vector256.ConditionalSelect(middleLow, slOrZero, Vector256.ConditionalSelect(middleHigh, sc, Vector256.ConditionalSelect(isUpper, su, zero)));
        var hi = Vector256.ConditionalSelect(isLower, sl, Vector256.ConditionalSelect(middleLow, sc, Vector256.ConditionalSelect(middleHigh, su, infinity)));

        // Middle guess: cubic Hermite between (b_l, s_l) and (b_c, s_c), or (b_c, s_c) and (b_u, s_u).
        // With s_l ≤ 0 the lower end is (0, 0) with slope 0, which makes HermiteGuess take the chord.
        var hermite = HermiteGuess256(
            beta,
            Vector256.ConditionalSelect(middleLow, bl, bc),
            Vector256.ConditionalSelect(middleLow, slOrZero, sc),
            Vector256.ConditionalSelect(middleLow, vl, vc),
            Vector256.ConditionalSelect(middleLow, bc, bProbe),
            Vector256.ConditionalSelect(middleLow, sc, su),
            Vector256.ConditionalSelect(middleLow, vc, vProbe));
        hermite = Vector256.ConditionalSelect(middleHigh & ~Vector256.GreaterThan(bProbe, bc), su, hermite);

        // Lower and upper asymptotes inverted: one Φ⁻¹ estimate serves both; skipped when every lane is
        // on a middle branch (then nothing below is selected into any lane).
        var outer = isLower | isUpper;
        var s = hermite;
        var lnTarget = zero;
        if (Vector256.ExtractMostSignificantBits(outer) != 0)
        {
            var a = Vector256.Create(3.0 * Sqrt3 / (2.0 * Math.PI)) * beta / -x;
            var u = DeterministicMathVector.Exp(DeterministicMathVector.Ln(Vector256.ConditionalSelect(isLower, a, one)) / Vector256.Create(3.0));
            var p = Vector256.ConditionalSelect(isLower, u, (bMax - beta) / (expHalfX + expMinusHalfX));
            var inverse = InverseNormalCdfEstimate256(p);
            var lowerGuess = -x / (Vector256.Create(-Sqrt3) * inverse);
            lowerGuess = Vector256.ConditionalSelect(Vector256.GreaterThan(u, zero) & Vector256.LessThan(u, Vector256.Create(0.5)), lowerGuess, Vector256.Create(double.NaN));
            lowerGuess = Vector256.ConditionalSelect(Vector256.GreaterThan(lowerGuess, zero) & Vector256.LessThan(lowerGuess, sl), lowerGuess, Vector256.Create(0.5) * sl);
            var upperGuess = Vector256.Create(-2.0) * inverse;
            upperGuess = Vector256.ConditionalSelect(Vector256.GreaterThan(upperGuess, su) & Vector256.LessThan(upperGuess, infinity), upperGuess, Vector256.Create(2.0) * su);
            s = Vector256.ConditionalSelect(isLower, lowerGuess, Vector256.ConditionalSelect(isUpper, upperGuess, hermite));

            // ln β on the lower branch, ln(b_max − β) on the upper one.
            lnTarget = DeterministicMathVector.Ln(Vector256.ConditionalSelect(isLower, beta, Vector256.ConditionalSelect(isUpper, bMax - beta, one)));
        }

        s = Vector256.ConditionalSelect(Vector256.GreaterThan(s, zero), s, Vector256.ConditionalSelect(Vector256.LessThan(hi, infinity), Vector256.Create(0.5) * (lo + hi), one));
        var gapTarget = bMax - beta;

        var active = handled;
        var result = Vector256.Create(double.NaN);
        var stepTolerance = Vector256.Create(StepTolerance);
        var quarticTolerance = Vector256.Create(QuarticStopTolerance);
        var half = Vector256.Create(0.5);
        var two = Vector256.Create(2.0);
        for (int iteration = 1; iteration <= MaxIterations && Vector256.ExtractMostSignificantBits(active) != 0; iteration++)
        {
            var h = x / s;
            var b2 = h * h / s - Vector256.Create(0.25) * s;
            var b3 = b2 * b2 - Vector256.Create(3.0) * h * h / (s * s) - Vector256.Create(0.25);
            var value = NormalisedCall256(x, s, expHalfX, expMinusHalfX, expX, out var bp, out var noise, out var complement, isUpper);
            var below = Vector256.ConditionalSelect(isUpper, Vector256.GreaterThan(complement, gapTarget), Vector256.LessThan(value, beta));
            var atNoiseFloor = ~isUpper & Vector256.LessThanOrEqual(Vector256.Abs(value - beta), noise);
            // Middle branch: b − β. The lower and upper objectives (and their logarithm) only while a
            // live lane needs them.
            var newton = -(value - beta) / bp;
            var h2 = b2;
            var h3 = b3;
            if (Vector256.ExtractMostSignificantBits(outer & active) != 0)
            {
                var lnValue = DeterministicMathVector.Ln(Vector256.ConditionalSelect(isUpper, complement, value));

                // Lower branch: 1/ln b − 1/ln β.
                var lq = bp / (value * lnValue);
                var lowerNewton = (one / lnValue - one / lnTarget) * value * lnValue * lnValue / bp;
                var lnPlus2 = lnValue + two;
                var lowerH2 = -lnPlus2 * lq + b2;
                var lowerH3 = (two * lnValue * lnValue + Vector256.Create(6.0) * lnValue + Vector256.Create(6.0)) * lq * lq - Vector256.Create(3.0) * lnPlus2 * lq * b2 + b3;
                lowerNewton = Vector256.ConditionalSelect(Vector256.GreaterThan(value, zero), lowerNewton, Vector256.Create(double.NaN));

                // Upper branch: ln(b_max − β) − ln(b_max − b).
                var uq = bp / complement;
                var upperNewton = -(lnTarget - lnValue) / uq;
                var upperH2 = uq + b2;
                var upperH3 = two * uq * uq + Vector256.Create(3.0) * uq * b2 + b3;

                newton = Vector256.ConditionalSelect(isLower, lowerNewton, Vector256.ConditionalSelect(isUpper, upperNewton, newton));
                h2 = Vector256.ConditionalSelect(isLower, lowerH2, Vector256.ConditionalSelect(isUpper, upperH2, h2));
                h3 = Vector256.ConditionalSelect(isLower, lowerH3, Vector256.ConditionalSelect(isUpper, upperH3, h3));
            }

            lo = Vector256.ConditionalSelect(below & Vector256.GreaterThan(s, lo), s, lo);
            hi = Vector256.ConditionalSelect(~below & Vector256.LessThan(s, hi), s, hi);

            var step = newton * (one + half * h2 * newton) / (one + newton * (h2 + h3 * newton / Vector256.Create(6.0)));
            var absStep = Vector256.Abs(step);
            var next = s + step;
            var householder = Vector256.GreaterThan(next, lo) & Vector256.LessThan(next, hi);
            var bisected = Vector256.ConditionalSelect(Vector256.LessThan(hi, infinity), half * (lo + hi), two * Vector256.ConditionalSelect(Vector256.GreaterThan(s, lo), s, lo));

            // Stopping rules in the scalar solver's order: tiny step, small in-bracket step, noise floor, collapsed bracket.
            var tiny = Vector256.LessThanOrEqual(absStep, stepTolerance * s);
            var small = householder & Vector256.LessThanOrEqual(absStep, quarticTolerance * s);
            var proposed = Vector256.ConditionalSelect(householder, next, bisected);
            var noiseStop = atNoiseFloor;
            var collapsed = Vector256.LessThanOrEqual(hi - lo, stepTolerance * lo);
            var stopValue = Vector256.ConditionalSelect(tiny | small, next, Vector256.ConditionalSelect(noiseStop, Vector256.ConditionalSelect(householder, next, s), proposed));
            var stopped = active & (tiny | small | noiseStop | collapsed);
            result = Vector256.ConditionalSelect(stopped, stopValue, result);
            active &= ~stopped;
            s = Vector256.ConditionalSelect(active, proposed, s);
        }

        var vol = result / Vector256.Sqrt(time);
        Span<double> block = stackalloc double[Lanes];
        vol.CopyTo(block);
        uint fallback = Vector256.ExtractMostSignificantBits(~handled | active);
        if (unknownRight)
        {
            fallback = (1u << Lanes) - 1;
        }

        for (int j = 0; j < Lanes; j++)
        {
            vols[i + j] = (fallback & (1u << j)) != 0
                ? SolveOne(rights[i + j], forwards[i + j], strikes[i + j], years[i + j], prices[i + j], rates[i + j])
                : block[j];
        }
    }

    /// <summary>
    /// Lane-wise <see cref="NormalisedCall(double, double, in Exponentials, out double, out double)"/>:
    /// b(x, s), ∂b/∂s and the noise estimate; on the lanes of <paramref name="upper"/> also the complement
    /// b_max − b = e^(x/2)·Φ(−h − t) + e^(−x/2)·Φ(h − t) (elsewhere <paramref name="complement"/> is not meaningful).
    /// </summary>
    private static Vector256<double> NormalisedCall256(
        Vector256<double> x,
        Vector256<double> s,
        Vector256<double> expHalfX,
        Vector256<double> expMinusHalfX,
        Vector256<double> expX,
        out Vector256<double> vega,
        out Vector256<double> noise,
        out Vector256<double> complement,
        Vector256<double> upper = default)
    {
        var h = x / s;
        var t = Vector256.Create(0.5) * s;
        var plus = h + t;
        var minus = h - t;
        var e1 = DeterministicMathVector.ExpMinusHalfSquare(DeterministicMathVector.ClampForPdf(plus));
        var cdfFirst = DeterministicMathVector.NormalCdfGivenExp(Vector256.ConditionalSelect(upper, -plus, plus), e1);
        var first = expHalfX * cdfFirst;
        var second = expMinusHalfX * DeterministicMathVector.NormalCdfGivenExp(minus, e1 * expX);
        var z = Vector256.Abs(h) + t;
        vega = Vector256.Create(DeterministicMath.InvSqrt2Pi) * (e1 * expHalfX);
        noise = Vector256.Create(NoiseUlps) * (Vector256.Create(1.0) + z * z) * (first + second);
        complement = first + second;
        return first - second;
    }

    /// <summary>Lane-wise <see cref="HermiteGuess"/>.</summary>
    private static Vector256<double> HermiteGuess256(Vector256<double> beta, Vector256<double> b0, Vector256<double> s0, Vector256<double> v0, Vector256<double> b1, Vector256<double> s1, Vector256<double> v1)
    {
        var one = Vector256.Create(1.0);
        var two = Vector256.Create(2.0);
        var db = b1 - b0;
        var u = (beta - b0) / db;
        var chord = s0 + u * (s1 - s0);
        var w = one - u;
        var guess = (one + two * u) * w * w * s0 + u * w * w * (db / v0) + u * u * (Vector256.Create(3.0) - two * u) * s1 - u * u * w * (db / v1);
        var zero = Vector256<double>.Zero;
        var use = Vector256.GreaterThan(v0, zero) & Vector256.GreaterThan(v1, zero) & Vector256.GreaterThan(guess, s0) & Vector256.LessThan(guess, s1);
        return Vector256.ConditionalSelect(use, guess, chord);
    }

    /// <summary>Lane-wise <see cref="DeterministicMath.InverseNormalCdfEstimate"/> (Acklam's rational, no refinement).</summary>
    private static Vector256<double> InverseNormalCdfEstimate256(Vector256<double> p)
    {
        var zero = Vector256<double>.Zero;
        var one = Vector256.Create(1.0);
        const double PLow = 0.02425;
        var q = p - Vector256.Create(0.5);
        var r = q * q;
        var central = (((((Vector256.Create(-3.969683028665376e+01) * r + Vector256.Create(2.209460984245205e+02)) * r - Vector256.Create(2.759285104469687e+02)) * r + Vector256.Create(1.383577518672690e+02)) * r - Vector256.Create(3.066479806614716e+01)) * r + Vector256.Create(2.506628277459239e+00)) * q
            / (((((Vector256.Create(-5.447609879822406e+01) * r + Vector256.Create(1.615858368580409e+02)) * r - Vector256.Create(1.556989798598866e+02)) * r + Vector256.Create(6.680131188771972e+01)) * r - Vector256.Create(1.328068155288572e+01)) * r + one);
        var low = Vector256.LessThan(p, Vector256.Create(PLow));
        var high = Vector256.GreaterThan(p, Vector256.Create(1.0 - PLow));
        var result = central;
        if (Vector256.ExtractMostSignificantBits(low | high) != 0)
        {
            var tailArgument = Vector256.ConditionalSelect(low, p, one - p);
            var tq = Vector256.Sqrt(Vector256.Create(-2.0) * DeterministicMathVector.Ln(tailArgument));
            var tail = (((((Vector256.Create(-7.784894002430293e-03) * tq - Vector256.Create(3.223964580411365e-01)) * tq - Vector256.Create(2.400758277161838e+00)) * tq - Vector256.Create(2.549732539343734e+00)) * tq + Vector256.Create(4.374664141464968e+00)) * tq + Vector256.Create(2.938163982698783e+00))
                / ((((Vector256.Create(7.784695709041462e-03) * tq + Vector256.Create(3.224671290700398e-01)) * tq + Vector256.Create(2.445134137142996e+00)) * tq + Vector256.Create(3.754408661907416e+00)) * tq + one);
            result = Vector256.ConditionalSelect(low, tail, Vector256.ConditionalSelect(high, -tail, central));
        }

        result = Vector256.ConditionalSelect(Vector256.Equals(p, zero), Vector256.Create(double.NegativeInfinity), result);
        result = Vector256.ConditionalSelect(Vector256.Equals(p, one), Vector256.Create(double.PositiveInfinity), result);
        var inRange = Vector256.GreaterThanOrEqual(p, zero) & Vector256.LessThanOrEqual(p, one);
        return Vector256.ConditionalSelect(inRange, result, Vector256.Create(double.NaN));
    }
}
