using System.Globalization;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>
/// The only number syntax the Deribit API takes: <c>-?digits(.digits)?</c>, at most 19 integer and
/// 18 decimal digits. No exponent (<c>1e3</c>), no <c>NaN</c>/<c>Infinity</c>, no spaces, no signs
/// other than a leading minus, no hex, nothing that a parser would round. Whether the value fits
/// the venue's fixed-point type is checked afterwards, by the Core type's exact <c>TryFromDecimal</c>.
/// </summary>
public static class RpcValueText
{
    public const int MaxIntegerDigits = 19;
    public const int MaxFractionDigits = 18;

    public static bool TryParseDecimal(ReadOnlySpan<char> text, out decimal value, out string? problem)
    {
        value = 0;
        problem = null;
        int i = 0;
        if (i < text.Length && text[i] == '-')
        {
            i++;
        }

        int integerStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        int integerDigits = i - integerStart;
        int fractionDigits = 0;
        if (i < text.Length && text[i] == '.')
        {
            int fractionStart = ++i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            fractionDigits = i - fractionStart;
            if (fractionDigits == 0)
            {
                problem = "a decimal point must be followed by digits";
                return false;
            }
        }

        if (integerDigits == 0 || i != text.Length)
        {
            problem = i < text.Length && (text[i] == 'e' || text[i] == 'E')
                ? "exponent notation is not accepted; write the number out in plain decimals"
                : "not a plain decimal number";
            return false;
        }

        if (integerDigits > MaxIntegerDigits || fractionDigits > MaxFractionDigits)
        {
            problem = $"too many digits (at most {MaxIntegerDigits} before and {MaxFractionDigits} after the point)";
            return false;
        }

        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value))
        {
            problem = "out of range";
            return false;
        }

        return true;
    }
}
