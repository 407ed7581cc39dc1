using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Margin;

/// <summary>One row of a tiered margin table: rates that apply to the part of a position's notional up to <see cref="NotionalCap"/>.</summary>
/// <param name="NotionalCap">Upper bound of the tier (exclusive); <see cref="long.MaxValue"/> micros for the last tier.</param>
/// <param name="InitialPpm">Initial margin rate in parts per million of notional.</param>
/// <param name="MaintenancePpm">Maintenance margin rate in parts per million of notional.</param>
public readonly record struct MarginTier(Money NotionalCap, int InitialPpm, int MaintenancePpm);

/// <summary>
/// Tiered initial and maintenance margin by position notional, in Hyperliquid's continuous form:
/// within tier n the requirement is <c>notional × rate_n − deduction_n</c>, where
/// <c>deduction_n = deduction_(n−1) + lowerBound_n × (rate_n − rate_(n−1))</c>. The requirement is
/// therefore continuous and never decreases as a position grows, and a larger position pays the
/// higher rate only on the notional above each tier's bound. Rates never decrease from tier to tier.
/// Requirements round up (against the account); deductions round down.
/// </summary>
public sealed class MarginTiers
{
    private readonly MarginTier[] tiers;
    private readonly long[] initialDeductionMicros;
    private readonly long[] maintenanceDeductionMicros;

    private MarginTiers(MarginTier[] tiers)
    {
        this.tiers = tiers;
        initialDeductionMicros = new long[tiers.Length];
        maintenanceDeductionMicros = new long[tiers.Length];
        for (int i = 1; i < tiers.Length; i++)
        {
            long lower = tiers[i - 1].NotionalCap.Micros;
            initialDeductionMicros[i] = initialDeductionMicros[i - 1] + FixedMath.MulDiv(lower, tiers[i].InitialPpm - tiers[i - 1].InitialPpm, 1_000_000, Rounding.Floor);
            maintenanceDeductionMicros[i] = maintenanceDeductionMicros[i - 1] + FixedMath.MulDiv(lower, tiers[i].MaintenancePpm - tiers[i - 1].MaintenancePpm, 1_000_000, Rounding.Floor);
        }
    }

    public IReadOnlyList<MarginTier> Tiers => tiers;

    /// <summary>
    /// The default table for large-cap perpetuals and futures (BTC, ETH): maintenance is half the
    /// initial rate at each tier's maximum leverage, as on Hyperliquid.
    /// <list type="table">
    /// <item>up to 1,000,000 USDC: initial 2% (50×), maintenance 1%</item>
    /// <item>up to 5,000,000 USDC: initial 4% (25×), maintenance 2%</item>
    /// <item>up to 20,000,000 USDC: initial 10% (10×), maintenance 5%</item>
    /// <item>above: initial 20% (5×), maintenance 10%</item>
    /// </list>
    /// </summary>
    public static MarginTiers LargeCap { get; } = Create(
    [
        new MarginTier(Money.FromWhole(1_000_000), 20_000, 10_000),
        new MarginTier(Money.FromWhole(5_000_000), 40_000, 20_000),
        new MarginTier(Money.FromWhole(20_000_000), 100_000, 50_000),
        new MarginTier(new Money(long.MaxValue), 200_000, 100_000),
    ]);

    public static MarginTiers Create(IReadOnlyList<MarginTier> rows)
    {
        if (!TryValidate(rows, out string? error))
        {
            throw new ArgumentException(error, nameof(rows));
        }

        return new MarginTiers([.. rows]);
    }

    public static bool TryValidate(IReadOnlyList<MarginTier> rows, out string? error)
    {
        error = null;
        if (rows.Count is 0 or > 16)
        {
            error = "A margin table needs between 1 and 16 tiers.";
            return false;
        }

        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.MaintenancePpm <= 0 || row.InitialPpm < row.MaintenancePpm || row.InitialPpm > 1_000_000)
            {
                error = $"Tier {i + 1}: rates must satisfy 0 < maintenance ≤ initial ≤ 100%.";
                return false;
            }

            if (i > 0 && (row.NotionalCap <= rows[i - 1].NotionalCap || row.InitialPpm < rows[i - 1].InitialPpm || row.MaintenancePpm < rows[i - 1].MaintenancePpm))
            {
                error = $"Tier {i + 1}: caps must increase and rates must not decrease from one tier to the next.";
                return false;
            }
        }

        if (rows[^1].NotionalCap.Micros != long.MaxValue)
        {
            error = "The last tier must be unbounded (cap = long.MaxValue micros).";
            return false;
        }

        return true;
    }

    /// <summary>Initial margin for a position of absolute notional <paramref name="notional"/>, rounded up.</summary>
    public Money Initial(Money notional) => Requirement(notional, initial: true);

    /// <summary>Maintenance margin for a position of absolute notional <paramref name="notional"/>, rounded up.</summary>
    public Money Maintenance(Money notional) => Requirement(notional, initial: false);

    private Money Requirement(Money notional, bool initial)
    {
        long n = notional.Micros;
        if (n <= 0)
        {
            return Money.Zero;
        }

        int tier = 0;
        while (n >= tiers[tier].NotionalCap.Micros && tier < tiers.Length - 1)
        {
            tier++;
        }

        int ppm = initial ? tiers[tier].InitialPpm : tiers[tier].MaintenancePpm;
        long deduction = initial ? initialDeductionMicros[tier] : maintenanceDeductionMicros[tier];
        return new Money(FixedMath.MulDiv(n, ppm, 1_000_000, Rounding.Ceiling) - deduction);
    }
}
