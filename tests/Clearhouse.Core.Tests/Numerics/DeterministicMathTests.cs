using System.Runtime.Intrinsics;
using Clearhouse.Core.Numerics;
using Xunit.Abstractions;

namespace Clearhouse.Core.Tests.Numerics;

public class DeterministicMathTests(ITestOutputHelper output)
{
    private const double Ulp = 2.220446049250313e-16; // 2^-52: one ulp relative at 1.0

    [Fact]
    public void Exp_of_one_is_e_and_ln_of_two_is_ln2()
    {
        // e = 2.718281828459045235360287..., ln 2 = 0.693147180559945309417232... (both round to these doubles).
        Assert.True(UlpDistance(2.718281828459045, DeterministicMath.Exp(1.0)) <= 1);
        Assert.True(UlpDistance(0.6931471805599453, DeterministicMath.Ln(2.0)) <= 1);
        Assert.True(UlpDistance(0.36787944117144233, DeterministicMath.Exp(-1.0)) <= 1); // 1/e = 0.367879441171442321595...
        Assert.Equal(1.0, DeterministicMath.Exp(0.0));
        Assert.Equal(0.0, DeterministicMath.Ln(1.0));
        Assert.Equal(1.0, DeterministicMath.Ln(2.718281828459045), 15);
    }

    [Fact]
    public void Exp_and_ln_handle_the_ends_of_the_double_range()
    {
        Assert.Equal(double.PositiveInfinity, DeterministicMath.Exp(710.0));
        Assert.Equal(double.PositiveInfinity, DeterministicMath.Exp(double.PositiveInfinity));
        Assert.Equal(0.0, DeterministicMath.Exp(-746.0));
        Assert.Equal(0.0, DeterministicMath.Exp(double.NegativeInfinity));
        Assert.True(double.IsNaN(DeterministicMath.Exp(double.NaN)));
        Assert.Equal(double.NegativeInfinity, DeterministicMath.Ln(0.0));
        Assert.Equal(double.PositiveInfinity, DeterministicMath.Ln(double.PositiveInfinity));
        Assert.True(double.IsNaN(DeterministicMath.Ln(-1.0)));
        Assert.True(double.IsNaN(DeterministicMath.Ln(double.NaN)));

        // Largest double: ln = 709.782712893384; smallest subnormal 2^-1074: ln = −744.4400719213812.
        Assert.Equal(709.782712893384, DeterministicMath.Ln(double.MaxValue), 12);
        Assert.Equal(-744.4400719213812, DeterministicMath.Ln(double.Epsilon), 12);
    }

    [Fact]
    public void Exp_is_within_one_ulp_of_a_2200_bit_reference_over_its_whole_range()
    {
        var rng = new Random(20261125);
        double worst = 0;
        for (int i = 0; i < 3000; i++)
        {
            double x = i < 1000 ? (rng.NextDouble() - 0.5) * 2.0 : (rng.NextDouble() * 1450.0) - 740.0;
            double actual = DeterministicMath.Exp(x);
            var reference = HighPrecisionReference.Exp(x);
            if (actual < 2.2250738585072014e-308)
            {
                continue; // subnormal results: checked separately below
            }

            double error = Math.Abs(HighPrecisionReference.RelativeError(actual, reference));
            worst = Math.Max(worst, error);
        }

        output.WriteLine($"Exp: worst relative error {worst:E3} = {worst / Ulp:F2} ulp over 3000 points in [-740, 710]");
        Assert.True(worst <= 1.0 * Ulp, $"worst {worst:E3}");
    }

    [Fact]
    public void Ln_is_within_one_ulp_of_a_2200_bit_reference_from_subnormals_to_the_largest_double()
    {
        var rng = new Random(7);
        double worst = 0;
        for (int i = 0; i < 3000; i++)
        {
            double x = i switch
            {
                < 1000 => 0.5 + rng.NextDouble() * 1.5,                              // near 1, where cancellation would show
                < 2000 => Math.ScaleB(1.0 + rng.NextDouble(), rng.Next(-1074, 1024)), // every binade
                _ => 1.0 + (rng.NextDouble() - 0.5) * 1e-6,
            };
            if (x == 1.0 || x <= 0 || double.IsInfinity(x))
            {
                continue;
            }

            double actual = DeterministicMath.Ln(x);
            double error = Math.Abs(HighPrecisionReference.RelativeError(actual, HighPrecisionReference.Ln(x)));
            worst = Math.Max(worst, error);
        }

        output.WriteLine($"Ln: worst relative error {worst:E3} = {worst / Ulp:F2} ulp over 3000 points");
        Assert.True(worst <= 1.0 * Ulp, $"worst {worst:E3}");
    }

