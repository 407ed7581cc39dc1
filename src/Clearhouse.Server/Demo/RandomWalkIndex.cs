using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo index: a bounded random walk around a base price. Each step moves by a uniform random
/// fraction of at most <see cref="MaxStepPpm"/>, pulls a little back toward the base, and never
/// leaves ±<see cref="BandPpm"/> of it; every <see cref="JumpEverySteps"/>th step is instead a
/// jump of <see cref="MinJumpPpm"/> to <see cref="MaxJumpPpm"/> up or down (toward the base when
/// the other way would leave the band), the kind of gap that liquidates the demo's leveraged
/// gamblers (<see cref="DemoGambler"/>). The result is rounded to whole micro-USDC. Every draw
/// comes from the demo's one <see cref="Random"/>, so a seeded demo repeats its path. Lives
/// outside Core: it is an outside fact that enters the engine as signed reports (<see cref="DemoOracle"/>).
/// </summary>
public sealed class RandomWalkIndex(string underlying, Price basePrice, Random random)
{
    /// <summary>Largest move per step, in ppm of the price (5 bps).</summary>
    public const int MaxStepPpm = 500;

    /// <summary>How far from the base the walk may wander, in ppm (±5%).</summary>
    public const int BandPpm = 50_000;

    /// <summary>Steps between two jumps (20 s at the demo's default 500 ms).</summary>
    public const int JumpEverySteps = 40;

    /// <summary>Smallest jump, in ppm (1.3%: more than the 1.2% move that takes a 45× position below 1% maintenance).</summary>
    public const int MinJumpPpm = 13_000;

    /// <summary>Largest jump, in ppm (1.8%: within the demo oracle's 2% deviation band, so the reporters still agree).</summary>
    public const int MaxJumpPpm = 18_000;

    /// <summary>Fraction of the distance to the base recovered each step.</summary>
    private const double Reversion = 0.01;

    private double price = (double)basePrice.Micros;
    private long steps;

    public string Underlying { get; } = underlying;

    public Price BasePrice { get; } = basePrice;

    public Price Current => new((long)Math.Round(price));

    /// <summary>Moves one step (or jumps) and returns the new price (whole micros).</summary>
    public Price Step()
    {
        steps++;
        double basis = BasePrice.Micros;
        double band = basis * BandPpm / 1e6;
        if (steps % JumpEverySteps == 0)
        {
            double size = (MinJumpPpm + (random.NextDouble() * (MaxJumpPpm - MinJumpPpm))) / 1e6;
            double sign = random.Next(2) == 0 ? -1 : 1;
            if (Math.Abs(price * (1 + (sign * size)) - basis) > band)
            {
                sign = -sign;
            }

            price = Math.Clamp(price * (1 + (sign * size)), basis - band, basis + band);
            return Current;
        }

        double move = (random.NextDouble() * 2 - 1) * MaxStepPpm / 1e6;
        price = price * (1 + move) + (basis - price) * Reversion;
        price = Math.Clamp(price, basis - band, basis + band);
        return Current;
    }
}
