using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Liquidation;

/// <summary>A queued liquidation: an account's cross positions (<see cref="InstrumentId"/> 0) or one isolated position.</summary>
public readonly record struct LiquidationKey(int AccountId, int InstrumentId) : IComparable<LiquidationKey>
{
    public int CompareTo(LiquidationKey other) =>
        AccountId != other.AccountId ? AccountId.CompareTo(other.AccountId) : InstrumentId.CompareTo(other.InstrumentId);
}

/// <summary>One account in an instrument's auto-deleveraging queue and its key (higher is deleveraged first); account 0 is the insurance fund.</summary>
public readonly record struct AdlCandidate(int AccountId, double Key);

/// <summary>The rules a liquidation step follows, shared by the engine and the verifier (docs/liquidation.md).</summary>
public static class LiquidationRules
{
    /// <summary>
    /// The price at which closing the whole position would leave the scope's equity at exactly zero:
    /// long: mark − equity / size; short: mark + equity / |size|. Rounded in favour of the
    /// liquidated account (a long's up, a short's down), so that no fill at or beyond it takes the
    /// account below zero; never below one micro.
    /// </summary>
    public static Price BankruptcyPrice(Quantity size, Price mark, Money equity)
    {
        long units = Math.Abs(size.Units);
        if (units == 0)
        {
            return mark;
        }

        if (size.IsPositive)
        {
            long perContract = FixedMath.MulDiv(equity.Micros, Quantity.Scale, units, Rounding.Floor);
            return new Price(Math.Max(1, mark.Micros - perContract));
        }

        long perContractShort = FixedMath.MulDiv(equity.Micros, Quantity.Scale, units, Rounding.Floor);
        return new Price(Math.Max(1, mark.Micros + perContractShort));
    }

    /// <summary>
    /// The limit of the liquidation order: the bankruptcy price rounded to a tick on the safe side
    /// (sells up, buys down). Zero when no tick is on the safe side — a buy whose bankruptcy price
    /// is under one tick — and then the book is not used: a liquidation never fills worse than
    /// its bankruptcy price.
    /// </summary>
    public static Price BookLimit(Side side, Price bankruptcy, Price tick) =>
        bankruptcy.RoundToTick(tick, side == Side.Sell ? Rounding.Ceiling : Rounding.Floor);

    /// <summary>
    /// How much one step closes: the whole position when it is worth at most
    /// <paramref name="fullCloseNotionalMicros"/> at the mark, else <paramref name="stepPpm"/> of it
    /// rounded up to the lot (at least one lot, at most the position).
    /// </summary>
    public static Quantity StepSize(Quantity size, Price mark, Quantity lot, long fullCloseNotionalMicros, int stepPpm)
    {
        var notional = Notional.Of(mark, size, Rounding.Ceiling);
        if (notional.Micros <= fullCloseNotionalMicros)
        {
            return size;
        }

        long part = FixedMath.MulDiv(size.Units, stepPpm, 1_000_000, Rounding.Ceiling);
        long lots = FixedMath.Divide(part, lot.Units, Rounding.Ceiling);
        long units = Math.Max(lot.Units, lots * lot.Units);
        return new Quantity(Math.Min(units, size.Units));
    }

    /// <summary>
    /// The cross position a step closes first: the largest maintenance contribution (portfolio
    /// accounts: the largest loss in the maintenance binding scenario), ties to the lowest
    /// instrument id (the report lists positions by id); 0 when no cross position is left.
    /// </summary>
    public static int LargestContribution(IReadOnlyList<Margin.PositionMargin> positions)
    {
        int best = 0;
        var bestContribution = Money.Zero;
        foreach (var p in positions)
        {
            if (p.Isolated || p.Size.IsZero)
            {
                continue;
            }

            if (best == 0 || p.Maintenance > bestContribution)
            {
                best = p.InstrumentId;
                bestContribution = p.Maintenance;
            }
        }

        return best;
    }

    /// <summary>
    /// The auto-deleveraging key, Hyperliquid's: (mark / entry) × (notional / equity) for a long,
    /// (entry / mark) × (notional / equity) for a short: the most profitable and most levered first.
    /// Equity at most zero ranks first (infinite leverage). Binary64, deterministic.
    /// </summary>
    public static double AdlKey(Quantity size, Money openCost, Price mark, Money equity)
    {
        double units = Math.Abs((double)size.Units);
        double entry = Math.Abs((double)openCost.Micros) * Quantity.Scale / units; // micros per contract, like the mark
        double markMicros = mark.Micros;
        double pnlFactor = size.IsPositive ? markMicros / entry : entry / markMicros;
        double notional = markMicros * units / Quantity.Scale;
        return equity.Micros > 0 ? pnlFactor * (notional / equity.Micros) : double.MaxValue;
    }
}
