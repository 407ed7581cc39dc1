using System.Globalization;
using System.Text.Json.Serialization;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Api;

// The shapes the API answers with. Every decimal is a JSON string written exactly from the
// fixed-point value (no floating point anywhere), so a client that parses it as a decimal gets
// the venue's number to the last digit. Built on the engine thread from its state, then
// serialized elsewhere: they hold copies, never references into the engine.

public sealed record InstrumentView(
    string Name,
    int Id,
    string Kind,
    string Underlying,
    string? Expiry,
    long? ExpiryMicros,
    string State,
    string TickSize,
    string MinAmount,
    int MakerFeePpm,
    int TakerFeePpm,
    string MakerFee,
    string TakerFee,
    string? IndexPrice,
    string? MarkPrice,
    string? BestBid,
    string? BestAsk,
    string OpenInterest,
    string? LastTradePrice,
    long TradeCount);

public sealed record BookView(string Instrument, long Sequence, string? MarkPrice, string? IndexPrice, string[][] Bids, string[][] Asks);

public sealed record PositionView(
    string Instrument,
    int InstrumentId,
    string Size,
    string AverageEntryPrice,
    string MarkPrice,
    string RealizedPnl,
    string UnrealizedPnl,
    bool Isolated);

public sealed record OpenOrderView(
    long OrderId,
    string Instrument,
    string Side,
    string Price,
    string Amount,
    string FilledAmount,
    string OpenAmount,
    bool PostOnly,
    bool ReduceOnly,
    string? ClientOrderId,
    long CreatedMicros,
    long UpdatedMicros);

public sealed record AccountView(
    int AccountId,
    long Sequence,
    string MarginMode,
    string Cash,
    string Balance,
    string Equity,
    string UnrealizedPnl,
    string InitialMargin,
    string MaintenanceMargin,
    string AvailableMargin,
    PositionView[] Positions,
    OpenOrderView[] OpenOrders);

public sealed record TradeView(long TradeId, string Instrument, string Side, string Price, string Amount, string Fee, int MakerAccountId, long MakerOrderId);

/// <summary>The outcome of a place or amend: the order's final state after this one command.</summary>
public sealed record OrderView(
    long Sequence,
    long TimestampMicros,
    long OrderId,
    int AccountId,
    string Instrument,
    string Side,
    string Price,
    string Amount,
    string FilledAmount,
    string OpenAmount,
    string State,
    string? CancelReason,
    TradeView[] Trades)
{
    /// <summary>
    /// Collateral this command moved between the account's cross balance and the order's isolated
    /// position: positive a top-up into it (an order that needs more than the position holds),
    /// negative collateral handed back when the position closed. Absent when nothing moved.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? IsolatedTransfer { get; init; }

    /// <summary>Loss of a closed isolated position beyond its collateral, covered by the insurance fund. Absent when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? IsolatedDeficitCovered { get; init; }

    /// <summary>
    /// Liquidation steps that ran during this command — because its fills put an account (this one
    /// or a maker) below maintenance, or because the liquidation queue had work, which every
    /// command advances. Absent when none.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LiquidationNoticeView[]? Liquidations { get; init; }
}

/// <summary>A liquidation step that ran during a command, with the path of its proof.</summary>
public sealed record LiquidationNoticeView(int AccountId, string Instrument, string Side, string Step, string BankruptcyPrice, string Proof);

public sealed record CancelView(long Sequence, long TimestampMicros, int AccountId, long[] CancelledOrderIds, string CancelledAmount);

public sealed record AccountCreatedView(long Sequence, int AccountId);

public sealed record TransferView(long Sequence, long TimestampMicros, int AccountId, string Amount);

public sealed record MarginModeView(long Sequence, long TimestampMicros, int AccountId, string Mode);

public sealed record IsolatedSetView(long Sequence, long TimestampMicros, int AccountId, string Instrument, bool Isolated);

/// <summary>A move of collateral between the cross balance and an isolated position: positive into the position.</summary>
public sealed record IsolatedTransferView(long Sequence, long TimestampMicros, int AccountId, string Instrument, string Amount);

