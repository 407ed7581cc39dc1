using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Core.Margin;

/// <summary>What the scenario grid of one option is computed from: the inputs its mark was computed from.</summary>
/// <param name="Right">Call or put.</param>
/// <param name="Strike">Strike in USDC.</param>
/// <param name="Forward">The forward the mark used (the future of the same expiry, else the index), in USDC.</param>
/// <param name="Years">Time to expiry when marked, in 365-day years.</param>
/// <param name="Volatility">σ(K, T) from the surface when marked.</param>
public readonly record struct OptionRiskInput(OptionRight Right, double Strike, double Forward, double Years, double Volatility);

/// <summary>Which Black-76 kernel prices the grid. Both give bit-identical results (tested); the choice is speed only.</summary>
public enum PricingPath : byte
{
    /// <summary>512- or 256-bit vectors where the hardware has them (the default).</summary>
    Vectorized = 0,

    /// <summary>The scalar kernel, one option at a time.</summary>
    Scalar = 1,
}

/// <summary>
/// The per-contract scenario P&amp;L of options: for scenario s, <c>w_s × (V(F·(1 + m_s), σ_s) − V(F, σ))</c>
/// in micro-USDC, V being Black-76 (undiscounted, on the same inputs as the mark) and σ_s the
/// shocked volatility (<see cref="PortfolioMarginParameters.ShockedVolatility"/>). Computed once per
/// re-mark for every option of an underlying, so that an account's portfolio requirement is only
/// sums over its positions. All options of a call go through one batched Black-76 pass, in chunks
/// that keep the working set in cache; nothing allocates once the scratch has grown.
/// </summary>
public sealed class OptionRiskGrid
{
    private const int OptionsPerChunk = 64;

    private readonly PortfolioMarginParameters parameters;
    private readonly Scenario[] scenarios;
    private readonly int width;
    private readonly OptionRight[] rights;
    private readonly double[] strikes;
    private readonly double[] years;
    private readonly double[] forwards;
    private readonly double[] vols;
    private readonly double[] rates;
    private readonly double[] prices;
    private readonly double[] deltas;
    private readonly double[] gammas;
    private readonly double[] vegas;
    private readonly double[] thetas;
    private readonly double[] rhos;

    public OptionRiskGrid(PortfolioMarginParameters parameters)
    {
        this.parameters = parameters;
        scenarios = parameters.BuildScenarios();
        width = scenarios.Length + 1;
        int n = OptionsPerChunk * width;
        rights = new OptionRight[n];
        strikes = new double[n];
        years = new double[n];
        forwards = new double[n];
        vols = new double[n];
        rates = new double[n];
        prices = new double[n];
        deltas = new double[n];
        gammas = new double[n];
        vegas = new double[n];
        thetas = new double[n];
        rhos = new double[n];
    }

    public ReadOnlySpan<Scenario> Scenarios => scenarios;

    public int ScenarioCount => scenarios.Length;

    public PortfolioMarginParameters Parameters => parameters;

    /// <summary>
    /// Fills <paramref name="output"/> (options × <see cref="ScenarioCount"/>, row-major) with the
    /// per-contract scenario P&amp;L of each option, in micro-USDC, and <paramref name="baseValues"/>
    /// with each option's unshocked Black-76 value in USDC (the value its mark is rounded from).
    /// </summary>
    public void Compute(ReadOnlySpan<OptionRiskInput> options, Span<double> output, Span<double> baseValues, PricingPath path = PricingPath.Vectorized)
    {
        int count = scenarios.Length;
        if (output.Length < options.Length * count || baseValues.Length < options.Length)
        {
            throw new ArgumentException("The output needs one row of scenarios and one base value per option.", nameof(output));
        }

        for (int start = 0; start < options.Length; start += OptionsPerChunk)
        {
            int chunk = Math.Min(OptionsPerChunk, options.Length - start);
            int n = chunk * width;
            for (int o = 0; o < chunk; o++)
            {
                var option = options[start + o];
                double days = option.Years * YearFraction.DaysPerYear;
                double down = parameters.ShockedVolatility(option.Volatility, days, VolShock.Down);
                double up = parameters.ShockedVolatility(option.Volatility, days, VolShock.Up);
                int at = o * width;
                Fill(at, option, option.Forward, option.Volatility);
                for (int s = 0; s < count; s++)
                {
                    var scenario = scenarios[s];
                    double vol = scenario.Shock switch
                    {
                        VolShock.Down => down,
                        VolShock.Up => up,
                        _ => option.Volatility,
                    };
                    Fill(at + 1 + s, option, option.Forward * (1.0 + scenario.Move), vol);
                }
            }

            var input = new Black76BatchInput(rights.AsSpan(0, n), strikes.AsSpan(0, n), years.AsSpan(0, n), forwards.AsSpan(0, n), vols.AsSpan(0, n), rates.AsSpan(0, n));
            var result = new Black76BatchOutput(prices.AsSpan(0, n), deltas.AsSpan(0, n), gammas.AsSpan(0, n), vegas.AsSpan(0, n), thetas.AsSpan(0, n), rhos.AsSpan(0, n));
            if (path == PricingPath.Scalar)
            {
                Black76.PriceBatchScalar(input, result);
            }
            else
            {
                Black76.PriceBatch(input, result);
            }

            for (int o = 0; o < chunk; o++)
            {
                int at = o * width;
                double baseValue = prices[at];
                baseValues[start + o] = baseValue;
                var row = output.Slice((start + o) * count, count);
                for (int s = 0; s < count; s++)
                {
                    row[s] = scenarios[s].Weight * ((prices[at + 1 + s] - baseValue) * 1_000_000.0);
                }
            }
        }
    }

    private void Fill(int at, in OptionRiskInput option, double forward, double vol)
    {
        rights[at] = option.Right;
        strikes[at] = option.Strike;
        years[at] = option.Years;
        forwards[at] = forward;
        vols[at] = vol;
        rates[at] = 0.0;
    }
}
