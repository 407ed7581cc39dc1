using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

public enum EventKind : byte
{
    CommandRejected = 1,
    AccountCreated = 2,
    Deposited = 3,
    Withdrawn = 4,
    InstrumentListed = 5,
    IndexPriceSet = 6,
    OrderAccepted = 7,
    TradeExecuted = 8,
    OrderCancelled = 9,
    OrderAmended = 10,
    ReporterRegistered = 11,
    OracleConfigured = 12,

    /// <summary>An accepted report that deviated from the other reporters and was left out of the index.</summary>
    OracleReportIgnored = 13,
    OracleStatusChanged = 14,
    FundingRateSet = 15,
    FundingPaid = 16,
    VolSurfaceSet = 17,

    /// <summary>An account switched between standard and portfolio margin.</summary>
    MarginModeSet = 18,

    /// <summary>A position was made isolated or cross.</summary>
    IsolatedMarginSet = 19,

    /// <summary>Collateral moved between the cross balance and an isolated position (positive: into the position).</summary>
    IsolatedMarginTransferred = 20,

    /// <summary>An isolated position closed with negative collateral; the insurance fund covered the deficit so that it does not reach the account's cross balance.</summary>
    IsolatedDeficitCovered = 21,

    /// <summary>An account (or isolated position) fell below maintenance and entered the liquidation queue.</summary>
    LiquidationQueued = 22,

    /// <summary>One liquidation step: the position chosen, the step size, the bankruptcy price; its proof is in <see cref="Engine.Liquidations"/>.</summary>
    LiquidationStep = 23,

    /// <summary>The insurance fund took over part of a liquidated position at the bankruptcy price.</summary>
    BackstopTakeover = 24,

    /// <summary>An opposite position was closed against a bankrupt one at the bankruptcy price.</summary>
    AutoDeleveraged = 25,

    /// <summary>The liquidation fee went from the liquidated account to the insurance fund.</summary>
    LiquidationFeeCharged = 26,

    /// <summary>The insurance fund covered what a liquidated account still owed after its positions were closed.</summary>
    InsuranceDeficitCovered = 27,

    /// <summary>The account (or isolated position) is back at or above maintenance, or has nothing left to close, and left the queue.</summary>
    LiquidationEnded = 28,

    /// <summary>Governance deposited into the insurance fund.</summary>
    InsuranceDeposited = 29,

    // 40–49: expiry and settlement (docs/settlement.md)

    /// <summary>A dated instrument reached its expiry: its orders were cancelled and it stopped trading (Halted) until it settles.</summary>
    InstrumentExpired = 40,

    /// <summary>A dated instrument settled at <see cref="EngineEvent.Price"/>; <see cref="EngineEvent.Quantity"/> is the open interest settled, <see cref="EngineEvent.Amount"/> the rounding residue paid to the insurance fund.</summary>
    InstrumentSettled = 41,

    /// <summary>One account's position cash-settled: size in <see cref="EngineEvent.Quantity"/>, value per contract in <see cref="EngineEvent.Price"/>, <see cref="EngineEvent.Amount"/> paid (negative: received).</summary>
    PositionSettled = 42,

    /// <summary>Governance set or cleared an underlying's listing schedule (<see cref="EngineEvent.UnderlyingId"/>).</summary>
    ListingScheduleSet = 43,

    // 50–59: market-integrity guards (docs/guards.md)

    /// <summary>The circuit breaker halted an instrument: <see cref="EngineEvent.Price"/> the mark, <see cref="EngineEvent.RatePpb"/> the move in ppm (not ppb), <see cref="EngineEvent.TimestampMicros"/> + the halt is when it resumes.</summary>
    TradingHalted = 50,

    /// <summary>A circuit-breaker halt ended; continuous trading resumed.</summary>
    TradingResumed = 51,

    /// <summary>Governance set an instrument's guard parameters.</summary>
    GuardsSet = 52,
}

