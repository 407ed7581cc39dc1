using System.Globalization;

namespace Clearhouse.Server.Api;

/// <summary>
/// Strict, exact parsing of decimal numbers from JSON text: <c>-?digits(.digits)?([eE][+-]?digits)?</c>.
/// Unlike <see cref="decimal.Parse(string)"/> it never rounds: a value with more decimal places than
/// allowed, or more integer digits than any fixed-point type holds, is refused with a reason,
/// and NaN, infinity, hex, spaces, thousands separators and empty text are malformed.
/// </summary>
public static class DecimalText
{
    /// <summary>More integer digits than this cannot fit any fixed-point type (long.MaxValue has 19).</summary>
    private const int MaxIntegerDigits = 19;

    public static bool TryParse(ReadOnlySpan<char> text, int maxDecimals, out decimal value, out GatewayReason reason)
    {
        value = 0;
        reason = GatewayReason.MalformedDecimal;
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] == '-')
        {
            negative = true;
            i++;
        }

        int intStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        var intDigits = text[intStart..i];
        if (intDigits.IsEmpty)
        {
            return false;
        }

        ReadOnlySpan<char> fracDigits = default;
        if (i < text.Length && text[i] == '.')
        {
            int fracStart = ++i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            fracDigits = text[fracStart..i];
            if (fracDigits.IsEmpty)
            {
                return false;
            }
        }

        long exponent = 0;
        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
        {
            i++;
            bool negativeExponent = false;
            if (i < text.Length && (text[i] == '+' || text[i] == '-'))
            {
                negativeExponent = text[i] == '-';
                i++;
            }

            int expStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                // Saturate: anything past a million is out of every range anyway.
                exponent = Math.Min(exponent * 10 + (text[i] - '0'), 1_000_000);
                i++;
            }

            if (i == expStart)
            {
                return false;
            }

            exponent = negativeExponent ? -exponent : exponent;
        }

        if (i != text.Length)
        {
            return false;
        }

        // value = digits × 10^(−scale), with digits free of leading zeros and trailing zeros.
        string digits = string.Concat(intDigits, fracDigits).TrimStart('0');
        long scale = fracDigits.Length - exponent;
        if (digits.Length == 0)
        {
            value = 0m;
            reason = default;
            return true;
        }

        int trailing = digits.Length - digits.TrimEnd('0').Length;
        digits = digits[..^trailing];
        scale -= trailing;

        if (scale > maxDecimals)
        {
            reason = GatewayReason.TooManyDecimals;
            return false;
        }

        if (digits.Length - scale > MaxIntegerDigits)
        {
            reason = GatewayReason.NumberOutOfRange;
            return false;
        }

        // At most 19 integer digits and maxDecimals (≤ 8) decimals: well within decimal's 28 digits, so exact.
        string normalized = scale >= 0
            ? (scale >= digits.Length ? "0." + new string('0', (int)scale - digits.Length) + digits : digits.Insert(digits.Length - (int)scale, "."))
            : digits + new string('0', (int)-scale);
        value = decimal.Parse(normalized.TrimEnd('.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (negative)
        {
            value = -value;
        }

        reason = default;
        return true;
    }
}
