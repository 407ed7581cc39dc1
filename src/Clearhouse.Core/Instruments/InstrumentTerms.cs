using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Instruments;

/// <summary>What kind of contract an instrument is. All are linear and cash-settled in USDC.</summary>
public enum InstrumentKind : byte
{
    Perpetual = 1,
    Future = 2,
    Option = 3,
}

/// <summary>The right an option gives its holder; <see cref="None"/> for futures and perpetuals.</summary>
public enum OptionRight : byte
{
    None = 0,
    Call = 1,
    Put = 2,
}

/// <summary>
/// The economic terms of a contract, independent of how it trades: the underlying, the kind,
/// the expiry date (futures and options expire at 08:00 UTC on that date, Deribit's convention)
/// and, for options, strike and right. One contract is one unit of the underlying.
/// </summary>
public sealed record InstrumentTerms
{
    /// <summary>The only settlement (and quote) currency: every contract is linear in USDC.</summary>
    public const string SettlementCurrency = "USDC";

    /// <summary>Hour of day (UTC) at which dated contracts expire.</summary>
    public const int ExpiryHourUtc = 8;

    private InstrumentTerms(string underlying, InstrumentKind kind, DateOnly? expiryDate, Price strike, OptionRight right)
    {
        Underlying = underlying;
        Kind = kind;
        ExpiryDate = expiryDate;
        Strike = strike;
        Right = right;
        Name = InstrumentName.Format(this);
    }

    /// <summary>Underlying currency code, upper-case letters and digits, e.g. <c>BTC</c>.</summary>
    public string Underlying { get; }

    public InstrumentKind Kind { get; }

    /// <summary>Expiry date for futures and options; null for perpetuals.</summary>
    public DateOnly? ExpiryDate { get; }

    /// <summary>Strike for options; zero otherwise.</summary>
    public Price Strike { get; }

    public OptionRight Right { get; }

    /// <summary>Expiry instant as Unix time in microseconds (08:00 UTC on the expiry date); 0 for perpetuals.</summary>
    public long ExpiryMicros => ExpiryDate is { } date ? UnixMicros.AtHour(date, ExpiryHourUtc) : 0;

    /// <summary>The Deribit-style linear name, e.g. <c>BTC_USDC-27MAR26-100000-C</c>.</summary>
    /// <remarks>Formatted once, in the constructor (names are read on every report and API answer); a function of the other fields, so equality is unaffected.</remarks>
    public string Name { get; }

    public static InstrumentTerms Perpetual(string underlying) => Create(underlying, InstrumentKind.Perpetual, null, Price.Zero, OptionRight.None);

    public static InstrumentTerms Future(string underlying, DateOnly expiry) => Create(underlying, InstrumentKind.Future, expiry, Price.Zero, OptionRight.None);

    public static InstrumentTerms Option(string underlying, DateOnly expiry, Price strike, OptionRight right) =>
        Create(underlying, InstrumentKind.Option, expiry, strike, right);

    /// <summary>Validating factory: throws <see cref="ArgumentException"/> with a reason when the terms are inconsistent.</summary>
    public static InstrumentTerms Create(string underlying, InstrumentKind kind, DateOnly? expiry, Price strike, OptionRight right)
    {
        if (!TryCreate(underlying, kind, expiry, strike, right, out var terms, out string? error))
        {
            throw new ArgumentException(error);
        }

        return terms;
    }

    public static bool TryCreate(string underlying, InstrumentKind kind, DateOnly? expiry, Price strike, OptionRight right, out InstrumentTerms terms, out string? error)
    {
        terms = null!;
        error = null;
        if (string.IsNullOrEmpty(underlying) || underlying.Length > 10 || !IsUpperAlphanumeric(underlying))
        {
            error = $"Underlying '{underlying}' must be 1 to 10 upper-case letters or digits.";
            return false;
        }

        switch (kind)
        {
            case InstrumentKind.Perpetual when expiry is null && strike == Price.Zero && right == OptionRight.None:
            case InstrumentKind.Future when expiry is not null && strike == Price.Zero && right == OptionRight.None:
            case InstrumentKind.Option when expiry is not null && strike.IsPositive && right != OptionRight.None:
                terms = new InstrumentTerms(underlying, kind, expiry, strike, right);
                return true;
            default:
                error = kind switch
                {
                    InstrumentKind.Perpetual => "A perpetual has no expiry, strike or option right.",
                    InstrumentKind.Future => "A future needs an expiry date and has no strike or option right.",
                    InstrumentKind.Option => "An option needs an expiry date, a positive strike and a right (call or put).",
                    _ => $"Unknown instrument kind {kind}.",
                };
                return false;
        }
    }

    private static bool IsUpperAlphanumeric(string s)
    {
        foreach (char c in s)
        {
            if (!(c is >= 'A' and <= 'Z' || c is >= '0' and <= '9'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Deterministic calendar arithmetic in Unix microseconds (no clock is read).</summary>
public static class UnixMicros
{
    public const long PerSecond = 1_000_000;
    public const long PerMinute = 60 * PerSecond;
    public const long PerHour = 60 * PerMinute;
    public const long PerDay = 24 * PerHour;

    private static readonly int UnixEpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;

    public static long AtHour(DateOnly date, int hourUtc) => checked(((long)(date.DayNumber - UnixEpochDayNumber) * PerDay) + (hourUtc * PerHour));

    public static DateOnly DateOf(long micros) => DateOnly.FromDayNumber(UnixEpochDayNumber + (int)FixedMath.Divide(micros, PerDay, Rounding.Floor));
}
