using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Instruments;

public class InstrumentNameTests
{
    [Theory]
    [InlineData("BTC_USDC-PERPETUAL")]
    [InlineData("ETH_USDC-PERPETUAL")]
    [InlineData("BTC_USDC-27MAR26")]
    [InlineData("BTC_USDC-5AUG26")]
    [InlineData("BTC_USDC-27MAR26-100000-C")]
    [InlineData("ETH_USDC-31DEC27-3500-P")]
    [InlineData("XRP_USDC-30JUN26-0d625-C")]
    [InlineData("SOL_USDC-1JAN30-142d5-P")]
    public void Deribit_linear_names_round_trip(string name)
    {
        var terms = InstrumentName.Parse(name);
        Assert.Equal(name, terms.Name);
    }

    [Fact]
    public void A_perpetual_parses_with_no_expiry_or_strike()
    {
        var terms = InstrumentName.Parse("BTC_USDC-PERPETUAL");
        Assert.Equal("BTC", terms.Underlying);
        Assert.Equal(InstrumentKind.Perpetual, terms.Kind);
        Assert.Null(terms.ExpiryDate);
        Assert.Equal(0, terms.ExpiryMicros);
    }

    [Fact]
    public void An_option_name_carries_expiry_strike_and_right()
    {
        var terms = InstrumentName.Parse("BTC_USDC-27MAR26-100000-C");
        Assert.Equal(InstrumentKind.Option, terms.Kind);
        Assert.Equal(new DateOnly(2026, 3, 27), terms.ExpiryDate);
        Assert.Equal(Price.FromWhole(100_000), terms.Strike);
        Assert.Equal(OptionRight.Call, terms.Right);
    }

    [Fact]
    public void Dated_contracts_expire_at_0800_utc_on_their_date()
    {
        var terms = InstrumentTerms.Future("BTC", new DateOnly(2026, 3, 27));
        // 2026-03-27T08:00:00Z = 1774598400 seconds since the Unix epoch.
        Assert.Equal(1_774_598_400L * 1_000_000, terms.ExpiryMicros);
    }

    [Fact]
    public void Day_of_month_is_not_zero_padded_when_formatting()
    {
        Assert.Equal("BTC_USDC-5AUG26", InstrumentTerms.Future("BTC", new DateOnly(2026, 8, 5)).Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("BTC-PERPETUAL")]
    [InlineData("BTC_USD-PERPETUAL")]
    [InlineData("btc_USDC-PERPETUAL")]
    [InlineData("BTC_USDC-05AUG26")]
    [InlineData("BTC_USDC-31FEB26")]
    [InlineData("BTC_USDC-27XYZ26")]
    [InlineData("BTC_USDC-27MAR26-100000")]
    [InlineData("BTC_USDC-27MAR26-100000-X")]
    [InlineData("BTC_USDC-27MAR26-0-C")]
    [InlineData("BTC_USDC-27MAR26-0100-C")]
    [InlineData("BTC_USDC-27MAR26-1.5-C")]
    [InlineData("BTC_USDC-27MAR26-1d50-C")]
    [InlineData("_USDC-PERPETUAL")]
    public void Malformed_names_are_refused_with_a_reason(string name)
    {
        Assert.False(InstrumentName.TryParse(name, out _, out string? error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Terms_that_contradict_their_kind_are_refused()
    {
        Assert.False(InstrumentTerms.TryCreate("BTC", InstrumentKind.Future, null, Price.Zero, OptionRight.None, out _, out _));
        Assert.False(InstrumentTerms.TryCreate("BTC", InstrumentKind.Option, new DateOnly(2026, 3, 27), Price.Zero, OptionRight.Call, out _, out _));
        Assert.False(InstrumentTerms.TryCreate("BTC", InstrumentKind.Perpetual, new DateOnly(2026, 3, 27), Price.Zero, OptionRight.None, out _, out _));
    }
}
