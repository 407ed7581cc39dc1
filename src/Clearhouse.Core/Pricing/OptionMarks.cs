using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

/// <summary>Why an option mark could not be computed. Stable codes: never renumber.</summary>
public enum OptionMarkFailure : byte
{
    None = 0,
    NotAnOption = 1,
    ForwardNotPositive = 2,
    NoLiveSlice = 3,
    NotRepresentable = 4,
}

/// <summary>
/// Option marks from a volatility surface: mark = Black-76(F, K, T, σ(K, T), r) converted to a
/// fixed-point <see cref="Price"/> (micro-USDC per contract) with an explicit rounding direction
/// (docs/pricing.md, "Marks"). The same inputs give the same micro-USDC on every machine.
/// </summary>
public static class OptionMarks
{
    /// <summary>
    /// The mark of a European option. T = (expiry − now)/365 days; σ from
    /// <see cref="VolSurface.Volatility"/>; the value D·(…) in USDC is scaled by 10⁶ (one IEEE
    /// multiplication) and rounded in the direction given, then checked to fit a long.
    /// Which direction: <see cref="Rounding.Ceiling"/> where the mark is a liability being charged
    /// (a short option's margin), <see cref="Rounding.Floor"/> where it is a value being credited (a
    /// long option's equity) — against the account either way, as DESIGN.md section 2 asks.
    /// </summary>
    public static bool TryMark(
        VolSurface surface,
        OptionRight right,
        Price strike,
        long expiryMicros,
        Price forward,
        long nowMicros,
        double rate,
        Rounding rounding,
        out Price mark,
        out OptionMarkFailure failure)
    {
        mark = Price.Zero;
        if (right is not (OptionRight.Call or OptionRight.Put) || !strike.IsPositive)
        {
            failure = OptionMarkFailure.NotAnOption;
            return false;
        }

        if (!forward.IsPositive)
        {
            failure = OptionMarkFailure.ForwardNotPositive;
            return false;
        }

        double k = ToDouble(strike);
        double f = ToDouble(forward);
        double years = YearFraction.Between(nowMicros, expiryMicros);
        double vol = surface.Volatility(k, f, expiryMicros, nowMicros);
        if (double.IsNaN(vol))
        {
            failure = OptionMarkFailure.NoLiveSlice;
            return false;
        }

        double value = Black76.Evaluate(Black76.SignOf(right), f, k, years, vol, rate).Price;
        if (!TryToPrice(value, rounding, out mark))
        {
            failure = OptionMarkFailure.NotRepresentable;
            return false;
        }

        failure = OptionMarkFailure.None;
        return true;
    }

    /// <summary>Throwing wrapper of <see cref="TryMark"/>.</summary>
    public static Price Mark(VolSurface surface, OptionRight right, Price strike, long expiryMicros, Price forward, long nowMicros, double rate, Rounding rounding)
    {
        if (!TryMark(surface, right, strike, expiryMicros, forward, nowMicros, rate, rounding, out var mark, out var failure))
        {
            ThrowMarkFailed(failure);
        }

        return mark;
    }

    /// <summary>A price in micro-USDC as a double: micros/10⁶, one correctly rounded division.</summary>
    public static double ToDouble(Price price) => price.Micros / (double)Price.Scale;

    /// <summary>
    /// USDC as a double → <see cref="Price"/>: value × 10⁶ (one IEEE multiplication), then
    /// <see cref="Math.Floor(double)"/> or <see cref="Math.Ceiling(double)"/> (exact operations).
    /// False for NaN, negative values and values beyond a long.
    /// </summary>
    public static bool TryToPrice(double value, Rounding rounding, out Price price)
    {
        double micros = value * Price.Scale;
        double rounded = rounding == Rounding.Ceiling ? Math.Ceiling(micros) : Math.Floor(micros);
        if (!(rounded >= 0.0 && rounded < 9.2233720368547758e18))
        {
            price = Price.Zero;
            return false;
        }

        price = new Price((long)rounded);
        return true;
    }

    private static void ThrowMarkFailed(OptionMarkFailure failure) =>
        throw new InvalidOperationException($"No option mark: {failure}.");
}