/// <summary>
/// Balance, equity and requirements of the cross account or of one isolated position.
/// <c>MarginRatio</c> is maintenance ÷ equity (liquidation comes at 1); null when equity is not
/// positive while something is required.
/// </summary>
public sealed record MarginFiguresView(
    string Balance,
    string Equity,
    string UnrealizedPnl,
    string InitialMargin,
    string MaintenanceMargin,
    string AvailableMargin,
    string? MarginRatio);

/// <summary>
/// One position's part in the margin: in standard mode its own requirements; in portfolio mode its
/// loss in its underlying's binding scenario (negative when it hedges); isolated positions carry
/// their own figures (see <see cref="MarginReportView.Isolated"/>).
/// </summary>
public sealed record PositionMarginView(
    string Instrument,
    int InstrumentId,
    string Size,
    string MarkPrice,
    string Value,
    string UnrealizedPnl,
    string InitialMargin,
    string MaintenanceMargin,
    bool Isolated);

/// <summary>
/// One portfolio-margin stress scenario: <c>Index</c> in <c>GET /api/margin/scenarios</c>, the
/// underlying's relative <c>Move</c> (a decimal fraction, "-0.12" is −12%), the volatility shock
/// (<c>down</c>, <c>unchanged</c>, <c>up</c>) and the <c>Weight</c> its P&amp;L counts with
/// (1 on the core grid, less for the dampened tail moves).
/// </summary>
public sealed record ScenarioView(int Index, string Move, string VolShock, double Weight, string Description);

/// <summary>Portfolio margin of one underlying: the binding (worst) scenario with orders, the add-ons, and the same for maintenance (positions alone).</summary>
public sealed record UnderlyingRiskView(
    string Underlying,
    ScenarioView? BindingScenario,
    string WorstLoss,
    string ShortOptionAddOn,
    string ConcentrationAddOn,
    string InitialMargin,
    ScenarioView? MaintenanceBindingScenario,
    string MaintenanceMargin);

/// <summary>An isolated position: the collateral it holds and its own figures.</summary>
public sealed record IsolatedPositionView(string Instrument, int InstrumentId, string Collateral, MarginFiguresView Margin);

/// <summary>The margin report of an account (<c>GET /api/accounts/{id}/margin</c>).</summary>
public sealed record MarginReportView(
    int AccountId,
    long Sequence,
    string Mode,
    MarginFiguresView Cross,
    PositionMarginView[] Positions,
    UnderlyingRiskView[] Portfolio,
    IsolatedPositionView[] Isolated);

/// <summary>
/// The venue's counters. <c>LastSequence</c> is the engine's last accepted command,
/// <c>LastStampedSequence</c> the last stamped (accepted or rejected), <c>LastDurableSequence</c>
/// the last on disk; <c>LastBlockHeight</c>, <c>LastBlockHash</c> and <c>StateRoot</c> describe the
/// latest published block; <c>Recovery</c> is what this process recovered at start.
/// </summary>
public sealed record StatusView(
    long LastSequence,
    long LastTimestampMicros,
    long LastStampedSequence,
    long AppliedCommands,
    long RejectedCommands,
    int Accounts,
    int Instruments,
    int QueueLength,
    bool Demo,
    bool Journal,
    long LastDurableSequence,
    int AwaitingDurability,
    long LastBlockHeight,
    string? LastBlockHash,
    string? StateRoot,
    long BlocksSealed,
    double AverageSealMicros,
    Durability.SnapshotInfo? LastSnapshot,
    Durability.StartupRecovery Recovery);

/// <summary>
/// One fill of a liquidation step: <c>book</c> (the liquidation order against a resting order;
/// <c>tradeId</c> set), <c>takeover</c> (the insurance fund, account 0, at the bankruptcy price)
/// or <c>adl</c> (an opposite position closed at the bankruptcy price).
/// </summary>
public sealed record LiquidationFillView(string Kind, string Price, string Amount, int CounterpartyAccountId, long? TradeId);

