using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Oracles;

/// <summary>
/// Mark price of a perpetual or future, after Hyperliquid's: the median of
/// <list type="number">
/// <item><c>index + EMA(basis)</c>, where basis samples are <c>book mid − index</c> taken once a second
/// (each clamped to the band) and the EMA's weight is <c>BasisEmaAlphaPpm</c> per sample (≈150 s);</item>
/// <item><c>median(best bid, best ask, last trade)</c> (a missing one is replaced by component 1);</item>
/// <item>the index itself,</item>
/// </list>
/// clamped to <c>index ± MarkClampPpm</c>. One print far away moves neither the book mid that feeds
/// the EMA nor the median of bid, ask and last; and whatever happens, the clamp bounds the mark.
/// Rounded to the micro, toward the index.
/// </summary>
public static class MarkPrice
{
    public static Price Compute(Price index, long basisEmaMicros, bool hasBid, Price bid, bool hasAsk, Price ask, Price lastTrade, int clampPpm)
    {
        if (!index.IsPositive)
        {
            return Price.Zero;
        }

        long smoothed = index.Micros + basisEmaMicros;
        long b = hasBid ? bid.Micros : smoothed;
        long a = hasAsk ? ask.Micros : smoothed;
        long l = lastTrade.IsPositive ? lastTrade.Micros : smoothed;
        long book = Median(b, a, l);
        long mark = Median(smoothed, book, index.Micros);
        long band = FixedMath.MulDiv(index.Micros, clampPpm, 1_000_000, Rounding.Floor);
        return new Price(Math.Clamp(mark, index.Micros - band, index.Micros + band));
    }

    /// <summary>One basis sample: <c>mid − index</c> clamped to the band; false when either side of the book is empty.</summary>
    public static bool TrySampleBasis(Price index, bool hasBid, Price bid, bool hasAsk, Price ask, int clampPpm, out long basisMicros)
    {
        basisMicros = 0;
        if (!index.IsPositive || !hasBid || !hasAsk)
        {
            return false;
        }

        long mid = FixedMath.Divide(bid.Micros + ask.Micros, 2, Rounding.Floor);
        long band = FixedMath.MulDiv(index.Micros, clampPpm, 1_000_000, Rounding.Floor);
        basisMicros = Math.Clamp(mid - index.Micros, -band, band);
        return true;
    }

    /// <summary>EMA step <c>ema + α·(sample − ema)</c>, α in ppm, rounded toward zero.</summary>
    public static long UpdateEma(long ema, long sample, int alphaPpm)
    {
        long difference = sample - ema;
        return ema + FixedMath.MulDiv(difference, alphaPpm, 1_000_000, difference >= 0 ? Rounding.Floor : Rounding.Ceiling);
    }

    private static long Median(long a, long b, long c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
}
