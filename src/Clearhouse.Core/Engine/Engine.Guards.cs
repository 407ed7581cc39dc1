using Clearhouse.Core.Accounts;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

/// <summary>
/// Market-integrity guards (docs/guards.md): price bands, open-interest caps (hard, and the soft
/// cap that scales initial margin, applied in <see cref="Margin.AccountMargin"/>), position limits,
/// the volatility circuit breaker and order expiry. The order checks run after an order's own
/// validation and before its margin check, and change nothing; the clock work runs on
/// <see cref="Tick"/>.
/// </summary>
public sealed partial class Engine
{
    // Resting orders with an expiry, by (expiry, order id): the tick cancels from the front. An
    // order that leaves the book earlier stays here until its expiry passes and is then dropped;
    // snapshots store only the entries of open orders, so that does not reach the state hash.
    private readonly SortedSet<(long ExpiresAtMicros, long OrderId)> expiryQueue = [];
    private readonly Dictionary<long, long> orderExpiry = [];

    /// <summary>The expiry time of an open order, when it has one.</summary>
    public bool TryGetOrderExpiry(long orderId, out long expiresAtMicros) =>
        orderExpiry.TryGetValue(orderId, out expiresAtMicros) && instrumentOfOrder.ContainsKey(orderId);

    /// <summary>Open orders with an expiry, by order id (for snapshots).</summary>
    internal IEnumerable<(long OrderId, long ExpiresAtMicros)> OpenOrderExpiries()
    {
        var open = new List<(long, long)>();
        foreach (var (orderId, expiresAt) in orderExpiry)
        {
            if (instrumentOfOrder.ContainsKey(orderId))
            {
                open.Add((orderId, expiresAt));
            }
        }

        open.Sort();
        return open;
    }

    internal void RestoreOrderExpiry(long orderId, long expiresAtMicros) => TrackExpiry(orderId, expiresAtMicros);

    private void TrackExpiry(long orderId, long expiresAtMicros)
    {
        if (expiresAtMicros != 0)
        {
            orderExpiry[orderId] = expiresAtMicros;
            expiryQueue.Add((expiresAtMicros, orderId));
        }
    }

    // ---------------------------------------------------------------- governance

    private RejectReason ApplySetInstrumentGuards(SetInstrumentGuards command)
    {
        if (!TryGetInstrument(command.InstrumentId, out var instrument))
        {
            return RejectReason.UnknownInstrument;
        }

        if (command.Guards is null || !command.Guards.TryValidate(out _))
        {
            return RejectReason.InvalidGuardParameters;
        }

        if (instrument.State == InstrumentState.Settled)
        {
            return RejectReason.InstrumentNotActive;
        }

        var guard = instrument.Guard;
        if (!guard.Parameters.Equals(command.Guards))
        {
            // The breaker compares against samples taken under the parameters in force.
            guard.ClearSamples();
        }

        guard.Parameters = command.Guards;
        dirtyInstruments.Mark(instrument.Id);
        ref var e = ref Emit(EventKind.GuardsSet);
        e.InstrumentId = instrument.Id;
        return RejectReason.None;
    }

    // ---------------------------------------------------------------- order checks

    /// <summary>
    /// The guards of a new order, in order: stale (expiry passed), price band (limit orders; a
    /// market order's limit is pulled in to the band when that is tighter than its protection),
    /// then the open-interest cap and the position limit on the worst case: this order and the
    /// account's other orders on its side all filled, every counterparty opening.
    /// </summary>
    private RejectReason CheckOrderGuards(PlaceOrder command, Account account, Instrument instrument, bool isLimit, Quantity amount, ref Price limit)
    {
        if (command.ExpiresAtMicros != 0 && command.ExpiresAtMicros <= now)
        {
            return RejectReason.OrderExpired;
        }

        var parameters = instrument.Guard.Parameters;
        if (parameters.PriceBandPpm > 0)
        {
            if (isLimit)
            {
                if (OutsideBand(instrument, limit, parameters.PriceBandPpm))
                {
                    return RejectReason.PriceOutsideBand;
                }
            }
            else if (parameters.PriceBandPpm < instrument.Spec.MarketProtectionPpm)
            {
                limit = BandLimit(instrument, command.Side, parameters.PriceBandPpm);
            }
        }

        return CheckExposure(account, instrument, command.Side, amount, replaced: null);
    }

