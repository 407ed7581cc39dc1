using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Benchmarks.Pricing;

/// <summary>
/// The options every pricing benchmark prices: <see cref="Count"/> random European options with
/// forward/spot 1–200,000, strike within ±2.5 standard deviations (at most ×/÷ e^2.5), σ 1%–500%,
/// T one day to five years (whole days), r 0–10%, half calls and half puts (seed 76).
/// </summary>
public sealed class PricingInputs
{
    public const int Count = 4096;

    public PricingInputs()
    {
        var rng = new Random(76);
        for (int i = 0; i < Count; i++)
        {
            int days = 1 + rng.Next(5 * 365);
            double years = days / 365.0;
            double forward = Math.Exp(rng.NextDouble() * Math.Log(200_000));
            double vol = Math.Exp(Math.Log(0.01) + rng.NextDouble() * Math.Log(500.0));
            double sd = vol * Math.Sqrt(years);
            double strike = forward * Math.Exp((rng.NextDouble() - 0.5) * 5.0 * Math.Min(1.0, sd));
            Days[i] = days;
            Rights[i] = (i & 1) == 0 ? OptionRight.Call : OptionRight.Put;
            Strikes[i] = strike;
            Years[i] = years;
            Forwards[i] = forward;
            Volatilities[i] = vol;
            Rates[i] = rng.NextDouble() * 0.1;
            Terms[i] = OptionTerms.Create(Rights[i], strike, years);
            Markets[i] = BlackMarket.Create(forward, vol, Rates[i]);
            Prices[i] = Black76.Price(Terms[i], Markets[i]).Price;
        }
    }

    public int[] Days { get; } = new int[Count];

    public OptionRight[] Rights { get; } = new OptionRight[Count];

    public double[] Strikes { get; } = new double[Count];

    public double[] Years { get; } = new double[Count];

    public double[] Forwards { get; } = new double[Count];

    public double[] Volatilities { get; } = new double[Count];

    public double[] Rates { get; } = new double[Count];

    public OptionTerms[] Terms { get; } = new OptionTerms[Count];

    public BlackMarket[] Markets { get; } = new BlackMarket[Count];

    /// <summary>Black-76 values of the options above, the inputs of the implied-volatility benchmark.</summary>
    public double[] Prices { get; } = new double[Count];
}
