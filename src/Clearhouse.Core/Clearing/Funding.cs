using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Clearing;

/// <summary>
/// Perpetual funding, after Hyperliquid's documented formula. Rates are in parts per billion (ppb).
/// <list type="bullet">
/// <item>Premium sample (every <c>PremiumSampleIntervalMicros</c>):
/// <c>P = [max(impact bid − index, 0) − max(index − impact ask, 0)] / index</c>, where the impact
/// prices are the average prices to sell / buy <c>ImpactNotional</c> against the book (a side
/// too thin for that contributes 0). Truncated toward zero.</item>
/// <item>Rate per 8 hours at each funding time: <c>F = avg(P) + clamp(interest − avg(P), −band, +band)</c>;
/// each funding interval pays <c>F × interval / 8 h</c>, capped at ±<c>FundingCapPerIntervalPpb</c>.</item>
/// <item>Each position pays <c>size × index × rate</c>: longs pay shorts when the rate is positive.
/// Payers' amounts round up, receivers' round down; the residue goes to the insurance fund, so
/// funding is exactly zero-sum in the ledger.</item>
/// </list>
/// Worked example (Hyperliquid's): index 10,000, impact bid 10,010, impact ask 10,020 → P = 0.001 →
/// F = 0.001 + clamp(0.0001 − 0.001, −0.0005, 0.0005) = 0.0005 per 8 h → hourly 0.0000625 →
/// a 10 BTC long pays 6.25 USDC.
/// </summary>
public static class Funding
{
    public const long PpbScale = 1_000_000_000;

    /// <summary>The premium of one sample, in ppb; impact prices of zero mean "side too thin".</summary>
    public static long Premium(Price index, Price impactBid, Price impactAsk)
    {
        long above = impactBid.IsPositive ? Math.Max(impactBid.Micros - index.Micros, 0) : 0;
        long below = impactAsk.IsPositive ? Math.Max(index.Micros - impactAsk.Micros, 0) : 0;
        return FixedMath.MulDiv(above - below, PpbScale, index.Micros, above >= below ? Rounding.Floor : Rounding.Ceiling);
    }

    /// <summary>The rate for one funding interval, in ppb, from the average premium.</summary>
    public static long IntervalRate(long averagePremiumPpb, long interest8hPpb, long band8hPpb, long intervalsPer8h, long capPpb)
    {
        long rate8h = averagePremiumPpb + Math.Clamp(interest8hPpb - averagePremiumPpb, -band8hPpb, band8hPpb);
        long rate = rate8h / intervalsPer8h; // toward zero
        return Math.Clamp(rate, -capPpb, capPpb);
    }

    /// <summary>
    /// Average fill price to trade <paramref name="notional"/> against <paramref name="levels"/> (best
    /// first), or zero when the levels cannot absorb it. Exact as a ratio — notional over quantity,
    /// the last level taken only in part — then rounded toward the mid of the book: bids down, asks up.
    /// </summary>
    public static Price ImpactPrice(ReadOnlySpan<BookLevel> levels, Money notional, Side takerSide)
    {
        long remaining = notional.Micros;
        Int128 fullUnits = 0;
        foreach (var level in levels)
        {
            long levelNotional = Notional.Of(level.Price, level.Quantity, Rounding.Floor).Micros;
            if (levelNotional >= remaining)
            {
                // average = N / (fullUnits/1e8 + remaining/price) = N·1e8·price / (fullUnits·price + remaining·1e8)
                Int128 numerator = (Int128)notional.Micros * Quantity.Scale * level.Price.Micros;
                Int128 denominator = (fullUnits * level.Price.Micros) + ((Int128)remaining * Quantity.Scale);
                var (q, r) = Int128.DivRem(numerator, denominator);
                return new Price((long)(takerSide == Side.Buy && r != 0 ? q + 1 : q));
            }

            fullUnits += level.Quantity.Units;
            remaining -= levelNotional;
        }

        return Price.Zero;
    }

    /// <summary>What a position pays (positive) or receives (negative) at <paramref name="ratePpb"/>, rounded against it.</summary>
    public static Money Payment(Quantity size, Price index, long ratePpb)
    {
        // Exact value in 1e-14 × 1e-9 units is size × index × rate; do it in 128 bits.
        Int128 exact = (Int128)size.Units * index.Micros * ratePpb;
        Int128 divisor = (Int128)Quantity.Scale * PpbScale;
        var (q, r) = Int128.DivRem(exact, divisor);

        // Division truncates toward zero, which already rounds a receiver's credit down; a payer's debit rounds up.
        return new Money((long)(r > 0 ? q + 1 : q));
    }
}
