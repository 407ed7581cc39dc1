using System.Globalization;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Instruments;

/// <summary>
/// Deribit's naming for linear USDC contracts: <c>BTC_USDC-PERPETUAL</c>, <c>BTC_USDC-27MAR26</c>
/// (day not zero-padded: <c>5AUG26</c>), <c>BTC_USDC-27MAR26-100000-C</c>. A fractional strike
/// writes its decimal point as <c>d</c> (<c>XRP_USDC-30JUN26-0d625-C</c>), as Deribit does.
/// <see cref="Format"/> and <see cref="TryParse"/> round-trip.
/// </summary>
public static class InstrumentName
{
    private static readonly string[] Months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

    public static string Format(InstrumentTerms terms)
    {
        string prefix = terms.Underlying + "_" + InstrumentTerms.SettlementCurrency + "-";
        return terms.Kind switch
        {
            InstrumentKind.Perpetual => prefix + "PERPETUAL",
            InstrumentKind.Future => prefix + FormatDate(terms.ExpiryDate!.Value),
            _ => prefix + FormatDate(terms.ExpiryDate!.Value) + "-" + FormatStrike(terms.Strike) + (terms.Right == OptionRight.Call ? "-C" : "-P"),
        };
    }

    public static InstrumentTerms Parse(string name) =>
        TryParse(name, out var terms, out string? error) ? terms : throw new FormatException(error);

    public static bool TryParse(string? name, out InstrumentTerms terms, out string? error)
    {
        terms = null!;
        error = null;
        if (string.IsNullOrEmpty(name))
        {
            error = "The instrument name is empty.";
            return false;
        }

        string[] parts = name.Split('-');
        string suffix = "_" + InstrumentTerms.SettlementCurrency;
        if (parts.Length is < 2 or > 4 || !parts[0].EndsWith(suffix, StringComparison.Ordinal) || parts[0].Length == suffix.Length)
        {
            error = $"'{name}' is not a linear USDC instrument name such as BTC_USDC-PERPETUAL, BTC_USDC-27MAR26 or BTC_USDC-27MAR26-100000-C.";
            return false;
        }

        string underlying = parts[0][..^suffix.Length];
        if (parts.Length == 2 && parts[1] == "PERPETUAL")
        {
            return InstrumentTerms.TryCreate(underlying, InstrumentKind.Perpetual, null, Price.Zero, OptionRight.None, out terms, out error);
        }

        if (!TryParseDate(parts[1], out DateOnly expiry))
        {
            error = $"'{parts[1]}' in '{name}' is not an expiry date like 27MAR26.";
            return false;
        }

        if (parts.Length == 2)
        {
            return InstrumentTerms.TryCreate(underlying, InstrumentKind.Future, expiry, Price.Zero, OptionRight.None, out terms, out error);
        }

        if (parts.Length != 4 || !TryParseStrike(parts[2], out Price strike) || parts[3] is not ("C" or "P"))
        {
            error = $"'{name}' is not an option name such as BTC_USDC-27MAR26-100000-C.";
            return false;
        }

        var right = parts[3] == "C" ? OptionRight.Call : OptionRight.Put;
        return InstrumentTerms.TryCreate(underlying, InstrumentKind.Option, expiry, strike, right, out terms, out error);
    }

    public static string FormatDate(DateOnly date) =>
        date.Day.ToString(CultureInfo.InvariantCulture) + Months[date.Month - 1] + (date.Year % 100).ToString("00", CultureInfo.InvariantCulture);

    private static bool TryParseDate(string text, out DateOnly date)
    {
        date = default;
        if (text.Length is < 6 or > 7)
        {
            return false;
        }

        int dayLength = text.Length - 5;
        if (!int.TryParse(text.AsSpan(0, dayLength), NumberStyles.None, CultureInfo.InvariantCulture, out int day) || text[0] == '0')
        {
            return false;
        }

        int month = Array.IndexOf(Months, text.Substring(dayLength, 3)) + 1;
        if (month == 0 || !int.TryParse(text.AsSpan(dayLength + 3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out int year))
        {
            return false;
        }

        if (day > DateTime.DaysInMonth(2000 + year, month))
        {
            return false;
        }

        date = new DateOnly(2000 + year, month, day);
        return true;
    }

    private static string FormatStrike(Price strike) =>
        strike.ToDecimal().ToString("0.######", CultureInfo.InvariantCulture).Replace('.', 'd');

    private static bool TryParseStrike(string text, out Price strike)
    {
        strike = default;
        if (text.Length == 0 || text.Contains('.') || text[0] == '0' && text.Length > 1 && text[1] != 'd')
        {
            return false;
        }

        return decimal.TryParse(text.Replace('d', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value)
            && value > 0
            && Price.TryFromDecimal(value, out strike)
            && FormatStrike(strike) == text;
    }
}
