using Clearhouse.Server.Genesis;

namespace Clearhouse.Server.Tests;

public sealed class QuarterlyExpiriesTests
{
    [Theory]
    [InlineData(2026, 3, "2026-03-27")]
    [InlineData(2026, 6, "2026-06-26")]
    [InlineData(2026, 9, "2026-09-25")]
    [InlineData(2026, 12, "2026-12-25")]
    [InlineData(2027, 3, "2027-03-26")]
    [InlineData(2024, 5, "2024-05-31")]
    public void The_last_Friday_of_a_month_is_found(int year, int month, string expected) =>
        Assert.Equal(DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), QuarterlyExpiries.LastFriday(year, month));

    [Theory]
    [InlineData("2026-11-25T14:00:00Z", "2026-12-25", "2027-03-26")]
    [InlineData("2026-01-01T00:00:00Z", "2026-03-27", "2026-06-26")]
    [InlineData("2026-03-27T07:59:59Z", "2026-03-27", "2026-06-26")]
    [InlineData("2026-03-27T08:00:00Z", "2026-06-26", "2026-09-25")]
    [InlineData("2026-12-31T23:00:00Z", "2027-03-26", "2027-06-25")]
    public void The_next_two_quarterlies_are_those_not_yet_expired_at_08_00_UTC(string now, string first, string second)
    {
        var expiries = QuarterlyExpiries.Next(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), 2);
        Assert.Equal([DateOnly.Parse(first, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(second, System.Globalization.CultureInfo.InvariantCulture)], expiries);
    }

    [Fact]
    public void Genesis_lists_a_perpetual_two_futures_and_options_on_the_first_quarterly_per_underlying_and_names_them_like_Deribit()
    {
        var commands = GenesisPlan.Commands(GenesisPlan.Default, DateTimeOffset.Parse("2026-11-25T14:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var names = commands.OfType<Core.Engine.ListInstrument>().Select(c => c.Spec.Name).ToList();
        Assert.Equal(["BTC_USDC-PERPETUAL", "BTC_USDC-25DEC26", "BTC_USDC-26MAR27", "ETH_USDC-PERPETUAL", "ETH_USDC-25DEC26", "ETH_USDC-26MAR27"], names.Where(n => !n.EndsWith("-C", StringComparison.Ordinal) && !n.EndsWith("-P", StringComparison.Ordinal)));
        Assert.Equal(
            ["BTC_USDC-25DEC26-85000-C", "BTC_USDC-25DEC26-85000-P", "BTC_USDC-25DEC26-90000-C", "BTC_USDC-25DEC26-90000-P", "BTC_USDC-25DEC26-95000-C", "BTC_USDC-25DEC26-95000-P",
             "BTC_USDC-25DEC26-100000-C", "BTC_USDC-25DEC26-100000-P", "BTC_USDC-25DEC26-105000-C", "BTC_USDC-25DEC26-105000-P"],
            names.Where(n => n.StartsWith("BTC_USDC-25DEC26-", StringComparison.Ordinal)));
        Assert.Equal(10, names.Count(n => n.StartsWith("ETH_USDC-25DEC26-", StringComparison.Ordinal)));
        Assert.Equal(2, commands.OfType<Core.Engine.SetIndexPrice>().Count());
    }
}
