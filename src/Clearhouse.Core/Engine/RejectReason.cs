namespace Clearhouse.Core.Engine;

/// <summary>
/// Why a command was rejected. Stable: values are grouped by range and never renumbered; new
/// codes take the next free number in their range. A rejected command changes nothing.
/// </summary>
public enum RejectReason : ushort
{
    None = 0,

    // 100–199: the command envelope
    SequenceNotIncreasing = 100,
    TimestampWentBackwards = 101,
    UnknownCommand = 102,

    // 200–299: accounts and collateral
    UnknownAccount = 200,
    AmountNotPositive = 201,
    InsufficientFreeCollateral = 202,
    AmountTooLarge = 203,

    // 300–399: instruments and prices
    UnknownInstrument = 300,
    InstrumentNotActive = 301,
    InstrumentAlreadyListed = 302,
    InvalidInstrumentSpec = 303,
    OptionTradingNotEnabled = 304,
    NoMarkPrice = 305,
    UnknownUnderlying = 306,
    IndexPriceOutOfRange = 307,
    ExpiryInPast = 308,
    InvalidListingSchedule = 310,

    // 400–499: orders
    PriceNotOnTick = 400,
    AmountNotOnLot = 401,
    OrderAmountNotPositive = 402,
    PriceNotPositive = 403,
    PostOnlyWouldCross = 404,
    FillOrKillNotFillable = 405,
    ReduceOnlyWouldIncrease = 406,
    DuplicateClientOrderId = 407,
    TooManyOpenOrders = 408,
    UnknownOrder = 409,
    OrderTooLarge = 410,
    InvalidOrderOptions = 411,
    AmendAmountNotAboveFilled = 412,
    ClientOrderIdTooLong = 413,

    // 500–599: margin
    InsufficientMargin = 500,
    MarginModeUncovered = 501,
    IsolatedNotForOptions = 502,
    MarginModeLockedByPosition = 503,
    PositionNotIsolated = 504,
    InvalidMarginMode = 505,
    NoIsolatedPosition = 506,
    AccountInLiquidation = 507,

    // 600–699: oracles
    OracleNotConfigured = 600,
    IndexSetByOracle = 601,
    InvalidOracleParameters = 602,
    InvalidReporterKey = 603,
    ReporterAlreadyRegistered = 604,
    UnknownReporter = 605,
    ReportSignatureInvalid = 606,
    ReportDuplicate = 607,
    ReportReplayed = 608,
    ReportFromFuture = 609,
    ReportTooOld = 610,
    OracleStaleRiskReducingOnly = 611,
    WithdrawalHeldOracleStale = 612,
    VolSurfaceInvalid = 613,
    VolSurfaceReplayed = 614,

    // 700–799: market-integrity guards (docs/guards.md)
    PriceOutsideBand = 700,
    OpenInterestCapExceeded = 701,
    PositionLimitExceeded = 702,
    TradingHalted = 703,
    OrderExpired = 704,
    InvalidGuardParameters = 705,

    // 900–999: reserved for gateways (malformed requests refused before they become commands);
    // Core never emits them. See Clearhouse.Server's GatewayReason.
}

