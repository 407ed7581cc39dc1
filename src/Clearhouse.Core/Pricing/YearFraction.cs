namespace Clearhouse.Core.Pricing;

/// <summary>Time to expiry in years for pricing: actual time over a 365-day year (Deribit's convention).</summary>
public static class YearFraction
{
    public const double DaysPerYear = 365.0;

    /// <summary>Microseconds in a 365-day year.</summary>
    public const long MicrosPerYear = 365L * 24 * 60 * 60 * 1_000_000;

    /// <summary>
    /// (to − from) in years of 365 days, 0 when <paramref name="toMicros"/> is not after
    /// <paramref name="fromMicros"/>. One correctly rounded division of exact integers, so the same
    /// on every machine.
    /// </summary>
    public static double Between(long fromMicros, long toMicros) =>
        toMicros > fromMicros ? (double)checked(toMicros - fromMicros) / MicrosPerYear : 0.0;
}
