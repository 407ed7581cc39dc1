using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Instruments;

/// <summary>
/// Which dated instruments an underlying keeps listed (docs/settlement.md, "Listing schedule"),
/// Deribit style: expiries at 08:00 UTC on the next <see cref="Dailies"/> days, the next
/// <see cref="Weeklies"/> Fridays, the last Fridays of the next <see cref="Monthlies"/> months and
/// of the next <see cref="Quarterlies"/> quarter months (March, June, September, December); the
/// union of those dates, each counted from the first expiry still ahead of the clock. For each
/// expiry a future (when <see cref="ListFutures"/>) and, around the index, a call and a put at
/// each of 2·<see cref="StrikesPerSide"/> + 1 strikes (<see cref="StrikeStep"/>).
/// </summary>
/// <param name="Dailies">Daily expiries kept listed (0–8).</param>
/// <param name="Weeklies">Friday expiries kept listed (0–8).</param>
/// <param name="Monthlies">Last-Friday-of-the-month expiries kept listed (0–8).</param>
/// <param name="Quarterlies">Last-Friday-of-March/June/September/December expiries kept listed (0–8).</param>
/// <param name="ListFutures">Whether each expiry gets a dated future.</param>
/// <param name="StrikesPerSide">Option strikes each side of the at-the-money strike (0–50; 0 lists no options).</param>
/// <param name="StrikeStepPpm">Strike spacing relative to the index, in ppm (1,000–500,000), rounded down to 1, 2 or 5 × 10ⁿ micro-USDC.</param>
/// <param name="FutureTickSize">Tick of the listed futures.</param>
/// <param name="FutureMinAmount">Lot of the listed futures.</param>
/// <param name="OptionTickSize">Tick of the listed options.</param>
/// <param name="OptionMinAmount">Lot of the listed options.</param>
/// <param name="MakerFeePpm">Maker fee of every listed instrument (the default margin tiers apply).</param>
/// <param name="TakerFeePpm">Taker fee of every listed instrument.</param>
public sealed record ListingSchedule(
    int Dailies,
    int Weeklies,
    int Monthlies,
    int Quarterlies,
    bool ListFutures,
    int StrikesPerSide,
    int StrikeStepPpm,
    Price FutureTickSize,
    Quantity FutureMinAmount,
    Price OptionTickSize,
    Quantity OptionMinAmount,
    int MakerFeePpm = 0,
    int TakerFeePpm = 500)
{
    public const int MaxPerKind = 8;
    public const int MaxStrikesPerSide = 50;

    public bool IsValid(string underlying)
    {
        if (Dailies is < 0 or > MaxPerKind || Weeklies is < 0 or > MaxPerKind || Monthlies is < 0 or > MaxPerKind || Quarterlies is < 0 or > MaxPerKind
            || StrikesPerSide is < 0 or > MaxStrikesPerSide || StrikeStepPpm is < 1_000 or > 500_000)
        {
            return false;
        }

        // The templates must make valid specs: check one future and one option.
        var sampleDate = new DateOnly(2000, 1, 7);
        return InstrumentSpec.Create(InstrumentTerms.Future(underlying, sampleDate), FutureTickSize, FutureMinAmount, MakerFeePpm, TakerFeePpm).TryValidate(out _)
            && InstrumentSpec.Create(InstrumentTerms.Option(underlying, sampleDate, Price.FromWhole(1), OptionRight.Call), OptionTickSize, OptionMinAmount, MakerFeePpm, TakerFeePpm).TryValidate(out _);
    }

    /// <summary>The expiry dates the schedule wants listed at <paramref name="nowMicros"/>, ascending, each expiring after it.</summary>
    public List<DateOnly> Expiries(long nowMicros)
    {
        var first = UnixMicros.DateOf(nowMicros);
        if (UnixMicros.AtHour(first, InstrumentTerms.ExpiryHourUtc) <= nowMicros)
        {
            first = first.AddDays(1);
        }

        var dates = new SortedSet<DateOnly>();
        for (int i = 0; i < Dailies; i++)
        {
            dates.Add(first.AddDays(i));
        }

        var friday = first.AddDays(((int)DayOfWeek.Friday - (int)first.DayOfWeek + 7) % 7);
        for (int i = 0; i < Weeklies; i++)
        {
            dates.Add(friday.AddDays(7 * i));
        }

        AddLastFridays(dates, first, Monthlies, quarterly: false);
        AddLastFridays(dates, first, Quarterlies, quarterly: true);
        return [.. dates];
    }

    /// <summary>The last Friday of <paramref name="month"/> in <paramref name="year"/>.</summary>
    public static DateOnly LastFriday(int year, int month)
    {
        var last = new DateOnly(year, month, DateTime.DaysInMonth(year, month));
        return last.AddDays(-(((int)last.DayOfWeek - (int)DayOfWeek.Friday + 7) % 7));
    }

    private static void AddLastFridays(SortedSet<DateOnly> dates, DateOnly first, int count, bool quarterly)
    {
        var month = new DateOnly(first.Year, first.Month, 1);
        for (int added = 0; added < count; month = month.AddMonths(1))
        {
            if (quarterly && month.Month % 3 != 0)
            {
                continue;
            }

            var expiry = LastFriday(month.Year, month.Month);
            if (expiry >= first)
            {
                dates.Add(expiry);
                added++;
            }
        }
    }

    /// <summary>
    /// The strike step for an index: index × <see cref="StrikeStepPpm"/>, rounded down to 1, 2 or
    /// 5 × 10ⁿ micro-USDC, and a multiple of the option tick (rounded up to it).
    /// </summary>
    public Price StrikeStep(Price index)
    {
        long raw = Math.Max(1, FixedMath.MulDiv(index.Micros, StrikeStepPpm, 1_000_000, Rounding.Floor));
        long power = 1;
        while (power <= raw / 10)
        {
            power *= 10;
        }

        long step = raw >= 5 * power ? 5 * power : raw >= 2 * power ? 2 * power : power;
        long tick = OptionTickSize.Micros;
        return new Price(FixedMath.Divide(step, tick, Rounding.Ceiling) * tick);
    }

    /// <summary>
    /// The strikes for an index: the at-the-money strike (the index rounded to the nearest step,
    /// halves up) and <see cref="StrikesPerSide"/> steps each side, positive ones only, ascending.
    /// </summary>
    public List<Price> Strikes(Price index)
    {
        var strikes = new List<Price>();
        if (StrikesPerSide == 0 || !index.IsPositive)
        {
            return strikes;
        }

        long step = StrikeStep(index).Micros;
        long atTheMoney = FixedMath.Divide(index.Micros + (step / 2), step, Rounding.Floor) * step;
        for (int k = -StrikesPerSide; k <= StrikesPerSide; k++)
        {
            long strike = atTheMoney + (k * step);
            if (strike > 0)
            {
                strikes.Add(new Price(strike));
            }
        }

        return strikes;
    }
}