    /// <summary>The guards of an amend: not past its expiry, the new price in the band, and the exposure checks with the old order replaced.</summary>
    private RejectReason CheckAmendGuards(Account account, Instrument instrument, in RestingOrder order, Price newPrice, Quantity newRemaining)
    {
        if (orderExpiry.TryGetValue(order.OrderId, out long expiresAt) && expiresAt <= now)
        {
            return RejectReason.OrderExpired;
        }

        var parameters = instrument.Guard.Parameters;
        if (parameters.PriceBandPpm > 0 && OutsideBand(instrument, newPrice, parameters.PriceBandPpm))
        {
            return RejectReason.PriceOutsideBand;
        }

        return CheckExposure(account, instrument, order.Side, newRemaining, order);
    }

    /// <summary>Exactly: <c>|price − mark| × 10⁶ &gt; band × mark</c>. A price exactly on the band is accepted.</summary>
    private static bool OutsideBand(Instrument instrument, Price price, int bandPpm)
    {
        long mark = instrument.MarkPrice.Micros;
        return (Int128)Math.Abs(price.Micros - mark) * 1_000_000 > (Int128)bandPpm * mark;
    }

    /// <summary>The band's edge on the order's side, rounded to a tick toward the mark (as <see cref="MarketProtectionLimit"/>).</summary>
    private static Price BandLimit(Instrument instrument, Side side, int bandPpm)
    {
        var spec = instrument.Spec;
        var mark = instrument.MarkPrice;
        if (side == Side.Buy)
        {
            return mark.MultiplyPpm(1_000_000 + bandPpm, Rounding.Floor).RoundToTick(spec.TickSize, Rounding.Floor);
        }

        var floor = mark.MultiplyPpm(1_000_000 - bandPpm, Rounding.Ceiling).RoundToTick(spec.TickSize, Rounding.Ceiling);
        return floor.IsPositive ? floor : spec.TickSize;
    }

    /// <summary>
    /// Open-interest cap and position limit. The worst position on the order's side is the
    /// position with all the account's orders on that side filled; with this order it is
    /// <c>after</c>, without it <c>before</c>. Open interest can rise by at most the growth of the
    /// account's exposure on that side (a buyer's long, a seller's short: the counterparty can only
    /// match it), so the worst open interest is <c>OI + max(0, ±after) − max(0, ±size)</c>. An order
    /// that does not grow the worst exposure is never refused, so risk can always be reduced.
    /// </summary>
    private RejectReason CheckExposure(Account account, Instrument instrument, Side side, Quantity amount, RestingOrder? replaced)
    {
        var parameters = instrument.Guard.Parameters;
        if (!parameters.OpenInterestCap.IsPositive && !parameters.PositionLimitFloor.IsPositive)
        {
            return RejectReason.None;
        }

        var position = account.GetPosition(instrument.Id);
        long sameSide = side == Side.Buy ? position.OpenBuyQuantity.Units : position.OpenSellQuantity.Units;
        if (replaced is { } old)
        {
            sameSide -= old.Remaining.Units;
        }

        // Signed along the order's side: positive is exposure the order adds to.
        long size = side == Side.Buy ? position.Size.Units : -position.Size.Units;
        long before = size + sameSide;
        long after = before + amount.Units;
        if (Math.Max(0, after) <= Math.Max(0, before))
        {
            return RejectReason.None;
        }

        var openInterest = instrument.LongOpenInterest;
        if (parameters.OpenInterestCap.IsPositive)
        {
            long worst = openInterest.Units + Math.Max(0, after) - Math.Max(0, size);
            if (worst > parameters.OpenInterestCap.Units)
            {
                return RejectReason.OpenInterestCapExceeded;
            }
        }

        if (parameters.PositionLimitFloor.IsPositive && after > parameters.PositionLimit(openInterest).Units)
        {
            return RejectReason.PositionLimitExceeded;
        }

        return RejectReason.None;
    }

