using Clearhouse.Core.Instruments;

namespace Clearhouse.Server.Genesis;

/// <summary>
/// Quarterly futures expire on the last Friday of March, June, September and December at
/// 08:00 UTC (<see cref="InstrumentTerms.ExpiryHourUtc"/>), Deribit's convention.
/// </summary>
public static class QuarterlyExpiries
{
    /// <summary>The last Friday of a month.</summary>
    public static DateOnly LastFriday(int year, int month)
    {
        var day = new DateOnly(year, month, DateTime.DaysInMonth(year, month));
        int back = ((int)day.DayOfWeek - (int)DayOfWeek.Friday + 7) % 7;
        return day.AddDays(-back);
    }

    /// <summary>
    /// The next <paramref name="count"/> quarterly expiry dates whose expiry instant is strictly
    /// after <paramref name="nowUtc"/> (on expiry day after 08:00 UTC, that quarter is already gone).
    /// </summary>
    public static IReadOnlyList<DateOnly> Next(DateTimeOffset nowUtc, int count)
    {
        var now = nowUtc.UtcDateTime;
        var result = new List<DateOnly>(count);
        int year = now.Year;
        int month = ((now.Month + 2) / 3) * 3; // this quarter's last month
        while (result.Count < count)
        {
            var expiry = LastFriday(year, month);
            if (expiry.ToDateTime(new TimeOnly(InstrumentTerms.ExpiryHourUtc, 0), DateTimeKind.Utc) > now)
            {
                result.Add(expiry);
            }

            month += 3;
            if (month > 12)
            {
                month -= 12;
                year++;
            }
        }

        return result;
    }
}
