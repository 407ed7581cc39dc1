using System.Runtime.Intrinsics;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using CsCheck;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>
/// The vectorised and scalar kernels behind portfolio margin give the same bits, so the choice of
/// <see cref="PricingPath"/> can never change state. (On this machine the vector path is
/// <see cref="Vector512"/> where available, else <see cref="Vector256"/>; the engine-level
/// comparison is in <c>EngineProperties</c>.)
/// </summary>
public class PricingPathTests
{
    private static readonly Gen<OptionRiskInput> InputGen =
        Gen.Select(Gen.Bool, Gen.Double[0.2, 5.0], Gen.Double[1.0, 1_000_000.0], Gen.Double[0.0, 3.0], Gen.Double[0.0, 3.0], Gen.Int[0, 9])
            .Select(t => new OptionRiskInput(
                t.Item1 ? OptionRight.Call : OptionRight.Put,
                t.Item3 * t.Item2,
                t.Item3,
                t.Item6 == 0 ? 0.0 : t.Item6 == 1 ? 1.0 / 365 / 24 : t.Item4, // expired, an hour to go, or up to 3 years
                t.Item6 == 2 ? 0.0 : t.Item5));                                 // σ = 0 falls back to intrinsic value

    [Fact]
    public void Option_risk_grids_are_bit_identical_on_the_scalar_and_vector_paths()
    {
        var scalar = new OptionRiskGrid(PortfolioMarginParameters.Default);
        var vector = new OptionRiskGrid(PortfolioMarginParameters.Default);
        int width = scalar.ScenarioCount;
        // Up to 150 options: across the 64-option chunks, with ragged vector tails.
        InputGen.Array[1, 150].Sample(options =>
        {
            var rowsScalar = new double[options.Length * width];
            var rowsVector = new double[options.Length * width];
            var baseScalar = new double[options.Length];
            var baseVector = new double[options.Length];
            scalar.Compute(options, rowsScalar, baseScalar, PricingPath.Scalar);
            vector.Compute(options, rowsVector, baseVector, PricingPath.Vectorized);
            Assert.Equal(Bits(baseScalar), Bits(baseVector));
            Assert.Equal(Bits(rowsScalar), Bits(rowsVector));
            Assert.All(rowsScalar, v => Assert.True(double.IsFinite(v)));
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Option_risk_grid_rows_do_not_depend_on_the_batch_they_are_computed_in()
    {
        // An option's row is the same alone and amid others: a snapshot rebuilds grids per underlying,
        // the live engine per re-mark, and the two must agree.
        var grid = new OptionRiskGrid(PortfolioMarginParameters.Default);
        int width = grid.ScenarioCount;
        Gen.Select(InputGen.Array[1, 100], Gen.Int[0, 1_000]).Sample(t =>
        {
            var (options, pick) = t;
            int i = pick % options.Length;
            var all = new double[options.Length * width];
            grid.Compute(options, all, new double[options.Length]);
            var alone = new double[width];
            grid.Compute([options[i]], alone, new double[1]);
            Assert.Equal(Bits(alone), Bits(all.AsSpan(i * width, width).ToArray()));
        }, iter: 200, threads: 1);
    }

    private static readonly Gen<double> ScenarioValueGen = Gen.Int[0, 9].SelectMany(kind => kind switch
    {
        0 => Gen.Const(0.0),
        1 => Gen.Const(-0.0),
        2 => Gen.Const(double.Epsilon),
        3 => Gen.Double[-1e18, 1e18],
        _ => Gen.Double[-1e11, 1e11],
    });

    [Fact]
    public void Worst_side_scenario_sums_are_bit_identical_on_the_scalar_and_vector_paths()
    {
        Gen.Select(ScenarioValueGen.Array[0, 80], ScenarioValueGen.Array[80], ScenarioValueGen.Array[80], Gen.Double[-500, 500], Gen.Double[-500, 500], Gen.Double[-500, 500]).Sample(t =>
        {
            var (row, worst0, held0, longSide, shortSide, size) = t;
            var worstScalar = worst0[..row.Length];
            var heldScalar = held0[..row.Length];
            var worstVector = worst0[..row.Length];
            var heldVector = held0[..row.Length];
            ScenarioSums.AddWorstSideScalar(worstScalar, heldScalar, row, longSide, shortSide, size);
            ScenarioSums.AddWorstSide(worstVector, heldVector, row, longSide, shortSide, size);
            Assert.Equal(Bits(worstScalar), Bits(worstVector));
            Assert.Equal(Bits(heldScalar), Bits(heldVector));

            // And it is what it says: min of the two sides per scenario, and size × row.
            for (int s = 0; s < row.Length; s++)
            {
                double a = longSide * row[s];
                double b = shortSide * row[s];
                Assert.Equal(worst0[s] + (a < b ? a : b), worstScalar[s]);
                Assert.Equal(held0[s] + (size * row[s]), heldScalar[s]);
            }
        }, iter: 1_000, threads: 1);
    }

    private static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];
}
