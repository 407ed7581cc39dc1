using Clearhouse.Core.Accounts;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Margin;

/// <summary>
/// Computes an account's margin: its cross positions under standard or portfolio margin, and each
/// isolated position on its own (docs/margin.md). One instance per engine; it keeps scratch buffers
/// so that a computation allocates nothing (except a report). Work is proportional to the
/// account's positions: option scenario rows are precomputed per instrument at each re-mark
/// (<see cref="OptionRiskGrid"/>), so portfolio margin is a sum over positions and a minimum over
/// scenarios. Scenario sums are binary64 in a fixed order (the account's instruments by id), which
/// is deterministic; each underlying's requirement is rounded up to the micro.
/// </summary>
internal sealed class AccountMargin
{
    private const double UnitsPerContract = Quantity.Scale;

    private readonly IReadOnlyList<Instrument> instruments;
    private readonly IReadOnlyList<Underlying> underlyings;
    private readonly OptionMarginRates optionRates;
    private readonly PortfolioMarginParameters portfolio;
    private readonly Scenario[] scenarios;
    private readonly double[] futureRow;
    private readonly double[] linearMoves;
    private double[] worst = [];
    private double[] held = [];
    private long[] grossWorstUnits = [];
    private long[] grossHeldUnits = [];
    private bool[] underlyingTouched = [];
    private readonly List<int> touchedUnderlyings = [];
    private long[] groupWorstUnits = [];
    private long[] groupHeldUnits = [];
    private bool[] groupTouched = [];
    private readonly List<int> touchedGroups = [];
    private Price[]? markCache;

    public AccountMargin(IReadOnlyList<Instrument> instruments, IReadOnlyList<Underlying> underlyings, OptionMarginRates optionRates, PortfolioMarginParameters portfolio)
    {
        this.instruments = instruments;
        this.underlyings = underlyings;
        this.optionRates = optionRates;
        this.portfolio = portfolio;
        scenarios = portfolio.BuildScenarios();
        futureRow = new double[scenarios.Length];

        // A future's scenario P&L per contract is mark × w × m. For a tail, w = range / |m|, so w × m is
        // ±range exactly; taken as the product of two rounded doubles it can come out one ulp above
        // the core's extreme move (+300%: 0.0533… × 3 × mark), which the round-up turned into a micro
        // more and a tail reported as binding for a linear position. So w × m is formed once, exactly.
        linearMoves = new double[scenarios.Length];
        for (int s = 0; s < scenarios.Length; s++)
        {
            int movePpm = scenarios[s].MovePpm;
            int weightedPpm = Math.Abs(movePpm) > portfolio.PriceRangePpm ? Math.Sign(movePpm) * portfolio.PriceRangePpm : movePpm;
            linearMoves[s] = weightedPpm / 1_000_000.0;
        }
    }

    public int ScenarioCount => scenarios.Length;

    public ReadOnlySpan<Scenario> Scenarios => scenarios;

    /// <summary>Reads marks from <paramref name="marks"/> (indexed by instrument id) instead of computing each one; null to stop.</summary>
    public void UseMarks(Price[]? marks) => markCache = marks;

    private Price MarkOf(Instrument instrument) => markCache is { } cache ? cache[instrument.Id] : instrument.MarkPrice;

    /// <summary>The cross figures of an account, with <paramref name="overrideId"/>'s position replaced by <paramref name="overridePosition"/> when not zero.</summary>
    public MarginSummary Cross(Account account, int overrideId, in Position overridePosition) =>
        Compute(account, overrideId, overridePosition, null);

    /// <summary>The cross figures of an account as it stands.</summary>
    public MarginSummary Cross(Account account) => Compute(account, 0, default, null);

    /// <summary>Equity and maintenance only (initial left at zero): what a health check needs, for less work.</summary>
    public MarginSummary Health(Account account) => Compute(account, 0, default, null, maintenanceOnly: true);

    /// <summary>One cross position's standard initial requirement (with its orders): tiered for futures, Deribit's rule for options.</summary>
    public Money StandardInitial(Instrument instrument, in Position position)
    {
        var mark = MarkOf(instrument);
        if (instrument.Kind == InstrumentKind.Option)
        {
            var terms = instrument.Spec.Terms;
            return OptionMargin.Initial(position, terms.Right, terms.Strike, instrument.Underlying.IndexPrice, mark, optionRates);
        }

        return StandardMargin.Initial(position, mark, instrument.Spec.Tiers, OpenInterestScalePpm(instrument));
    }

    /// <summary>The soft open-interest cap's scale for a future or perpetual now (docs/guards.md); 0 without one.</summary>
    private static long OpenInterestScalePpm(Instrument instrument) =>
        instrument.Guard.Parameters.OpenInterestScalePpm(instrument.LongOpenInterest);