/// <summary>
/// One liquidation step (<c>GET /api/liquidations</c>): when and whom, the position and the step
/// size the rules chose, the mark and the bankruptcy price, the equity and maintenance that made it
/// due, then what happened — closed through the book, taken over by the insurance fund,
/// auto-deleveraged (<c>unfilled</c> is what none of them closed), the fee, a deficit the fund
/// covered, whether the liquidation ended — with the fills and the orders cancelled first. <c>Proof</c>
/// is the path of the proof document.
/// </summary>
public sealed record LiquidationStepView(
    long Sequence,
    int Index,
    long TimestampMicros,
    int AccountId,
    string Scope,
    string Instrument,
    int InstrumentId,
    string Side,
    string Step,
    string MarkPrice,
    string BankruptcyPrice,
    string Equity,
    string MaintenanceMargin,
    string FilledThroughBook,
    string TakenOver,
    string Deleveraged,
    string Unfilled,
    string Fee,
    string DeficitCovered,
    bool Ended,
    long[] CancelledOrderIds,
    LiquidationFillView[] Fills,
    string Proof);

/// <summary>The newest liquidation steps kept (<c>kept</c> of at most <c>capacity</c>), newest first.</summary>
public sealed record LiquidationPageView(int Kept, int Capacity, LiquidationStepView[] Steps);

/// <summary>
/// An account's place in the auto-deleveraging queue of one instrument: <c>rank</c> 1 is closed
/// first when an account on the other side goes bankrupt, of <c>of</c> positions on its side (the
/// insurance fund's last); <c>key</c> is the ranking key (mark/entry × notional/equity, for a short
/// entry/mark × notional/equity). Rank 0 (and side null) when the account holds no position there.
/// </summary>
public sealed record AdlRankView(int AccountId, string Instrument, long Sequence, string? Side, string Size, int Rank, int Of, double Key);

/// <summary>A position the insurance fund took over from liquidations.</summary>
public sealed record InsurancePositionView(string Instrument, int InstrumentId, string Size, string AverageEntryPrice, string MarkPrice, string Value, string UnrealizedPnl);

/// <summary>
/// The insurance fund (<c>GET /api/insurance</c>): its cash, its takeover positions at their marks,
/// equity = cash + their value, the floor its equity may not go below through a takeover, and the
/// most notional it takes over per instrument.
/// </summary>
public sealed record InsuranceView(
    long Sequence,
    string Cash,
    string Equity,
    string UnrealizedPnl,
    string Floor,
    string MaxNotionalPerInstrument,
    InsurancePositionView[] Positions);

public sealed record InsuranceDepositView(long Sequence, long TimestampMicros, string Amount);

/// <summary>A block header with every hash in lowercase hex; <c>Header</c> is its canonical encoding, whose SHA-256 is <c>Hash</c>.</summary>
public sealed record BlockView(
    long Height,
    string Hash,
    string PreviousHash,
    long FirstSequence,
    long LastSequence,
    int CommandCount,
    string CommandsRoot,
    string StateRoot,
    long TimestampMicros,
    string Header)
{
    public static BlockView From(Core.Merkle.BlockHeader header) => new(
        header.Height,
        Convert.ToHexStringLower(header.Hash()),
        Convert.ToHexStringLower(header.PreviousHash),
        header.FirstSequence,
        header.LastSequence,
        header.CommandCount,
        Convert.ToHexStringLower(header.CommandsRoot),
        Convert.ToHexStringLower(header.StateRoot),
        header.TimestampMicros,
        Convert.ToHexStringLower(header.Encode()));
}

internal static class Views
{
    public static string Text(Price p) => p.ToString();

    public static string Text(Quantity q) => q.ToString();

    public static string Text(Money m) => m.ToString();

    public static string? TextOrNull(Price p) => p.IsPositive ? p.ToString() : null;

    public static string Word(Side side) => side == Side.Buy ? "buy" : "sell";

    public static string Word(InstrumentKind kind) => kind switch
    {
        InstrumentKind.Perpetual => "perpetual",
        InstrumentKind.Future => "future",
        _ => "option",
    };

    public static string Word(MarginMode mode) => mode == MarginMode.Portfolio ? "portfolio" : "standard";

