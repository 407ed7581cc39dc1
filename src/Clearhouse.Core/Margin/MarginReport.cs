using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Margin;

/// <summary>How an account's cross positions are margined.</summary>
public enum MarginMode : byte
{
    /// <summary>Per position: tiered rates for futures, Deribit's rule for options (the default).</summary>
    Standard = 0,

    /// <summary>Per underlying, by the worst loss over a grid of price and volatility scenarios, plus add-ons.</summary>
    Portfolio = 1,
}

/// <summary>One position's part in its account's margin.</summary>
/// <param name="InstrumentId">The instrument.</param>
/// <param name="Instrument">Its name.</param>
/// <param name="Size">Signed size.</param>
/// <param name="Mark">The mark it is valued at.</param>
/// <param name="Value">Size × mark (rounded down).</param>
/// <param name="UnrealizedPnl">Value − open cost.</param>
/// <param name="Initial">Standard margin: the position's own initial requirement (with its orders). Portfolio margin: the
/// position's loss in its underlying's binding scenario (negative when it hedges).</param>
/// <param name="Maintenance">As <paramref name="Initial"/>, for maintenance (portfolio: the binding scenario of positions alone).</param>
/// <param name="Isolated">The position is isolated; its figures are in <see cref="MarginReport.Isolated"/>, not the cross totals.</param>
public readonly record struct PositionMargin(int InstrumentId, string Instrument, Quantity Size, Price Mark, Money Value, Money UnrealizedPnl, Money Initial, Money Maintenance, bool Isolated);

/// <summary>Portfolio margin of one underlying in an account.</summary>
/// <param name="Underlying">The underlying's name.</param>
/// <param name="BindingScenario">Index of the worst scenario (with open orders), −1 when no scenario loses.</param>
/// <param name="Scenario">That scenario.</param>
/// <param name="WorstLoss">Loss in the binding scenario, orders counted on their worse side.</param>
/// <param name="ShortOptionAddOn">Minimum charged per net short option contract per strike.</param>
/// <param name="ConcentrationAddOn">Size add-on on gross notional above the threshold.</param>
/// <param name="Initial">WorstLoss + add-ons, rounded up.</param>
/// <param name="MaintenanceBindingScenario">Worst scenario of the positions alone.</param>
/// <param name="Maintenance">(positions' worst loss + their add-ons) × maintenance fraction, rounded up.</param>
public readonly record struct UnderlyingRisk(
    string Underlying,
    int BindingScenario,
    Scenario Scenario,
    Money WorstLoss,
    Money ShortOptionAddOn,
    Money ConcentrationAddOn,
    Money Initial,
    int MaintenanceBindingScenario,
    Money Maintenance);

/// <summary>An isolated position's own collateral and requirements.</summary>
/// <param name="InstrumentId">The instrument.</param>
/// <param name="Collateral">Its cash: transfers in, minus fills, fees and funding.</param>
/// <param name="Summary">Its balance, equity and requirements, as for an account.</param>
public readonly record struct IsolatedMargin(int InstrumentId, Money Collateral, MarginSummary Summary);

/// <summary>
/// Everything about an account's margin, for the API and the dashboard: the cross totals
/// (<see cref="Cross"/>, with available funds and margin ratio), each position's contribution,
/// for portfolio accounts the per-underlying scenario result and binding scenario, and each
/// isolated position on its own.
/// </summary>
public sealed record MarginReport(
    int AccountId,
    MarginMode Mode,
    MarginSummary Cross,
    IReadOnlyList<PositionMargin> Positions,
    IReadOnlyList<UnderlyingRisk> Portfolio,
    IReadOnlyList<IsolatedMargin> Isolated)
{
    public Money Equity => Cross.Equity;

    public Money Initial => Cross.Initial;

    public Money Maintenance => Cross.Maintenance;

    public Money Available => Cross.Available;

    public long MarginRatioPpm => Cross.MarginRatioPpm;
}