    /// <summary>An isolated position's own figures.</summary>
    public MarginSummary Isolated(Instrument instrument, in Position position)
    {
        var mark = MarkOf(instrument);
        var cash = position.IsolatedCash;
        var value = StandardMargin.PositionValue(mark, position.Size);
        var tiers = instrument.Spec.Tiers;
        return new MarginSummary(
            cash + position.OpenCost,
            cash + value,
            value - position.OpenCost,
            StandardMargin.Initial(position, mark, tiers, OpenInterestScalePpm(instrument)),
            StandardMargin.Maintenance(position, mark, tiers));
    }

    /// <summary>The full report of an account.</summary>
    public MarginReport Report(Account account)
    {
        var builder = new ReportBuilder();
        var cross = Compute(account, 0, default, builder);
        var isolated = new List<IsolatedMargin>();
        foreach (int id in account.ActiveInstruments)
        {
            var position = account.GetPosition(id);
            if (position.Isolated)
            {
                isolated.Add(new IsolatedMargin(id, position.IsolatedCash, Isolated(instruments[id - 1], position)));
            }
        }

        return new MarginReport(account.Id, account.MarginMode, cross, builder.Positions, builder.Portfolio, isolated);
    }

    private MarginSummary Compute(Account account, int overrideId, in Position overridePosition, ReportBuilder? report, bool maintenanceOnly = false)
    {
        bool portfolioMode = account.MarginMode == MarginMode.Portfolio;
        var cash = account.Cash;
        var balance = Money.Zero;
        var equity = Money.Zero;
        var initial = Money.Zero;
        var maintenance = Money.Zero;
        var active = account.ActiveInstruments;
        bool overridePending = overrideId != 0;
        int next = 0;
        while (true)
        {
            // The account's instruments in id order, the hypothetical one in its place, so that
            // scenario sums run in the same order whatever is being tried.
            int id;
            bool isOverride = false;
            if (overridePending && (next >= active.Length || active[next] >= overrideId))
            {
                id = overrideId;
                isOverride = true;
                overridePending = false;
                if (next < active.Length && active[next] == overrideId)
                {
                    next++;
                }
            }
            else if (next < active.Length)
            {
                id = active[next++];
            }
            else
            {
                break;
            }

            ref readonly var actual = ref account.Peek(id);
            ref readonly var position = ref isOverride ? ref overridePosition : ref actual;
            if (actual.Isolated)
            {
                // Its cash is its own: take it out of the cross balance, whatever the hypothetical holds.
                cash -= actual.IsolatedCash;
                if (report is not null)
                {
                    var instrumentIsolated = instruments[id - 1];
                    var markIsolated = MarkOf(instrumentIsolated);
                    var figures = Isolated(instrumentIsolated, actual);
                    report.Positions.Add(new PositionMargin(id, instrumentIsolated.Name, actual.Size, markIsolated, StandardMargin.PositionValue(markIsolated, actual.Size), figures.UnrealizedPnl, figures.Initial, figures.Maintenance, true));
                }

                continue;
            }

            var instrument = instruments[id - 1];
            var mark = MarkOf(instrument);
            var value = StandardMargin.PositionValue(mark, position.Size);
            equity += value;
            if (portfolioMode)
            {
                balance += position.OpenCost;
                if (!maintenanceOnly)
                {
                    initial += StandardMargin.AdverseOrderCost(position, mark);
                    if (instrument.Kind != InstrumentKind.Option)
                    {
                        // The soft open-interest cap, as an add-on to the scenario loss (docs/guards.md).
                        initial += StandardMargin.OpenInterestAddOn(position, mark, instrument.Spec.Tiers, OpenInterestScalePpm(instrument));
                    }
                }

                Accumulate(instrument, position, mark);
                report?.Positions.Add(new PositionMargin(id, instrument.Name, position.Size, mark, value, value - position.OpenCost, Money.Zero, Money.Zero, false));
                continue;
            }

            Money positionInitial;
            Money positionMaintenance;
            if (instrument.Kind == InstrumentKind.Option)
            {
                var terms = instrument.Spec.Terms;
                var index = instrument.Underlying.IndexPrice;
                balance += position.Size.IsPositive ? value : position.OpenCost;
                positionInitial = maintenanceOnly ? Money.Zero : OptionMargin.Initial(position, terms.Right, terms.Strike, index, mark, optionRates);
                positionMaintenance = OptionMargin.Maintenance(position, terms.Right, index, mark, optionRates);
            }
            else
            {
                var tiers = instrument.Spec.Tiers;
                balance += position.OpenCost;
                positionInitial = maintenanceOnly ? Money.Zero : StandardMargin.Initial(position, mark, tiers, OpenInterestScalePpm(instrument));
                positionMaintenance = StandardMargin.Maintenance(position, mark, tiers);
            }

            initial += positionInitial;
            maintenance += positionMaintenance;
            report?.Positions.Add(new PositionMargin(id, instrument.Name, position.Size, mark, value, value - position.OpenCost, positionInitial, positionMaintenance, false));
        }

        if (portfolioMode)
        {
            FinishPortfolio(ref initial, ref maintenance, report);
        }

        balance += cash;
        equity += cash;
        return new MarginSummary(balance, equity, equity - balance, initial, maintenance);
    }