    public static string Word(VolShock shock) => shock switch
    {
        VolShock.Down => "down",
        VolShock.Up => "up",
        _ => "unchanged",
    };

    /// <summary>A ppm rate as a decimal fraction, e.g. 500 → "0.0005".</summary>
    public static string Rate(long ppm) => (ppm / 1_000_000m).ToString(CultureInfo.InvariantCulture);

    public static InstrumentView Instrument(Instrument instrument)
    {
        var spec = instrument.Spec;
        var book = instrument.Book;
        return new InstrumentView(
            instrument.Name,
            instrument.Id,
            Word(instrument.Kind),
            instrument.Underlying.Name,
            spec.Terms.ExpiryDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            spec.Terms.ExpiryDate is null ? null : spec.Terms.ExpiryMicros,
            instrument.State.ToString().ToLowerInvariant(),
            Text(spec.TickSize),
            Text(spec.MinAmount),
            spec.MakerFeePpm,
            spec.TakerFeePpm,
            Rate(spec.MakerFeePpm),
            Rate(spec.TakerFeePpm),
            TextOrNull(instrument.Underlying.IndexPrice),
            TextOrNull(instrument.MarkPrice),
            book.TryGetBestBid(out var bid) ? Text(bid) : null,
            book.TryGetBestAsk(out var ask) ? Text(ask) : null,
            Text(instrument.LongOpenInterest),
            TextOrNull(instrument.LastTradePrice),
            instrument.TradeCount);
    }

    public static BookView Book(Engine engine, Instrument instrument, int depth)
    {
        Span<BookLevel> levels = depth <= 128 ? stackalloc BookLevel[depth] : new BookLevel[depth];
        int bids = instrument.Book.CopyLevels(Side.Buy, levels);
        var bidRows = Rows(levels[..bids]);
        int asks = instrument.Book.CopyLevels(Side.Sell, levels);
        var askRows = Rows(levels[..asks]);
        return new BookView(instrument.Name, engine.LastSequence, TextOrNull(instrument.MarkPrice), TextOrNull(instrument.Underlying.IndexPrice), bidRows, askRows);

        static string[][] Rows(ReadOnlySpan<BookLevel> levels)
        {
            var rows = new string[levels.Length][];
            for (int i = 0; i < levels.Length; i++)
            {
                rows[i] = [Text(levels[i].Price), Text(levels[i].Quantity)];
            }

            return rows;
        }
    }

    public static AccountView? Account(Engine engine, int accountId)
    {
        if (!engine.TryGetAccount(accountId, out var account))
        {
            return null;
        }

        MarginSummary margin = engine.GetMarginSummary(accountId);
        var positions = new List<PositionView>();
        var orders = new List<OpenOrderView>();
        foreach (int instrumentId in account.ActiveInstruments)
        {
            if (!engine.TryGetInstrument(instrumentId, out var instrument))
            {
                continue;
            }

            var position = account.GetPosition(instrumentId);
            var mark = instrument.MarkPrice;
            if (!position.Size.IsZero || !position.OpenCost.IsZero || !position.RealizedPnl.IsZero)
            {
                var unrealized = StandardMargin.PositionValue(mark, position.Size) - position.OpenCost;
                positions.Add(new PositionView(instrument.Name, instrument.Id, Text(position.Size), Text(position.AverageEntryPrice), Text(mark), Text(position.RealizedPnl), Text(unrealized), position.Isolated));
            }
        }

        foreach (var (instrumentId, order) in engine.GetOpenOrders(accountId))
        {
            orders.Add(new OpenOrderView(
                order.OrderId,
                engine.Instruments[instrumentId - 1].Name,
                Word(order.Side),
                Text(order.Price),
                Text(order.Amount),
                Text(order.Filled),
                Text(order.Remaining),
                (order.Flags & OrderFlags.PostOnly) != 0,
                order.IsReduceOnly,
                order.ClientOrderId,
                order.CreatedMicros,
                order.UpdatedMicros));
        }

        orders.Sort((a, b) => a.OrderId.CompareTo(b.OrderId));
        return new AccountView(
            accountId,
            engine.LastSequence,
            Word(account.MarginMode),
            Text(account.Cash),
            Text(margin.Balance),
            Text(margin.Equity),
            Text(margin.UnrealizedPnl),
            Text(margin.Initial),
            Text(margin.Maintenance),
            Text(margin.Available),
            [.. positions],
            [.. orders]);
    }

