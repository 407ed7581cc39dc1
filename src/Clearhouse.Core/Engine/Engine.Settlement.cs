using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

/// <summary>
/// Expiry and settlement of dated futures and European options (docs/settlement.md). Driven by
/// <see cref="Tick"/>: once sequencer time reaches an instrument's expiry (08:00 UTC of its expiry
/// date), its orders are cancelled and it stops trading; it then cash-settles every position at the
/// time-weighted average of the index over the 30 minutes up to expiry, as soon as that window is
/// healthy, and is archived (<see cref="InstrumentState.Settled"/>).
/// </summary>
public sealed partial class Engine
{
    /// <summary>
    /// A settlement window is healthy when it holds at least this share of its samples (in ppm of
    /// <see cref="EngineConfig.TwapWindowSamples"/>: 240 of 300 by default). Samples are taken only
    /// while the index is healthy, so a window with too few means the oracle was stale for too long.
    /// </summary>
    public const int MinimumSettlementSamplesPpm = 800_000;

    /// <summary>Samples a healthy settlement window must hold, rounded up: 240 of 300.</summary>
    public int MinimumSettlementSamples => (int)FixedMath.MulDiv(config.TwapWindowSamples, MinimumSettlementSamplesPpm, 1_000_000, Rounding.Ceiling);

    /// <summary>
    /// The settlement price an expired instrument would settle at now, and the end of the window it
    /// averages: the 30-minute window ending at expiry, <c>(expiry − 30 min, expiry]</c>, when it is
    /// healthy; otherwise the 30 minutes up to the latest sample boundary, once that window is healthy.
    /// False while neither is (settlement waits; the instrument stays halted).
    /// </summary>
    public bool TryGetSettlementPrice(Instrument instrument, out Price price, out long windowEndMicros)
    {
        var twap = instrument.Underlying.Twap;
        long expiry = instrument.Spec.Terms.ExpiryMicros;
        int minimum = MinimumSettlementSamples;
        windowEndMicros = expiry;
        if (twap.TryAverage(expiry, out price, out int samples) && samples >= minimum)
        {
            return true;
        }

        windowEndMicros = schedule.LastTwapMicros;
        if (windowEndMicros > expiry && twap.TryAverage(windowEndMicros, out price, out samples) && samples >= minimum)
        {
            return true;
        }

        price = Price.Zero;
        windowEndMicros = 0;
        return false;
    }

    /// <summary>
    /// Every dated instrument whose expiry has passed and that has not settled: stop it (orders
    /// cancelled, state Halted), then settle it if its window is healthy. Runs on every tick, after
    /// the index TWAP sample, in instrument id order.
    /// </summary>
    private void SettleExpired()
    {
        for (int i = 0; i < instruments.Count; i++)
        {
            var instrument = instruments[i];
            if (instrument.Kind == InstrumentKind.Perpetual || instrument.State == InstrumentState.Settled || instrument.Spec.Terms.ExpiryMicros > now)
            {
                continue;
            }

            Expire(instrument);
            if (TryGetSettlementPrice(instrument, out var price, out _))
            {
                Settle(instrument, price);
            }
        }
    }

    /// <summary>Stops trading in an expired instrument: every open order cancelled, state Halted (idempotent).</summary>
    private void Expire(Instrument instrument)
    {
        if (instrument.State == InstrumentState.Active)
        {
            instrument.State = InstrumentState.Halted;
            dirtyInstruments.Mark(instrument.Id);
            ref var e = ref Emit(EventKind.InstrumentExpired);
            e.InstrumentId = instrument.Id;
            e.UnderlyingId = instrument.Underlying.Id;
        }

        var orders = instrument.Book.OrdersInPriority();
        if (orders.Count == 0)
        {
            return;
        }

        foreach (var order in orders)
        {
            var account = accounts[order.AccountId - 1];
            CancelResting(account, instrument, order.OrderId, CancelReason.InstrumentExpired);
            ReleaseIfIdle(account, instrument.Id);
            dirtyAccounts.Mark(account.Id);
        }

        dirtyInstruments.Mark(instrument.Id);
    }

    /// <summary>
    /// Cash-settles every position like a closing fill without fees at the value per contract
    /// (<see cref="SettlementValue"/>): holders (longs) receive it rounded down, writers (shorts)
    /// pay it rounded up, so the residue — never negative — goes to the insurance fund and
    /// settlement is exactly zero-sum. Accounts in id order; isolated collateral follows the cash
    /// and is released once the position is flat.
    /// </summary>
    private void Settle(Instrument instrument, Price settlementPrice)
    {
        var value = SettlementValue(instrument.Spec.Terms, settlementPrice);
        var openInterest = instrument.LongOpenInterest;

        // Every account, then the insurance fund (which holds the positions it took over in liquidations).
        for (int i = 0; i <= accounts.Count; i++)
        {
            var account = i < accounts.Count ? accounts[i] : Ledger.Insurance;
            var size = account.GetPosition(instrument.Id).Size;
            if (size.IsZero)
            {
                continue;
            }

            // Long: sells at the value, receives it rounded down. Short: buys back, pays it rounded up.
            var payment = size.IsPositive
                ? -Notional.Of(value, size, Rounding.Floor)
                : Notional.Of(value, -size, Rounding.Ceiling);
            Ledger.SettleFunding(account, payment);
            ApplyFill(instrument, account, -size, payment);
            ref var position = ref account.PositionIn(instrument.Id);
            if (position.Isolated)
            {
                position.IsolatedCash -= payment;
            }

            ref var e = ref Emit(EventKind.PositionSettled);
            e.AccountId = account.Id;
            e.InstrumentId = instrument.Id;
            e.Quantity = size;
            e.Price = value;
            e.Amount = payment;
            ReleaseIfIdle(account, instrument.Id);
            if (account.Id > 0)
            {
                dirtyAccounts.Mark(account.Id);
            }
        }

        // Balances moved: the health checks after this tick look at every exposed account.
        clockMovedMarks = true;

        // Payers rounded up and receivers down: what is left in transit is the residue, never negative.
        var residue = Ledger.SweepFundingToInsurance();
        if (!instrument.LongOpenInterest.IsZero || !instrument.ShortOpenInterest.IsZero)
        {
            throw new InvalidOperationException($"Open interest of {instrument.Name} did not reach zero at settlement.");
        }

        instrument.State = InstrumentState.Settled;
        instrument.SettlementPrice = settlementPrice;
        instrument.SettledMicros = now;
        dirtyInstruments.Mark(instrument.Id);
        ref var settled = ref Emit(EventKind.InstrumentSettled);
        settled.InstrumentId = instrument.Id;
        settled.UnderlyingId = instrument.Underlying.Id;
        settled.Price = settlementPrice;
        settled.Quantity = openInterest;
        settled.Amount = residue;
    }

    /// <summary>
    /// What one contract is worth at settlement: the settlement price for a future; the intrinsic
    /// value max(0, S − K) for a call and max(0, K − S) for a put (exact: no rounding).
    /// </summary>
    public static Price SettlementValue(InstrumentTerms terms, Price settlementPrice) => terms.Kind switch
    {
        InstrumentKind.Option when terms.Right == OptionRight.Call => new Price(Math.Max(0, settlementPrice.Micros - terms.Strike.Micros)),
        InstrumentKind.Option => new Price(Math.Max(0, terms.Strike.Micros - settlementPrice.Micros)),
        _ => settlementPrice,
    };
}
