using Clearhouse.Core.Accounts;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Margin;

/// <summary>
/// Rates of the standard (per-position) option margin, in ppm of the underlying price. The
/// defaults are Deribit's: short initial = max(15% × U − OTM, 10% × U) + mark, short maintenance
/// = 7.5% × U + mark (puts: max(7.5% × U, 7.5% × mark) + mark, and initial never below maintenance).
/// </summary>
/// <param name="InitialPpm">The 15% of the underlying a short option starts from, before the out-of-the-money discount.</param>
/// <param name="MinimumInitialPpm">The floor the discount cannot go below (10%).</param>
/// <param name="MaintenancePpm">Maintenance per short contract (7.5%).</param>
public sealed record OptionMarginRates(int InitialPpm = 150_000, int MinimumInitialPpm = 100_000, int MaintenancePpm = 75_000)
{
    public static OptionMarginRates Deribit { get; } = new();

    public bool IsValid => MaintenancePpm > 0 && MinimumInitialPpm >= MaintenancePpm && InitialPpm >= MinimumInitialPpm && InitialPpm <= 1_000_000;
}

/// <summary>
/// Standard option margin, per position, in fixed point. Long options are paid in full: their
/// value at the mark enters equity and, for the same amount, the initial requirement, so it
/// neither funds other positions nor can be withdrawn; they carry no maintenance requirement.
/// Short options follow Deribit's rule (<see cref="OptionMarginRates"/>), valued on the
/// underlying's index price U:
/// <list type="bullet">
/// <item>call: initial = max(15% U − max(K − U, 0), 10% U) + mark; maintenance = 7.5% U + mark;</item>
/// <item>put: maintenance = max(7.5% U, 7.5% mark) + mark; initial = max(max(15% U − max(U − K, 0), 10% U) + mark, maintenance).</item>
/// </list>
/// Open orders count on their worse side, as for futures (<see cref="StandardMargin"/>): the larger
/// requirement of <c>size + open buys</c> and <c>size − open sells</c>, plus the premium that
/// resting orders priced through the mark would give away. Per-contract figures round up to the
/// micro, and so does the product with the size.
/// </summary>
public static class OptionMargin
{
    /// <summary>Initial margin per short contract (USDC micros, rounded up).</summary>
    public static Price ShortInitialPerContract(OptionRight right, Price strike, Price underlying, Price mark, OptionMarginRates rates)
    {
        long u = underlying.Micros;
        long outOfTheMoney = right == OptionRight.Call ? Math.Max(strike.Micros - u, 0) : Math.Max(u - strike.Micros, 0);
        long discounted = FixedMath.MulDiv(u, rates.InitialPpm, 1_000_000, Rounding.Ceiling) - outOfTheMoney;
        long floor = FixedMath.MulDiv(u, rates.MinimumInitialPpm, 1_000_000, Rounding.Ceiling);
        long initial = Math.Max(discounted, floor) + mark.Micros;
        if (right == OptionRight.Put)
        {
            initial = Math.Max(initial, ShortMaintenancePerContract(right, underlying, mark, rates).Micros);
        }

        return new Price(initial);
    }

    /// <summary>Maintenance margin per short contract (USDC micros, rounded up).</summary>
    public static Price ShortMaintenancePerContract(OptionRight right, Price underlying, Price mark, OptionMarginRates rates)
    {
        long onUnderlying = FixedMath.MulDiv(underlying.Micros, rates.MaintenancePpm, 1_000_000, Rounding.Ceiling);
        if (right == OptionRight.Put)
        {
            onUnderlying = Math.Max(onUnderlying, FixedMath.MulDiv(mark.Micros, rates.MaintenancePpm, 1_000_000, Rounding.Ceiling));
        }

        return new Price(onUnderlying + mark.Micros);
    }

    /// <summary>Initial requirement of a hypothetical position of <paramref name="size"/> (no orders).</summary>
    public static Money InitialOfSize(Quantity size, OptionRight right, Price strike, Price underlying, Price mark, OptionMarginRates rates) =>
        size.IsNegative
            ? Notional.Of(ShortInitialPerContract(right, strike, underlying, mark, rates), size.Abs(), Rounding.Ceiling)
            : Notional.Of(mark, size, Rounding.Floor);

    /// <summary>Initial requirement of a position and its open orders: the worse side, plus orders priced through the mark.</summary>
    public static Money Initial(in Position position, OptionRight right, Price strike, Price underlying, Price mark, OptionMarginRates rates)
    {
        var longSide = InitialOfSize(position.Size + position.OpenBuyQuantity, right, strike, underlying, mark, rates);
        var shortSide = InitialOfSize(position.Size - position.OpenSellQuantity, right, strike, underlying, mark, rates);
        return Money.Max(longSide, shortSide) + StandardMargin.AdverseOrderCost(position, mark);
    }

    /// <summary>Maintenance requirement of a position: zero for a long, the per-contract figure × size for a short.</summary>
    public static Money Maintenance(in Position position, OptionRight right, Price underlying, Price mark, OptionMarginRates rates) =>
        position.Size.IsNegative
            ? Notional.Of(ShortMaintenancePerContract(right, underlying, mark, rates), position.Size.Abs(), Rounding.Ceiling)
            : Money.Zero;
}