    public static MarginReportView? MarginReport(Engine engine, int accountId)
    {
        if (engine.GetMarginReport(accountId) is not { } report)
        {
            return null;
        }

        var scenarios = engine.MarginScenarios;
        var positions = new PositionMarginView[report.Positions.Count];
        for (int i = 0; i < positions.Length; i++)
        {
            var p = report.Positions[i];
            positions[i] = new PositionMarginView(p.Instrument, p.InstrumentId, Text(p.Size), Text(p.Mark), Text(p.Value), Text(p.UnrealizedPnl), Text(p.Initial), Text(p.Maintenance), p.Isolated);
        }

        var portfolio = new UnderlyingRiskView[report.Portfolio.Count];
        for (int i = 0; i < portfolio.Length; i++)
        {
            var u = report.Portfolio[i];
            portfolio[i] = new UnderlyingRiskView(
                u.Underlying,
                ScenarioOrNull(scenarios, u.BindingScenario),
                Text(u.WorstLoss),
                Text(u.ShortOptionAddOn),
                Text(u.ConcentrationAddOn),
                Text(u.Initial),
                ScenarioOrNull(scenarios, u.MaintenanceBindingScenario),
                Text(u.Maintenance));
        }

        var isolated = new IsolatedPositionView[report.Isolated.Count];
        for (int i = 0; i < isolated.Length; i++)
        {
            var position = report.Isolated[i];
            string name = engine.TryGetInstrument(position.InstrumentId, out var instrument) ? instrument.Name : position.InstrumentId.ToString(CultureInfo.InvariantCulture);
            isolated[i] = new IsolatedPositionView(name, position.InstrumentId, Text(position.Collateral), Figures(position.Summary));
        }

        return new MarginReportView(report.AccountId, engine.LastSequence, Word(report.Mode), Figures(report.Cross), positions, portfolio, isolated);
    }

    public static MarginFiguresView Figures(MarginSummary summary) => new(
        Text(summary.Balance),
        Text(summary.Equity),
        Text(summary.UnrealizedPnl),
        Text(summary.Initial),
        Text(summary.Maintenance),
        Text(summary.Available),
        summary.MarginRatioPpm == long.MaxValue ? null : Rate(summary.MarginRatioPpm));

    /// <summary>Every portfolio-margin scenario, in the engine's fixed order.</summary>
    public static ScenarioView[] Scenarios(Engine engine)
    {
        var scenarios = engine.MarginScenarios;
        var views = new ScenarioView[scenarios.Length];
        for (int i = 0; i < views.Length; i++)
        {
            views[i] = Scenario(i, scenarios[i]);
        }

        return views;
    }

    /// <summary>A scenario in words, e.g. "-12%, volatility down" or "+200%, volatility up, P&amp;L weighted 0.08".</summary>
    public static ScenarioView Scenario(int index, Scenario scenario)
    {
        string percent = (scenario.MovePpm / 10_000m).ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture) + "%";
        string volatility = scenario.Shock switch
        {
            VolShock.Down => "volatility down",
            VolShock.Up => "volatility up",
            _ => "volatility unchanged",
        };
        string description = scenario.Weight == 1.0
            ? $"{percent}, {volatility}"
            : $"{percent}, {volatility}, P&L weighted {scenario.Weight.ToString("0.####", CultureInfo.InvariantCulture)}";
        return new ScenarioView(index, Rate(scenario.MovePpm), Word(scenario.Shock), scenario.Weight, description);
    }

    private static ScenarioView? ScenarioOrNull(ReadOnlySpan<Scenario> scenarios, int index) =>
        index >= 0 && index < scenarios.Length ? Scenario(index, scenarios[index]) : null;
}
