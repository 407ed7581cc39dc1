using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

/// <summary>
/// An instruction to the engine. The sequencer stamps every command with a strictly increasing
/// <see cref="Sequence"/> and a <see cref="TimestampMicros"/> (Unix microseconds, never going
/// backwards) before it reaches <see cref="Engine.Apply"/>: the engine reads no clock, so the
/// state after command N is a pure function of the commands up to N.
/// </summary>
public abstract record Command
{
    public long Sequence { get; init; }

    public long TimestampMicros { get; init; }
}

/// <summary>Opens a new trading account; the engine assigns the next account id.</summary>
public sealed record CreateAccount : Command;

/// <summary>Collateral enters the venue.</summary>
public sealed record Deposit(int AccountId, Money Amount) : Command;

/// <summary>Collateral leaves the venue; only what is free after initial margin, never unrealized profit.</summary>
public sealed record Withdraw(int AccountId, Money Amount) : Command;

/// <summary>Lists an instrument; the engine assigns the next instrument id.</summary>
public sealed record ListInstrument(InstrumentSpec Spec) : Command;

/// <summary>
/// Sets the index price of an underlying, from a trusted source for now; the mark of every
/// future and perpetual on it follows. The oracle issue replaces the source, not the consumers.
/// </summary>
public sealed record SetIndexPrice(string Underlying, Price Price) : Command;

/// <summary>
/// Places an order. <see cref="Price"/> is the limit for limit orders and ignored for market orders,
/// whose limit is the instrument's protection band around the mark.
/// </summary>
public sealed record PlaceOrder(
    int AccountId,
    int InstrumentId,
    Side Side,
    OrderType Type,
    TimeInForce TimeInForce,
    Price Price,
    Quantity Amount,
    OrderFlags Flags = OrderFlags.None,
    string? ClientOrderId = null,
    SelfTradePrevention SelfTradePrevention = SelfTradePrevention.CancelResting) : Command
{
    /// <summary>
    /// Sequencer time (Unix µs) from which the order is stale: rejected if it arrives at or after it,
    /// cancelled on the first tick at or after it while resting (docs/guards.md). 0: no expiry. A
    /// gateway turns a client's "max age" into this: the client's send time + the max age.
    /// </summary>
    public long ExpiresAtMicros { get; init; }
}

public sealed record CancelOrder(int AccountId, long OrderId) : Command;

/// <summary>Cancels every open order of an account, or only those in one instrument when <see cref="InstrumentId"/> is not zero.</summary>
public sealed record CancelAllOrders(int AccountId, int InstrumentId = 0) : Command;

/// <summary>
/// Changes an order's price and/or total amount (filled part included). A price change or a size
/// increase sends the order to the back of its level; a size decrease keeps its place. An amended
/// price that crosses the book trades at once, like a new order.
/// </summary>
public sealed record AmendOrder(int AccountId, long OrderId, Price NewPrice, Quantity NewAmount) : Command;

/// <summary>
/// Governance: switches an underlying's index from the trusted <see cref="SetIndexPrice"/> command
/// to signed reports aggregated under <paramref name="Parameters"/>, or changes those parameters.
/// </summary>
public sealed record ConfigureOracle(string Underlying, Oracles.OracleParameters Parameters) : Command;

/// <summary>Governance: registers a reporter's Ed25519 public key (32 bytes) for an underlying; the engine assigns the reporter id.</summary>
public sealed record RegisterReporter(string Underlying, byte[] PublicKey) : Command;

/// <summary>A signed price report; verified, then aggregated into the index.</summary>
public sealed record SubmitPriceReport(Oracles.PriceReport Report) : Command;

/// <summary>
/// The passage of time. The sequencer sends one regularly (e.g. every 250 ms); it runs the work
/// that happens on the clock, at the boundaries of sequencer time that have passed: oracle
/// staleness, basis samples for the marks, index TWAP samples, premium samples and funding.
/// </summary>
public sealed record Tick : Command;

/// <summary>A volatility surface signed by one of the underlying's reporters; option marks follow it.</summary>
public sealed record SetVolatilitySurface(Oracles.VolSurfaceUpdate Update) : Command;

/// <summary>
/// Switches an account's cross positions between standard and portfolio margin. Accepted when the
/// account's initial requirement under the new mode is covered by its equity (and, to portfolio
/// margin, when every option it holds has a scenario grid).
/// </summary>
public sealed record SetMarginMode(int AccountId, Margin.MarginMode Mode) : Command;

/// <summary>
/// Makes an account's position in one future or perpetual isolated (its own collateral; its losses
/// cannot reach the rest of the account) or cross again. Only while the account has neither a
/// position nor open orders in it.
/// </summary>
public sealed record SetIsolatedMargin(int AccountId, int InstrumentId, bool Isolated) : Command;

/// <summary>
/// Moves collateral between the cross balance and an isolated position: positive into the
/// position, negative out of it. In: at most the cross funds available; out: at most what the
/// isolated position has free after its initial margin (never unrealized profit).
/// </summary>
public sealed record TransferIsolatedMargin(int AccountId, int InstrumentId, Money Amount) : Command;

/// <summary>Governance: money from outside the venue into the insurance fund.</summary>
public sealed record DepositInsuranceFund(Money Amount) : Command;

/// <summary>
/// Governance: sets one instrument's market-integrity guards (price band, open-interest caps,
/// position limits, circuit breaker; docs/guards.md). Takes effect from the next command.
/// </summary>
public sealed record SetInstrumentGuards(int InstrumentId, Guards.GuardParameters Guards) : Command;

/// <summary>
/// Governance: sets (or, with a null <see cref="Schedule"/>, clears) the listing schedule of an
/// underlying: which expiries, futures and option strikes the engine keeps listed on its own
/// (docs/settlement.md). What the schedule wants is listed at once, then checked once a minute.
/// </summary>
public sealed record SetListingSchedule(string Underlying, ListingSchedule? Schedule) : Command;