public static class RejectReasons
{
    /// <summary>A sentence a person understands, for the API and logs.</summary>
    public static string Describe(RejectReason reason) => reason switch
    {
        RejectReason.None => "Accepted.",
        RejectReason.SequenceNotIncreasing => "The command's sequence number is not greater than the last applied one.",
        RejectReason.TimestampWentBackwards => "The command's timestamp is earlier than the last applied one.",
        RejectReason.UnknownCommand => "The engine does not know this kind of command.",
        RejectReason.UnknownAccount => "There is no account with that id.",
        RejectReason.AmountNotPositive => "The amount must be greater than zero.",
        RejectReason.InsufficientFreeCollateral => "The withdrawal is larger than the collateral free after initial margin (unrealized profit cannot be withdrawn).",
        RejectReason.AmountTooLarge => "The amount is larger than the venue accepts in one command.",
        RejectReason.UnknownInstrument => "There is no instrument with that id or name.",
        RejectReason.InstrumentNotActive => "The instrument is not open for trading.",
        RejectReason.InstrumentAlreadyListed => "An instrument with that name is already listed.",
        RejectReason.InvalidInstrumentSpec => "The instrument's parameters are not valid (tick, lot, fees or margin table).",
        RejectReason.OptionTradingNotEnabled => "Retired: options trade since the margin engine landed; the code is kept so that no number is ever reused.",
        RejectReason.NoMarkPrice => "The instrument has no mark price yet, so the order cannot be margined.",
        RejectReason.UnknownUnderlying => "No instrument is listed on that underlying.",
        RejectReason.IndexPriceOutOfRange => "The index price must be positive and at most 100,000,000 USDC.",
        RejectReason.ExpiryInPast => "The instrument's expiry is not after the current time.",
        RejectReason.InvalidListingSchedule => "The listing schedule is not valid (0–8 expiries of each kind, 0–50 strikes each side, strike step 0.1%–50%, and tick, lot and fee templates that make valid instruments).",
        RejectReason.PriceNotOnTick => "The price is not a multiple of the instrument's tick size.",
        RejectReason.AmountNotOnLot => "The amount is not a multiple of the instrument's minimum amount.",
        RejectReason.OrderAmountNotPositive => "The order amount must be greater than zero.",
        RejectReason.PriceNotPositive => "The limit price must be greater than zero.",
        RejectReason.PostOnlyWouldCross => "The post-only order would trade immediately, so it was rejected.",
        RejectReason.FillOrKillNotFillable => "The fill-or-kill order cannot be filled in full right now.",
        RejectReason.ReduceOnlyWouldIncrease => "The reduce-only order would open or increase a position.",
        RejectReason.DuplicateClientOrderId => "Another open order of this account already uses that client order id.",
        RejectReason.TooManyOpenOrders => "The account has reached its limit of open orders.",
        RejectReason.UnknownOrder => "There is no open order with that id for this account.",
        RejectReason.OrderTooLarge => "The order's notional value is larger than the venue accepts.",
        RejectReason.InvalidOrderOptions => "This combination of order type, time in force and flags is not allowed (post-only orders rest; market orders never do).",
        RejectReason.AmendAmountNotAboveFilled => "The new amount must be larger than what has already been filled.",
        RejectReason.ClientOrderIdTooLong => "The client order id is longer than 64 characters.",
        RejectReason.InsufficientMargin => "The account's equity does not cover the initial margin that this order would require.",
        RejectReason.MarginModeUncovered => "The account's equity would not cover its initial margin under that margin mode.",
        RejectReason.IsolatedNotForOptions => "Only futures and perpetual positions can be isolated; options are margined with the account.",
        RejectReason.MarginModeLockedByPosition => "A position's margin mode can only change while the account has no position and no open orders in that instrument.",
        RejectReason.PositionNotIsolated => "That position is not isolated, so it has no collateral of its own to move.",
        RejectReason.InvalidMarginMode => "Unknown margin mode: use standard or portfolio.",
        RejectReason.AccountInLiquidation => "The account is being liquidated: it cannot place or amend orders in the positions being liquidated, or withdraw, until its liquidation ends (equity back at or above maintenance, or nothing left to close).",
        RejectReason.NoIsolatedPosition => "There is no isolated position or open order in that instrument to move collateral to or from.",
        RejectReason.OracleNotConfigured => "That underlying has no oracle configured.",
        RejectReason.IndexSetByOracle => "That underlying's index comes from its oracle; the trusted index command is refused.",
        RejectReason.InvalidOracleParameters => "The oracle parameters are not valid (quorum 1–64, positive staleness, band between 0 and 100%).",
        RejectReason.InvalidReporterKey => "A reporter key must be a 32-byte Ed25519 public key.",
        RejectReason.ReporterAlreadyRegistered => "That key is already registered as a reporter for this underlying.",
        RejectReason.UnknownReporter => "The report names a reporter that is not registered for this underlying.",
        RejectReason.ReportSignatureInvalid => "The report's signature does not verify against the reporter's key: it is forged or corrupted.",
        RejectReason.ReportDuplicate => "This reporter already reported for exactly this publish time.",
        RejectReason.ReportReplayed => "The report is older than one already accepted from this reporter (a replay).",
        RejectReason.ReportFromFuture => "The report's publish time is ahead of the venue's clock by more than the allowed skew.",
        RejectReason.ReportTooOld => "The report is older than the oracle's staleness limit.",
        RejectReason.OracleStaleRiskReducingOnly => "The oracle for this underlying is stale: only orders that reduce risk are accepted.",
        RejectReason.VolSurfaceInvalid => "The volatility surface is malformed or admits arbitrage (negative variance, butterfly or calendar).",
        RejectReason.VolSurfaceReplayed => "The surface is not newer than the one in force for that underlying.",
        RejectReason.WithdrawalHeldOracleStale => "Withdrawals are held while an oracle the account's positions depend on is stale; try again once it recovers.",
        RejectReason.PriceOutsideBand => "The limit price is further from the mark than the instrument's price band allows.",
        RejectReason.OpenInterestCapExceeded => "If filled in full, the order could take the instrument's open interest above its cap.",
        RejectReason.PositionLimitExceeded => "If filled in full (with the account's other orders on that side), the order could take the position beyond the account's limit in this instrument.",
        RejectReason.TradingHalted => "Trading in the instrument is paused by its circuit breaker after a sharp mark move; cancels are accepted, and trading resumes after the cooling period.",
        RejectReason.OrderExpired => "The order's expiry time had already passed when it reached the sequencer (a stale order is never executed late).",
        RejectReason.InvalidGuardParameters => "The guard parameters are not valid (band below 100%, soft cap lower below upper, share of open interest at most 100%, breaker window and halt 1 s to 24 h).",
        _ => $"Rejected ({(int)reason}).",
    };
}