    [Theory]
    // Φ(1) = 0.841344746068542948585..., Φ(−5) = 2.866515718791939116738e-7 (standard tables; also the 2200-bit reference).
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(-5.0, 2.866515718791939e-7)]
    [InlineData(0.0, 0.5)]
    [InlineData(-1.959963984540054, 0.025)]
    public void NormalCdf_matches_published_values(double x, double expected) =>
        Assert.Equal(expected, DeterministicMath.NormalCdf(x), Math.Abs(expected) * 4 * Ulp);

    [Fact]
    public void NormalCdf_has_a_relative_error_of_a_few_ulps_down_to_minus_37()
    {
        var rng = new Random(42);
        double worstCentral = 0, worstTail = 0, worstPdf = 0;
        var points = new List<double> { -37.5, -37.0, -30.0, -20.0, -10.0, -5.656854, -5.66, -0.66291, -0.663, 0.5, 1e-300, -1e-10 };
        for (int i = 0; i < 400; i++)
        {
            points.Add(-rng.NextDouble() * 37.5);
            points.Add((rng.NextDouble() - 0.5) * 12.0);
        }

        foreach (double x in points)
        {
            double actual = DeterministicMath.NormalCdf(x);
            double error = Math.Abs(HighPrecisionReference.RelativeError(actual, HighPrecisionReference.NormalCdf(x)));
            if (x < -5.656854)
            {
                worstTail = Math.Max(worstTail, error);
            }
            else
            {
                worstCentral = Math.Max(worstCentral, error);
            }

            double pdfError = Math.Abs(HighPrecisionReference.RelativeError(DeterministicMath.NormalPdf(x), HighPrecisionReference.NormalPdf(x)));
            worstPdf = Math.Max(worstPdf, pdfError);
        }

        output.WriteLine($"NormalCdf: worst relative error {worstCentral:E3} ({worstCentral / Ulp:F2} ulp) for x >= -5.66, {worstTail:E3} ({worstTail / Ulp:F2} ulp) for -37.5 <= x < -5.66; NormalPdf {worstPdf:E3} ({worstPdf / Ulp:F2} ulp); {points.Count} points");
        Assert.True(worstCentral <= 1e-15, $"central {worstCentral:E3}");
        Assert.True(worstTail <= 1e-15, $"tail {worstTail:E3}");
        Assert.True(worstPdf <= 1e-15, $"pdf {worstPdf:E3}");
    }

    [Fact]
    public void Exp_and_ln_agree_with_the_runtime_within_two_ulps_over_random_samples()
    {
        var rng = new Random(1);
        int worstExp = 0, worstLn = 0;
        for (int i = 0; i < 200_000; i++)
        {
            double x = (rng.NextDouble() - 0.5) * 1400.0;
            worstExp = Math.Max(worstExp, UlpDistance(DeterministicMath.Exp(x), Math.Exp(x)));
            double y = Math.ScaleB(1.0 + rng.NextDouble(), rng.Next(-1000, 1000));
            worstLn = Math.Max(worstLn, UlpDistance(DeterministicMath.Ln(y), Math.Log(y)));
        }

        output.WriteLine($"vs Math.Exp: worst {worstExp} ulp; vs Math.Log: worst {worstLn} ulp (200,000 samples each)");
        Assert.True(worstExp <= 2);
        Assert.True(worstLn <= 2);
    }

    [Fact]
    public void Ln_inverts_exp_and_exp_turns_sums_into_products_to_a_few_ulps()
    {
        var rng = new Random(3);
        double worstRoundTrip = 0;
        int worstProduct = 0;
        for (int i = 0; i < 100_000; i++)
        {
            // Exp rounds its result by up to half an ulp, which Ln turns into an absolute error of
            // about 1.1e-16: so measure in units of 2^-52·max(1, |x|).
            double x = (rng.NextDouble() - 0.5) * 1000.0;
            worstRoundTrip = Math.Max(worstRoundTrip, Math.Abs(DeterministicMath.Ln(DeterministicMath.Exp(x)) - x) / (Ulp * Math.Max(1.0, Math.Abs(x))));

            // Only where a + b is exact (TwoSum error zero): otherwise Exp(a + b) differs by the rounding of the sum.
            double a = (rng.NextDouble() - 0.5) * 20.0, b = Math.Round((rng.NextDouble() - 0.5) * 20.0 * 1024) / 1024;
            double s = a + b, bb = s - a;
            if ((a - (s - bb)) + (b - bb) != 0)
            {
                continue;
            }

            worstProduct = Math.Max(worstProduct, UlpDistance(DeterministicMath.Exp(a + b), DeterministicMath.Exp(a) * DeterministicMath.Exp(b)));
        }

        output.WriteLine($"Ln(Exp(x)) vs x: worst {worstRoundTrip:F2} x 2^-52·max(1,|x|); Exp(a+b) vs Exp(a)Exp(b): worst {worstProduct} ulp");
        Assert.True(worstRoundTrip <= 1.0);
        Assert.True(worstProduct <= 4); // three roundings (two Exp, one product), each up to about one ulp of the result
    }

    [Fact]
    public void InverseNormalCdf_inverts_NormalCdf()
    {
        var rng = new Random(5);
        double worst = 0;
        for (int i = 0; i < 20_000; i++)
        {
            double x = (rng.NextDouble() - 0.5) * 70.0;
            double p = DeterministicMath.NormalCdf(x);
            if (p <= 0 || p >= 0.999)
            {
                continue;
            }

            worst = Math.Max(worst, Math.Abs(DeterministicMath.InverseNormalCdf(p) - x) / Math.Max(1.0, Math.Abs(x)));
        }

        output.WriteLine($"InverseNormalCdf(NormalCdf(x)) - x: worst {worst:E3}");
        Assert.True(worst < 1e-13);
    }

    [Fact]
    public void Vector_twins_are_bit_identical_to_the_scalar_functions()
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            return; // the vector twins are then never used
        }

        var rng = new Random(11);
        var specials = new[] { 0.0, -0.0, 1.0, -1.0, 0.66291, -0.66291, 5.656854248, -5.656854248, 37.5193, -37.5193, 40.0, -40.0, 709.78, -745.0, 1e-310, double.Epsilon, double.MaxValue, double.PositiveInfinity, double.NegativeInfinity, double.NaN };
        var xs = new double[400_000];
        for (int i = 0; i < xs.Length; i++)
        {
            xs[i] = i < specials.Length * 4 ? specials[i % specials.Length] : (i % 4) switch
            {
                0 => (rng.NextDouble() - 0.5) * 80.0,
                1 => (rng.NextDouble() - 0.5) * 1500.0,
                2 => Math.ScaleB(rng.NextDouble(), rng.Next(-1074, 1024)),
                _ => (rng.NextDouble() - 0.5) * 2.0,
            };
        }

        for (int i = 0; i < xs.Length; i += 4)
        {
            var v = Vector256.Create(xs[i], xs[i + 1], xs[i + 2], xs[i + 3]);
            var exp = DeterministicMathVector.Exp(v);
            var ln = DeterministicMathVector.Ln(v);
            var cdf = DeterministicMathVector.NormalCdfAndPdf(v, out var pdf);
            for (int j = 0; j < 4; j++)
            {
                double x = xs[i + j];
                AssertSameBits(DeterministicMath.Exp(x), exp[j], "Exp", x);
                AssertSameBits(DeterministicMath.Ln(x), ln[j], "Ln", x);
                AssertSameBits(DeterministicMath.NormalCdf(x), cdf[j], "NormalCdf", x);
                AssertSameBits(DeterministicMath.NormalPdf(x), pdf[j], "NormalPdf", x);
            }
        }

        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }

        for (int i = 0; i < xs.Length; i += 8)
        {
            var v = Vector512.Create(xs.AsSpan(i, 8));
            var exp = DeterministicMathVector512.Exp(v);
            var ln = DeterministicMathVector512.Ln(v);
            var cdf = DeterministicMathVector512.NormalCdfAndPdf(v, out var pdf);
            for (int j = 0; j < 8; j++)
            {
                double x = xs[i + j];
                AssertSameBits(DeterministicMath.Exp(x), exp[j], "Exp (512)", x);
                AssertSameBits(DeterministicMath.Ln(x), ln[j], "Ln (512)", x);
                AssertSameBits(DeterministicMath.NormalCdf(x), cdf[j], "NormalCdf (512)", x);
                AssertSameBits(DeterministicMath.NormalPdf(x), pdf[j], "NormalPdf (512)", x);
            }
        }
    }

    private static void AssertSameBits(double scalar, double vector, string name, double x)
    {
        if (double.IsNaN(scalar) && double.IsNaN(vector))
        {
            return;
        }

        Assert.True(
            BitConverter.DoubleToInt64Bits(scalar) == BitConverter.DoubleToInt64Bits(vector),
            $"{name}({x:R}): scalar {scalar:R}, vector {vector:R}");
    }

    private static int UlpDistance(double a, double b)
    {
        if (a == b)
        {
            return 0;
        }

        long ia = BitConverter.DoubleToInt64Bits(a), ib = BitConverter.DoubleToInt64Bits(b);
        if ((ia < 0) != (ib < 0))
        {
            return int.MaxValue;
        }

        return (int)Math.Min(int.MaxValue, Math.Abs(ia - ib));
    }
}
