namespace Clearhouse.Core.Margin;

/// <summary>How a scenario shocks implied volatility.</summary>
public enum VolShock : byte
{
    Down = 0,
    Unchanged = 1,
    Up = 2,
}

/// <summary>One stress scenario: an underlying move, a volatility shock and the weight its P&amp;L counts with.</summary>
/// <param name="MovePpm">Relative move of the underlying (and of every forward on it), in ppm: −160,000 is −16%.</param>
/// <param name="Shock">The volatility shock applied with it.</param>
/// <param name="Weight">1 for the core grid; the dampener for the extended tail moves.</param>
public readonly record struct Scenario(int MovePpm, VolShock Shock, double Weight)
{
    public double Move => MovePpm / 1_000_000.0;
}

/// <summary>
/// Parameters of portfolio margin (docs/margin.md, "Portfolio margin"). Defaults follow Deribit's
/// published model: underlying moves of ±16% in 9 evenly spaced steps, each with volatility down,
/// unchanged and up; volatility shocks scaled by time to expiry, σ_up = max(σ × (1 + 50% × (30/d)^p),
/// 50%) and σ_down = σ × (1 − 25% × (30/d)^p), with d = max(1, days to expiry) and p = 0.30 under
/// 30 days, 0.13 from 30 days; and an extended table of tail moves (−66%, −33%, +50% … +500%,
/// volatility up only) whose P&amp;L is dampened by <c>core range / |move|</c>, so that a linear
/// position never needs more for a tail move than for the ±16% move while a short option's convex
/// loss still shows. Add-ons: 1% of the index per net short option contract per strike and expiry
/// (Deribit's contingency), and 1% of the gross notional above 10,000,000 USDC per underlying.
/// Maintenance = 80% of initial (Derive's factor).
/// </summary>
public sealed record PortfolioMarginParameters
{
    /// <summary>Largest core move either way, in ppm (16%).</summary>
    public int PriceRangePpm { get; init; } = 160_000;

    /// <summary>Core steps on each side of zero (4: −16, −12, −8, −4, 0, +4, … +16%).</summary>
    public int PriceStepsPerSide { get; init; } = 4;

    public double VolUpFraction { get; init; } = 0.50;

    public double VolDownFraction { get; init; } = 0.25;

    /// <summary>Least volatility in the up scenarios (Deribit's minVolForShockUp).</summary>
    public double MinimumVolUp { get; init; } = 0.50;

    public double ShortTermVegaPower { get; init; } = 0.30;

    public double LongTermVegaPower { get; init; } = 0.13;

    /// <summary>Tail moves of the extended table, in ppm.</summary>
    public IReadOnlyList<int> TailMovesPpm { get; init; } = [-660_000, -330_000, 500_000, 1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000];

    /// <summary>Add-on per net short option contract per strike and expiry, in ppm of the index (1%).</summary>
    public int ShortOptionMinimumPpm { get; init; } = 10_000;

    /// <summary>Gross notional per underlying (Σ |contracts| × index) above which the size add-on applies, in USDC micros.</summary>
    public long ConcentrationThresholdMicros { get; init; } = 10_000_000L * 1_000_000;

    /// <summary>Size add-on in ppm of the gross notional above the threshold (1%).</summary>
    public int ConcentrationPpm { get; init; } = 10_000;

    /// <summary>Maintenance as a fraction of initial, in ppm (80%).</summary>
    public int MaintenancePpm { get; init; } = 800_000;

    public static PortfolioMarginParameters Default { get; } = new();

    /// <summary>The scenarios in their fixed order: each core move low to high with down/unchanged/up, then the tails.</summary>
    public Scenario[] BuildScenarios()
    {
        var scenarios = new List<Scenario>();
        for (int step = -PriceStepsPerSide; step <= PriceStepsPerSide; step++)
        {
            int move = (int)((long)PriceRangePpm * step / PriceStepsPerSide);
            scenarios.Add(new Scenario(move, VolShock.Down, 1.0));
            scenarios.Add(new Scenario(move, VolShock.Unchanged, 1.0));
            scenarios.Add(new Scenario(move, VolShock.Up, 1.0));
        }

        foreach (int tail in TailMovesPpm)
        {
            scenarios.Add(new Scenario(tail, VolShock.Up, PriceRangePpm / (double)Math.Abs(tail)));
        }

        return [.. scenarios];
    }

    /// <summary>The shocked volatility of one scenario for an option <paramref name="days"/> from expiry.</summary>
    public double ShockedVolatility(double volatility, double days, VolShock shock)
    {
        if (shock == VolShock.Unchanged)
        {
            return volatility;
        }

        double d = days > 1.0 ? days : 1.0;
        double power = d < 30.0 ? ShortTermVegaPower : LongTermVegaPower;
        double scale = Numerics.DeterministicMath.Exp(power * Numerics.DeterministicMath.Ln(30.0 / d));
        if (shock == VolShock.Up)
        {
            double up = volatility * (1.0 + (VolUpFraction * scale));
            return up > MinimumVolUp ? up : MinimumVolUp;
        }

        double down = volatility * (1.0 - (VolDownFraction * scale));
        return down > 0.0 ? down : 0.0;
    }

    public bool TryValidate(out string? error)
    {
        error = PriceRangePpm is <= 0 or >= 1_000_000 ? "The price range must be between 0 and 100%."
            : PriceStepsPerSide is < 1 or > 16 ? "Between 1 and 16 steps per side."
            : !(VolUpFraction >= 0 && VolUpFraction <= 10 && VolDownFraction >= 0 && VolDownFraction < 1 && MinimumVolUp >= 0 && MinimumVolUp <= 10) ? "Volatility shocks out of range."
            : !(ShortTermVegaPower >= 0 && ShortTermVegaPower <= 2 && LongTermVegaPower >= 0 && LongTermVegaPower <= 2) ? "Vega powers must be between 0 and 2."
            : TailMovesPpm.Count > 16 || TailMovesPpm.Any(m => m <= -1_000_000 || Math.Abs(m) <= PriceRangePpm || m > 20_000_000) ? "Tail moves must lie beyond the core range, above −100% and at most +2,000%."
            : ShortOptionMinimumPpm is < 0 or > 1_000_000 || ConcentrationPpm is < 0 or > 1_000_000 || ConcentrationThresholdMicros < 0 ? "Add-on rates must be between 0 and 100%."
            : MaintenancePpm is <= 0 or > 1_000_000 ? "Maintenance must be a fraction of initial in (0, 100%]."
            : null;
        return error is null;
    }
}
