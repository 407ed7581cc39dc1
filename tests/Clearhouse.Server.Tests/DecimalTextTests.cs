using Clearhouse.Server.Api;

namespace Clearhouse.Server.Tests;

public sealed class DecimalTextTests
{
    [Theory]
    [InlineData("95000", 6, "95000")]
    [InlineData("95000.5", 6, "95000.5")]
    [InlineData("0.000001", 6, "0.000001")]
    [InlineData("0.00000001", 8, "0.00000001")]
    [InlineData("-12.25", 6, "-12.25")]
    [InlineData("1.5000000000000000000000000000000", 6, "1.5")]
    [InlineData("000123.4500", 6, "123.45")]
    [InlineData("1e3", 6, "1000")]
    [InlineData("1.5E+2", 6, "150")]
    [InlineData("25e-2", 6, "0.25")]
    [InlineData("0", 6, "0")]
    [InlineData("0.000e999999999", 6, "0")]
    [InlineData("9223372036854.775807", 6, "9223372036854.775807")]
    public void Plain_decimals_parse_exactly(string text, int maxDecimals, string expected)
    {
        Assert.True(DecimalText.TryParse(text, maxDecimals, out decimal value, out _));
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("0.0000001", 6, GatewayReason.TooManyDecimals)]
    [InlineData("0.0000000001", 8, GatewayReason.TooManyDecimals)]
    [InlineData("1.23456789012345678901234567890123", 6, GatewayReason.TooManyDecimals)]
    [InlineData("1e-7", 6, GatewayReason.TooManyDecimals)]
    [InlineData("1e400", 6, GatewayReason.NumberOutOfRange)]
    [InlineData("1e99999999999999999999", 6, GatewayReason.NumberOutOfRange)]
    [InlineData("12345678901234567890", 6, GatewayReason.NumberOutOfRange)]
    [InlineData("NaN", 6, GatewayReason.MalformedDecimal)]
    [InlineData("Infinity", 6, GatewayReason.MalformedDecimal)]
    [InlineData("-Infinity", 6, GatewayReason.MalformedDecimal)]
    [InlineData("", 6, GatewayReason.MalformedDecimal)]
    [InlineData("-", 6, GatewayReason.MalformedDecimal)]
    [InlineData("+1", 6, GatewayReason.MalformedDecimal)]
    [InlineData(".5", 6, GatewayReason.MalformedDecimal)]
    [InlineData("5.", 6, GatewayReason.MalformedDecimal)]
    [InlineData("1e", 6, GatewayReason.MalformedDecimal)]
    [InlineData("1 000", 6, GatewayReason.MalformedDecimal)]
    [InlineData("1,5", 6, GatewayReason.MalformedDecimal)]
    [InlineData("0x1A", 6, GatewayReason.MalformedDecimal)]
    [InlineData("١٢", 6, GatewayReason.MalformedDecimal)]
    public void Anything_else_is_refused_with_its_reason(string text, int maxDecimals, GatewayReason expected)
    {
        Assert.False(DecimalText.TryParse(text, maxDecimals, out _, out var reason));
        Assert.Equal(expected, reason);
    }
}