    /// <summary>Adds one position (and its orders, worse side per scenario) to its underlying's scenario sums.</summary>
    private void Accumulate(Instrument instrument, in Position position, Price mark)
    {
        int u = instrument.Underlying.Id;
        int count = scenarios.Length;
        if (u >= underlyingTouched.Length)
        {
            int size = Math.Max(u + 1, underlyingTouched.Length * 2);
            Array.Resize(ref underlyingTouched, size);
            Array.Resize(ref grossWorstUnits, size);
            Array.Resize(ref grossHeldUnits, size);
            Array.Resize(ref worst, size * count);
            Array.Resize(ref held, size * count);
        }

        var worstRow = worst.AsSpan(u * count, count);
        var heldRow = held.AsSpan(u * count, count);
        if (!underlyingTouched[u])
        {
            underlyingTouched[u] = true;
            touchedUnderlyings.Add(u);
            worstRow.Clear();
            heldRow.Clear();
            grossWorstUnits[u] = 0;
            grossHeldUnits[u] = 0;
        }

        long size0 = position.Size.Units;
        long longSide = size0 + position.OpenBuyQuantity.Units;
        long shortSide = size0 - position.OpenSellQuantity.Units;
        grossWorstUnits[u] += Math.Max(Math.Abs(longSide), Math.Abs(shortSide));
        grossHeldUnits[u] += Math.Abs(size0);

        ReadOnlySpan<double> row;
        if (instrument.Kind == InstrumentKind.Option)
        {
            row = instrument.RiskGrid;
            int group = instrument.StrikeGroup;
            if (group >= 0)
            {
                AddToGroup(group, shortSide, size0);
            }
        }
        else
        {
            double markMicros = mark.Micros;
            for (int s = 0; s < count; s++)
            {
                futureRow[s] = markMicros * linearMoves[s];
            }

            row = futureRow;
        }

        if (row.Length != count)
        {
            // An option never marked has no grid yet; it cannot trade without a mark, and a
            // position only exists after a trade, so this is an invariant, not a case to margin.
            throw new InvalidOperationException($"Instrument {instrument.Name} has no scenario grid.");
        }

        ScenarioSums.AddWorstSide(worstRow, heldRow, row, longSide / UnitsPerContract, shortSide / UnitsPerContract, size0 / UnitsPerContract);
    }

    private void AddToGroup(int group, long worstUnits, long heldUnits)
    {
        if (group >= groupTouched.Length)
        {
            int size = Math.Max(group + 1, groupTouched.Length * 2);
            Array.Resize(ref groupTouched, size);
            Array.Resize(ref groupWorstUnits, size);
            Array.Resize(ref groupHeldUnits, size);
        }

        if (!groupTouched[group])
        {
            groupTouched[group] = true;
            touchedGroups.Add(group);
            groupWorstUnits[group] = 0;
            groupHeldUnits[group] = 0;
        }

        groupWorstUnits[group] += worstUnits;
        groupHeldUnits[group] += heldUnits;
    }

