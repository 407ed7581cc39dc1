using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

/// <summary>
/// The listing schedule (docs/settlement.md): each underlying may carry a
/// <see cref="ListingSchedule"/>; when it is set, and then once a minute of sequencer time (the
/// first tick in each new minute), the engine lists every future and option the schedule wants
/// and that is not listed yet, through the same path as <see cref="ListInstrument"/>. Settled
/// instruments stay, archived, under their names; an expiry is only ever listed before it passes.
/// </summary>
public sealed partial class Engine
{
    private RejectReason ApplySetListingSchedule(SetListingSchedule command)
    {
        if (command.Underlying is null || !underlyingsByName.TryGetValue(command.Underlying, out var underlying))
        {
            return RejectReason.UnknownUnderlying;
        }

        if (command.Schedule is { } schedule && !schedule.IsValid(underlying.Name))
        {
            return RejectReason.InvalidListingSchedule;
        }

        underlying.Listing = command.Schedule;
        ref var e = ref Emit(EventKind.ListingScheduleSet);
        e.UnderlyingId = underlying.Id;
        ListScheduled(underlying);
        return RejectReason.None;
    }

    /// <summary>
    /// On the first tick of each minute of sequencer time: every underlying's schedule, in id order.
    /// <paramref name="previousTick"/> is the last tick's time rounded down to the basis interval
    /// (0 before the first tick). Compared with the last <em>command's</em> time, as it once was, a
    /// deposit or an order first in the minute would have skipped that minute's listing. With a
    /// basis interval that does not divide a minute the listing may run twice in a minute, which
    /// lists nothing more: it only adds what is missing.
    /// </summary>
    private void ListScheduledOnTheMinute(long previousTick)
    {
        if (FixedMath.Divide(now, UnixMicros.PerMinute, Rounding.Floor) == FixedMath.Divide(previousTick, UnixMicros.PerMinute, Rounding.Floor))
        {
            return;
        }

        for (int i = 0; i < underlyings.Count; i++)
        {
            ListScheduled(underlyings[i]);
        }
    }

    /// <summary>
    /// Lists what the underlying's schedule wants and is missing: per expiry (ascending) the future,
    /// then calls and puts by ascending strike around the current index (options only once the
    /// index is set).
    /// </summary>
    private void ListScheduled(Underlying underlying)
    {
        if (underlying.Listing is not { } schedule)
        {
            return;
        }

        var strikes = schedule.Strikes(underlying.IndexPrice);
        foreach (var expiry in schedule.Expiries(now))
        {
            if (schedule.ListFutures)
            {
                ListIfMissing(InstrumentSpec.Create(InstrumentTerms.Future(underlying.Name, expiry), schedule.FutureTickSize, schedule.FutureMinAmount, schedule.MakerFeePpm, schedule.TakerFeePpm));
            }

            foreach (var strike in strikes)
            {
                ListIfMissing(InstrumentSpec.Create(InstrumentTerms.Option(underlying.Name, expiry, strike, OptionRight.Call), schedule.OptionTickSize, schedule.OptionMinAmount, schedule.MakerFeePpm, schedule.TakerFeePpm));
                ListIfMissing(InstrumentSpec.Create(InstrumentTerms.Option(underlying.Name, expiry, strike, OptionRight.Put), schedule.OptionTickSize, schedule.OptionMinAmount, schedule.MakerFeePpm, schedule.TakerFeePpm));
            }
        }
    }

    private void ListIfMissing(InstrumentSpec spec)
    {
        if (!instrumentsByName.ContainsKey(spec.Name))
        {
            List(new ListInstrument(spec));
        }
    }
}