    /// <summary>Why an instrument that is not active refuses orders: its breaker, or its lifecycle.</summary>
    private static RejectReason NotActiveReason(Instrument instrument) =>
        instrument.State == InstrumentState.Halted && instrument.Guard.HaltedUntilMicros != 0
            ? RejectReason.TradingHalted
            : RejectReason.InstrumentNotActive;

    // ---------------------------------------------------------------- the clock

    /// <summary>
    /// The guards' clock work, on every tick after the other clock tasks: cancel resting orders
    /// whose expiry has come, end breaker halts whose cooling period is over, then (once per
    /// basis-sample boundary) sample each guarded mark and halt an instrument whose mark moved
    /// more than its breaker allows within the window.
    /// </summary>
    private void RunGuards()
    {
        ExpireOrders();
        foreach (var instrument in instruments)
        {
            var guard = instrument.Guard;
            if (guard.HaltedUntilMicros != 0 && guard.HaltedUntilMicros <= now)
            {
                Resume(instrument);
            }
        }

        long boundary = schedule.LastBasisMicros;
        if (boundary == 0)
        {
            return;
        }

        foreach (var instrument in instruments)
        {
            var guard = instrument.Guard;
            var parameters = guard.Parameters;
            if (!parameters.HasBreaker || instrument.State != InstrumentState.Active)
            {
                continue;
            }

            if (guard.Samples.Count > 0 && LastSampleMicros(guard) >= boundary)
            {
                continue;
            }

            var mark = instrument.MarkPrice;
            if (!mark.IsPositive)
            {
                continue;
            }

            guard.Prune(boundary - parameters.BreakerWindowMicros);
            dirtyInstruments.Mark(instrument.Id);
            if (guard.Exceeds(mark, parameters.BreakerMovePpm, out long movePpm))
            {
                Halt(instrument, mark, movePpm);
            }
            else
            {
                guard.AddSample(new MarkSample(boundary, mark));
            }
        }
    }

    private static long LastSampleMicros(InstrumentGuardState guard)
    {
        long last = 0;
        foreach (var sample in guard.Samples)
        {
            last = sample.TimeMicros;
        }

        return last;
    }

    private void Halt(Instrument instrument, Price mark, long movePpm)
    {
        var guard = instrument.Guard;
        instrument.State = InstrumentState.Halted;
        guard.HaltedUntilMicros = now + guard.Parameters.BreakerHaltMicros;
        guard.ClearSamples();
        ref var e = ref Emit(EventKind.TradingHalted);
        e.InstrumentId = instrument.Id;
        e.UnderlyingId = instrument.Underlying.Id;
        e.Price = mark;
        e.RatePpb = movePpm;
    }

    private void Resume(Instrument instrument)
    {
        instrument.Guard.HaltedUntilMicros = 0;
        dirtyInstruments.Mark(instrument.Id);

        // A dated instrument that reached its expiry during the halt stays with the lifecycle.
        bool expired = instrument.Kind != InstrumentKind.Perpetual && instrument.Spec.Terms.ExpiryMicros <= now;
        if (instrument.State != InstrumentState.Halted || expired)
        {
            return;
        }

        instrument.State = InstrumentState.Active;
        ref var e = ref Emit(EventKind.TradingResumed);
        e.InstrumentId = instrument.Id;
        e.UnderlyingId = instrument.Underlying.Id;
    }

    private void ExpireOrders()
    {
        while (expiryQueue.Count > 0)
        {
            var first = expiryQueue.Min;
            if (first.ExpiresAtMicros > now)
            {
                return;
            }

            expiryQueue.Remove(first);
            orderExpiry.Remove(first.OrderId);
            if (!TryGetOpenOrder(first.OrderId, out var order, out var instrument))
            {
                continue;
            }

            var account = accounts[order.AccountId - 1];
            CancelResting(account, instrument, order.OrderId, CancelReason.OrderExpired);
            ReleaseIfIdle(account, instrument.Id);
            dirtyAccounts.Mark(account.Id);
            dirtyInstruments.Mark(instrument.Id);
        }
    }
}