/// <summary>Why an order left the book without filling.</summary>
public enum CancelReason : byte
{
    None = 0,
    UserRequested = 1,
    SelfTradePrevention = 2,

    /// <summary>The unfilled part of an immediate-or-cancel or market order.</summary>
    ImmediateOrCancelRemainder = 3,

    /// <summary>A reduce-only order shrank or went because the position it reduces did.</summary>
    ReduceOnlyTrimmed = 4,

    /// <summary>The account is being liquidated: its orders go first.</summary>
    Liquidation = 5,

    /// <summary>The instrument expired: every open order in it is cancelled.</summary>
    InstrumentExpired = 10,

    /// <summary>The order's own expiry time (<see cref="PlaceOrder.ExpiresAtMicros"/>) passed while it rested.</summary>
    OrderExpired = 20,
}

/// <summary>
/// One thing that happened. A flat struct so that producing events allocates nothing; which
/// fields mean something depends on <see cref="Kind"/>:
/// <list type="bullet">
/// <item><c>CommandRejected</c>: <see cref="Reason"/>, <see cref="AccountId"/>, <see cref="OrderId"/> where known.</item>
/// <item><c>AccountCreated</c>, <c>Deposited</c>, <c>Withdrawn</c>: <see cref="AccountId"/>, <see cref="Amount"/>.</item>
/// <item><c>InstrumentListed</c>: <see cref="InstrumentId"/> and its <see cref="UnderlyingId"/>.</item>
/// <item><c>IndexPriceSet</c>: <see cref="UnderlyingId"/> and the new index in <see cref="Price"/>.</item>
/// <item><c>OrderAccepted</c>, <c>OrderAmended</c>: the order's account, instrument, id, side, price, amount (<see cref="Quantity"/>) and <see cref="Remaining"/>.</item>
/// <item><c>TradeExecuted</c>: taker in <see cref="AccountId"/>/<see cref="OrderId"/>/<see cref="Remaining"/>/<see cref="Amount"/> (fee),
/// maker in the Maker fields; <see cref="Side"/> is the taker's side; <see cref="Price"/> and <see cref="Quantity"/> are the fill.</item>
/// <item><c>OrderCancelled</c>: the order, <see cref="Remaining"/> cancelled, <see cref="CancelReason"/>.</item>
/// <item><c>ReporterRegistered</c>, <c>OracleReportIgnored</c>: <see cref="UnderlyingId"/>, <see cref="ReporterId"/> (and the report's <see cref="Price"/>).</item>
/// <item><c>OracleConfigured</c>, <c>OracleStatusChanged</c>: <see cref="UnderlyingId"/>, <see cref="OracleStatus"/>.</item>
/// <item><c>VolSurfaceSet</c>: <see cref="UnderlyingId"/>, <see cref="ReporterId"/>.</item>
/// <item><c>FundingRateSet</c>: <see cref="InstrumentId"/>, <see cref="RatePpb"/>, index in <see cref="Price"/>.</item>
/// <item><c>FundingPaid</c>: <see cref="AccountId"/>, <see cref="InstrumentId"/>, position in <see cref="Quantity"/>,
/// index in <see cref="Price"/>, <see cref="RatePpb"/>, and <see cref="Amount"/> paid (negative: received).</item>
/// <item><c>MarginModeSet</c>: <see cref="AccountId"/>, <see cref="MarginMode"/>.</item>
/// <item><c>IsolatedMarginSet</c>: <see cref="AccountId"/>, <see cref="InstrumentId"/>, <see cref="Isolated"/>.</item>
/// <item><c>IsolatedMarginTransferred</c>, <c>IsolatedDeficitCovered</c>: <see cref="AccountId"/>, <see cref="InstrumentId"/>, <see cref="Amount"/>.</item>
/// <item><c>LiquidationQueued</c>, <c>LiquidationEnded</c>: <see cref="AccountId"/>, <see cref="InstrumentId"/> (0: the cross account; else the isolated position).</item>
/// <item><c>LiquidationStep</c>: <see cref="AccountId"/>, <see cref="InstrumentId"/> chosen, <see cref="Quantity"/> step, <see cref="Price"/> bankruptcy price, <see cref="ProofIndex"/>.</item>
/// <item><c>BackstopTakeover</c>, <c>AutoDeleveraged</c>: liquidated <see cref="AccountId"/>, counterparty <see cref="MakerAccountId"/> (0: the insurance fund), <see cref="InstrumentId"/>,
/// <see cref="Side"/> of the liquidated account, <see cref="Quantity"/>, <see cref="Price"/> (the bankruptcy price), <see cref="ProofIndex"/>.</item>
/// <item><c>LiquidationFeeCharged</c>, <c>InsuranceDeficitCovered</c>: <see cref="AccountId"/>, <see cref="Amount"/>.</item>
/// <item><c>InsuranceDeposited</c>: <see cref="Amount"/>.</item>
/// <item><c>InstrumentExpired</c>: <see cref="InstrumentId"/>, <see cref="UnderlyingId"/>.</item>
/// <item><c>ListingScheduleSet</c>: <see cref="UnderlyingId"/>.</item>
/// <item><c>InstrumentSettled</c>: <see cref="InstrumentId"/>, <see cref="UnderlyingId"/>, settlement price in <see cref="Price"/>,
/// open interest settled in <see cref="Quantity"/>, rounding residue to the insurance fund in <see cref="Amount"/>.</item>
/// <item><c>PositionSettled</c>: <see cref="AccountId"/>, <see cref="InstrumentId"/>, position in <see cref="Quantity"/>, value per contract
/// in <see cref="Price"/> (the settlement price for futures, intrinsic value for options), <see cref="Amount"/> paid (negative: received).</item>
/// <item><c>TradingHalted</c>: <see cref="InstrumentId"/>, mark in <see cref="Price"/>, the move that tripped the breaker in <see cref="RatePpb"/> (ppm).</item>
/// <item><c>TradingResumed</c>, <c>GuardsSet</c>: <see cref="InstrumentId"/>.</item>
/// </list>
/// </summary>
public struct EngineEvent
{
    public EventKind Kind;
    public RejectReason Reason;
    public CancelReason CancelReason;
    public Side Side;
    public long Sequence;
    public long TimestampMicros;
    public int AccountId;
    public int InstrumentId;
    public int UnderlyingId;
    public long OrderId;
    public Price Price;
    public Quantity Quantity;
    public Quantity Remaining;
    public Money Amount;
    public long TradeId;
    public int MakerAccountId;
    public long MakerOrderId;
    public Quantity MakerRemaining;
    public Money MakerFee;
    public int ReporterId;
    public Oracles.OracleStatus OracleStatus;
    public long RatePpb;
    public Margin.MarginMode MarginMode;
    public bool Isolated;

    /// <summary>On <c>TradeExecuted</c>: the taker was a liquidation order.</summary>
    public bool Liquidation;

    /// <summary>On liquidation events: index into <see cref="Engine.Liquidations"/> of the proof.</summary>
    public int ProofIndex;

    public override readonly string ToString() => Kind switch
    {
        EventKind.CommandRejected => $"#{Sequence} rejected: {Reason}",
        EventKind.TradeExecuted => $"#{Sequence} trade {TradeId}: {Quantity} @ {Price}, taker {AccountId}/{OrderId} {Side}, maker {MakerAccountId}/{MakerOrderId}",
        EventKind.OrderCancelled => $"#{Sequence} order {OrderId} cancelled ({CancelReason}), {Remaining} left",
        _ => $"#{Sequence} {Kind} account {AccountId} instrument {InstrumentId} order {OrderId} {Side} {Quantity} @ {Price} amount {Amount}",
    };
}
