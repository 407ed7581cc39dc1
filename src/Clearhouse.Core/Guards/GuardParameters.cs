using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Guards;

/// <summary>
/// The market-integrity guards of one instrument (docs/guards.md). Every guard is off at its zero
/// value, which is the venue default (<see cref="Engine.EngineConfig.Guards"/>): a venue turns
/// them on for all new listings in its config, or per instrument by governance
/// (<see cref="Engine.SetInstrumentGuards"/>). Open interest and positions are in contracts
/// (long open interest, which always equals short open interest).
/// </summary>
/// <param name="PriceBandPpm">Limit orders (and amends) priced more than this far from the mark, either side, are rejected; market orders are also capped at it when it is tighter than the instrument's market protection. 0: off; else 1–999,999 ppm.</param>
/// <param name="OpenInterestCap">Hard cap: an order whose full fill could take open interest above it is rejected. Zero: no cap.</param>
/// <param name="OpenInterestSoftLower">Soft cap: from this open interest up to <paramref name="OpenInterestSoftUpper"/> the initial margin rate of futures and perpetuals rises linearly to 100% (dYdX's open-interest margin fraction).</param>
/// <param name="OpenInterestSoftUpper">Open interest at which the initial margin rate reaches 100%. Zero: no soft cap.</param>
/// <param name="PositionLimitFloor">Position limit per account: <c>max(floor, OI × PositionLimitOpenInterestPpm)</c>. Zero: no limit.</param>
/// <param name="PositionLimitOpenInterestPpm">The share of open interest one account may hold once that is above the floor, in ppm (0–1,000,000).</param>
/// <param name="BreakerMovePpm">Circuit breaker: a mark move of more than this (ppm of an earlier sample) within <paramref name="BreakerWindowMicros"/> halts trading. 0: off.</param>
/// <param name="BreakerWindowMicros">How far back the breaker compares the mark (sequencer time; 1 s to 24 h when the breaker is on).</param>
/// <param name="BreakerHaltMicros">How long a halt lasts before trading resumes on a tick (1 s to 24 h when the breaker is on).</param>
public sealed record GuardParameters(
    int PriceBandPpm = 0,
    Quantity OpenInterestCap = default,
    Quantity OpenInterestSoftLower = default,
    Quantity OpenInterestSoftUpper = default,
    Quantity PositionLimitFloor = default,
    int PositionLimitOpenInterestPpm = 0,
    int BreakerMovePpm = 0,
    long BreakerWindowMicros = 0,
    long BreakerHaltMicros = 0)
{
    private const long MaxBreakerMicros = 24L * 3_600_000_000;

    /// <summary>Every guard off: the venue default.</summary>
    public static GuardParameters Off { get; } = new();

    /// <summary>
    /// A starting point for a venue that turns the guards on (docs/guards.md): bands ±10%, a
    /// breaker on 10% in 5 minutes halting for 5 minutes. Open-interest caps and position limits
    /// depend on the market's size and have no venue-wide value: set them per instrument.
    /// </summary>
    public static GuardParameters Recommended { get; } = new(
        PriceBandPpm: 100_000,
        BreakerMovePpm: 100_000,
        BreakerWindowMicros: 300_000_000,
        BreakerHaltMicros: 300_000_000);

    public bool IsOff => Equals(Off);

    public bool HasSoftCap => OpenInterestSoftUpper.IsPositive;

    public bool HasBreaker => BreakerMovePpm > 0;

    public bool TryValidate(out string? error)
    {
        error = null;
        if (PriceBandPpm is < 0 or >= 1_000_000)
        {
            error = "The price band must be between 0 (off) and 999,999 ppm of the mark.";
        }
        else if (OpenInterestCap.IsNegative || PositionLimitFloor.IsNegative)
        {
            error = "Open-interest caps and position limits cannot be negative.";
        }
        else if (OpenInterestSoftLower.IsNegative || OpenInterestSoftUpper.IsNegative
            || (OpenInterestSoftUpper.IsPositive && OpenInterestSoftLower >= OpenInterestSoftUpper)
            || (OpenInterestSoftUpper.IsZero && OpenInterestSoftLower.IsPositive))
        {
            error = "The soft cap needs 0 ≤ lower < upper (upper 0: no soft cap).";
        }
        else if (PositionLimitOpenInterestPpm is < 0 or > 1_000_000)
        {
            error = "The position limit's share of open interest must be between 0 and 1,000,000 ppm.";
        }
        else if (BreakerMovePpm < 0
            || (BreakerMovePpm > 0 && (BreakerWindowMicros is < 1_000_000 or > MaxBreakerMicros || BreakerHaltMicros is < 1_000_000 or > MaxBreakerMicros))
            || (BreakerMovePpm == 0 && (BreakerWindowMicros != 0 || BreakerHaltMicros != 0)))
        {
            error = "The circuit breaker needs a positive move with a window and a halt between 1 s and 24 h (all zero: off).";
        }

        return error is null;
    }

    /// <summary>
    /// dYdX's open-interest scaling as a fraction of the way from the initial rate to 100%, in ppm:
    /// <c>clamp((OI − lower) / (upper − lower), 0, 1)</c>, rounded up (against the account).
    /// Then <c>IMF_eff = IMF + scale × (1 − IMF)</c>, so the requirement is capped at the notional.
    /// </summary>
    public long OpenInterestScalePpm(Quantity openInterest)
    {
        if (!HasSoftCap || openInterest <= OpenInterestSoftLower)
        {
            return 0;
        }

        if (openInterest >= OpenInterestSoftUpper)
        {
            return 1_000_000;
        }

        return FixedMath.MulDiv(openInterest.Units - OpenInterestSoftLower.Units, 1_000_000, OpenInterestSoftUpper.Units - OpenInterestSoftLower.Units, Rounding.Ceiling);
    }

    /// <summary>The most contracts one account may hold (long or short) at this open interest; <see cref="long.MaxValue"/> units when there is no limit.</summary>
    public Quantity PositionLimit(Quantity openInterest)
    {
        if (!PositionLimitFloor.IsPositive)
        {
            return new Quantity(long.MaxValue);
        }

        long share = FixedMath.MulDiv(openInterest.Units, PositionLimitOpenInterestPpm, 1_000_000, Rounding.Floor);
        return new Quantity(Math.Max(PositionLimitFloor.Units, share));
    }
}
