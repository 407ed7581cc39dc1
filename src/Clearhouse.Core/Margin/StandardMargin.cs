using Clearhouse.Core.Accounts;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Margin;

/// <summary>An account's margin position, all in USDC micros.</summary>
/// <param name="Balance">Cash plus the cost basis of open positions: realized value only.</param>
/// <param name="Equity">Balance plus unrealized PnL at the mark (positions valued rounding down).</param>
/// <param name="UnrealizedPnl">Equity − Balance.</param>
/// <param name="Initial">Initial requirement of positions and open orders (worst side), rounded up.</param>
/// <param name="Maintenance">Maintenance requirement of positions, rounded up.</param>
public readonly record struct MarginSummary(Money Balance, Money Equity, Money UnrealizedPnl, Money Initial, Money Maintenance)
{
    /// <summary>What may be withdrawn or committed to new orders: <c>min(equity, balance) − initial</c>, never unrealized profit.</summary>
    public Money Available => Money.Min(Equity, Balance) - Initial;

    /// <summary>Maintenance over equity in ppm; <see cref="long.MaxValue"/> when equity is not positive and something is required.</summary>
    public long MarginRatioPpm => Equity.IsPositive
        ? FixedMath.MulDiv(Maintenance.Micros, 1_000_000, Equity.Micros, Rounding.Ceiling)
        : (Maintenance.IsZero ? 0 : long.MaxValue);
}

/// <summary>
/// Standard (tiered) margin for perpetuals and futures.
/// <para>
/// Initial requirement of one instrument = tiered initial margin on the notional of the worse
/// of two hypothetical positions, <c>size + open buys</c> and <c>size − open sells</c> (each side's
/// orders all filled), valued at the mark and rounded up; plus the immediate loss that resting
/// orders priced through the mark would realize if filled (buys above the mark, sells below).
/// Maintenance = tiered maintenance margin on the position's notional at the mark.
/// </para>
/// </summary>
public static class StandardMargin
{
    /// <summary>Value of a position at the mark, rounded down (against the account on both sides).</summary>
    public static Money PositionValue(Price mark, Quantity size) => Notional.Of(mark, size, Rounding.Floor);

    /// <summary>
    /// The initial requirement; with <paramref name="openInterestScalePpm"/> &gt; 0 (the soft
    /// open-interest cap, docs/guards.md) the rate of every tier is raised to
    /// <c>IMF + scale × (1 − IMF)</c>, dYdX's open-interest margin fraction.
    /// </summary>
    public static Money Initial(in Position position, Price mark, MarginTiers tiers, long openInterestScalePpm = 0)
    {
        var notional = Notional.Of(mark, WorstSize(position), Rounding.Ceiling);
        var tiered = tiers.Initial(notional);
        return tiered + OpenInterestExtra(notional, tiered, openInterestScalePpm) + AdverseOrderCost(position, mark);
    }

    /// <summary>
    /// What the soft open-interest cap adds to a future's initial requirement: <c>scale × (notional −
    /// tiered initial)</c>, rounded up. Applied per tier this is <c>Σ (IMF_i + s(1 − IMF_i)) n_i − Σ IMF_i n_i</c>,
    /// so the scaled requirement never exceeds the notional (IMF_eff ≤ 1). Portfolio margin adds the
    /// same figure as an add-on.
    /// </summary>
    public static Money OpenInterestAddOn(in Position position, Price mark, MarginTiers tiers, long openInterestScalePpm)
    {
        if (openInterestScalePpm <= 0)
        {
            return Money.Zero;
        }

        var notional = Notional.Of(mark, WorstSize(position), Rounding.Ceiling);
        return OpenInterestExtra(notional, tiers.Initial(notional), openInterestScalePpm);
    }

    private static Money OpenInterestExtra(Money notional, Money tiered, long scalePpm) =>
        scalePpm <= 0 ? Money.Zero : Money.Max(Money.Zero, notional - tiered).MultiplyPpm(scalePpm, Rounding.Ceiling);

    private static Quantity WorstSize(in Position position)
    {
        long worstLong = position.Size.Units + position.OpenBuyQuantity.Units;
        long worstShort = position.Size.Units - position.OpenSellQuantity.Units;
        return new Quantity(Math.Max(Math.Abs(worstLong), Math.Abs(worstShort)));
    }

    /// <summary>
    /// The loss that resting orders priced through the mark would lock in if filled: buys above the
    /// mark, sells below it. Added to the initial requirement of every kind of instrument.
    /// </summary>
    public static Money AdverseOrderCost(in Position position, Price mark)
    {
        var cost = Money.Zero;
        if (position.OpenBuyQuantity.IsPositive)
        {
            var atMark = Notional.Of(mark, position.OpenBuyQuantity, Rounding.Floor);
            cost += Money.Max(Money.Zero, position.OpenBuyNotional - atMark);
        }

        if (position.OpenSellQuantity.IsPositive)
        {
            var atMark = Notional.Of(mark, position.OpenSellQuantity, Rounding.Ceiling);
            cost += Money.Max(Money.Zero, atMark - position.OpenSellNotional);
        }

        return cost;
    }

    public static Money Maintenance(in Position position, Price mark, MarginTiers tiers) =>
        tiers.Maintenance(Notional.Of(mark, position.Size.Abs(), Rounding.Ceiling));

    /// <summary>Notional an open order adds to its side's aggregate: buys round up, sells down (both against the account).</summary>
    public static Money OrderNotional(Matching.Side side, Price price, Quantity remaining) =>
        Notional.Of(price, remaining, side == Matching.Side.Buy ? Rounding.Ceiling : Rounding.Floor);
}