    private void FinishPortfolio(ref Money initial, ref Money maintenance, ReportBuilder? report)
    {
        int count = scenarios.Length;

        foreach (int u in touchedUnderlyings)
        {
            var index = UnderlyingIndex(u);
            long shortWorst = 0;
            long shortHeld = 0;
            foreach (int group in touchedGroups)
            {
                if (GroupUnderlying(group) != u)
                {
                    continue;
                }

                shortWorst += Math.Max(0, -groupWorstUnits[group]);
                shortHeld += Math.Max(0, -groupHeldUnits[group]);
            }

            var worstRow = worst.AsSpan(u * count, count);
            var heldRow = held.AsSpan(u * count, count);
            int binding = ScenarioSums.ArgMin(worstRow, out double worstPnl);
            int heldBinding = ScenarioSums.ArgMin(heldRow, out double heldPnl);
            var worstLoss = LossOf(worstPnl);
            var heldLoss = LossOf(heldPnl);
            var shortAddOnWorst = Notional.Of(index, new Quantity(shortWorst), Rounding.Ceiling).MultiplyPpm(portfolio.ShortOptionMinimumPpm, Rounding.Ceiling);
            var shortAddOnHeld = Notional.Of(index, new Quantity(shortHeld), Rounding.Ceiling).MultiplyPpm(portfolio.ShortOptionMinimumPpm, Rounding.Ceiling);
            var concentrationWorst = Concentration(index, grossWorstUnits[u]);
            var concentrationHeld = Concentration(index, grossHeldUnits[u]);
            var underlyingInitial = worstLoss + shortAddOnWorst + concentrationWorst;
            var underlyingMaintenance = (heldLoss + shortAddOnHeld + concentrationHeld).MultiplyPpm(portfolio.MaintenancePpm, Rounding.Ceiling);
            initial += underlyingInitial;
            maintenance += underlyingMaintenance;
            if (report is not null)
            {
                report.Bindings[u] = (binding, heldBinding);
                report.Portfolio.Add(new UnderlyingRisk(
                    UnderlyingName(u),
                    worstLoss.IsZero ? -1 : binding,
                    binding >= 0 && !worstLoss.IsZero ? scenarios[binding] : default,
                    worstLoss,
                    shortAddOnWorst,
                    concentrationWorst,
                    underlyingInitial,
                    heldLoss.IsZero ? -1 : heldBinding,
                    underlyingMaintenance));
            }

            underlyingTouched[u] = false;
        }

        foreach (int group in touchedGroups)
        {
            groupTouched[group] = false;
        }

        if (report is not null)
        {
            report.AttributeScenarioLosses(this);
        }

        touchedUnderlyings.Clear();
        touchedGroups.Clear();
    }

    private Money Concentration(Price index, long grossUnits)
    {
        var gross = Notional.Of(index, new Quantity(grossUnits), Rounding.Ceiling);
        long excess = gross.Micros - portfolio.ConcentrationThresholdMicros;
        return excess > 0 ? new Money(excess).MultiplyPpm(portfolio.ConcentrationPpm, Rounding.Ceiling) : Money.Zero;
    }

    /// <summary>A scenario P&amp;L sum (micro-USDC, binary64) as a requirement: its loss, rounded up; never negative.</summary>
    private static Money LossOf(double pnl)
    {
        if (double.IsNaN(pnl))
        {
            // Never a zero requirement for a figure the model could not compute.
            return new Money(4_000_000_000_000_000_000L);
        }

        if (!(pnl < 0.0))
        {
            return Money.Zero;
        }

        double loss = Math.Ceiling(-pnl);
        return loss < 4e18 ? new Money((long)loss) : new Money(4_000_000_000_000_000_000L);
    }

    private Price UnderlyingIndex(int underlyingId) => underlyings[underlyingId - 1].IndexPrice;

    private string UnderlyingName(int underlyingId) => underlyings[underlyingId - 1].Name;

    private int GroupUnderlying(int group) => groupUnderlyings[group];

    private int[] groupUnderlyings = [];

    /// <summary>Registers an option's strike group and the underlying it belongs to (at listing).</summary>
    public void RegisterGroup(int group, int underlyingId)
    {
        if (group >= groupUnderlyings.Length)
        {
            Array.Resize(ref groupUnderlyings, Math.Max(group + 1, groupUnderlyings.Length * 2));
        }

        groupUnderlyings[group] = underlyingId;
    }

    /// <summary>Collects the parts of a report while the figures are computed.</summary>
    private sealed class ReportBuilder
    {
        public List<PositionMargin> Positions { get; } = [];

        public List<UnderlyingRisk> Portfolio { get; } = [];

        public Dictionary<int, (int Initial, int Maintenance)> Bindings { get; } = [];

        /// <summary>Portfolio accounts: each position's loss in its underlying's binding scenarios.</summary>
        public void AttributeScenarioLosses(AccountMargin margin)
        {
            for (int i = 0; i < Positions.Count; i++)
            {
                var p = Positions[i];
                if (p.Isolated)
                {
                    continue;
                }

                var instrument = margin.instruments[p.InstrumentId - 1];
                if (!Bindings.TryGetValue(instrument.Underlying.Id, out var binding))
                {
                    continue;
                }

                Positions[i] = p with
                {
                    Initial = margin.LossInScenario(instrument, p.Size, p.Mark, binding.Initial),
                    Maintenance = margin.LossInScenario(instrument, p.Size, p.Mark, binding.Maintenance),
                };
            }
        }
    }

    /// <summary>A position's loss (negative: gain) in one scenario, rounded up.</summary>
    private Money LossInScenario(Instrument instrument, Quantity size, Price mark, int scenario)
    {
        if (scenario < 0)
        {
            return Money.Zero;
        }

        double perContract = instrument.Kind == InstrumentKind.Option
            ? instrument.RiskGrid[scenario]
            : mark.Micros * linearMoves[scenario];
        double loss = -(size.Units / UnitsPerContract) * perContract;
        return new Money((long)Math.Ceiling(Math.Clamp(loss, -4e18, 4e18)));
    }
}
