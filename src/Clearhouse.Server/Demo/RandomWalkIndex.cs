using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo index: a bounded random walk around a base price. Each step moves by a uniform random
/// fraction of at most <see cref="MaxStepPpm"/>, pulls a little back toward the base, and never
/// leaves ±<see cref="BandPpm"/> of it; the result is rounded to whole micro-USDC. Lives outside
/// Core: it is an outside fact that enters the engine as signed reports (<see cref="DemoOracle"/>).
/// </summary>
public sealed class RandomWalkIndex(string underlying, Price basePrice, Random random)
{
    /// <summary>Largest move per step, in ppm of the price (5 bps).</summary>
    public const int MaxStepPpm = 500;

    /// <summary>How far from the base the walk may wander, in ppm (±5%).</summary>
    public const int BandPpm = 50_000;

    /// <summary>Fraction of the distance to the base recovered each step.</summary>
    private const double Reversion = 0.01;

    private double price = (double)basePrice.Micros;

    public string Underlying { get; } = underlying;

    public Price BasePrice { get; } = basePrice;

    public Price Current => new((long)Math.Round(price));

    /// <summary>Moves one step and returns the new price (whole micros).</summary>
    public Price Step()
    {
        double basis = BasePrice.Micros;
        double move = (random.NextDouble() * 2 - 1) * MaxStepPpm / 1e6;
        price = price * (1 + move) + (basis - price) * Reversion;
        double band = basis * BandPpm / 1e6;
        price = Math.Clamp(price, basis - band, basis + band);
        return Current;
    }
}
