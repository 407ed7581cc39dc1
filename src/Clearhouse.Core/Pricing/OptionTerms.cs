using Clearhouse.Core.Instruments;

namespace Clearhouse.Core.Pricing;

/// <summary>
/// What a European option is, for pricing: call or put, strike (USDC per unit of the underlying,
/// as a double) and time to expiry in years of 365 days, computed by the caller (see
/// <see cref="YearFraction"/>). Market data (forward, volatility, rate) is separate:
/// <see cref="BlackMarket"/>; the pricer takes both (<see cref="Black76.Price"/>).
/// </summary>
public readonly struct OptionTerms : IEquatable<OptionTerms>
{
    internal OptionTerms(OptionRight right, double strike, double yearsToExpiry)
    {
        Right = right;
        Strike = strike;
        YearsToExpiry = yearsToExpiry;
    }

    public OptionRight Right { get; }

    /// <summary>Strike, positive and finite.</summary>
    public double Strike { get; }

    /// <summary>Time to expiry in years of 365 days; 0 at or after expiry (the option is worth its intrinsic value).</summary>
    public double YearsToExpiry { get; }

    /// <summary>+1 for a call, −1 for a put: the θ of the Black formula.</summary>
    internal double Sign => Right == OptionRight.Call ? 1.0 : -1.0;

    /// <summary>Validating factory: a call or put, strike positive and finite, years finite and not negative.</summary>
    public static OptionTerms Create(OptionRight right, double strike, double yearsToExpiry)
    {
        if (right is not (OptionRight.Call or OptionRight.Put))
        {
            throw new ArgumentOutOfRangeException(nameof(right), right, "An option is a call or a put.");
        }

        if (!(strike > 0.0 && strike < double.PositiveInfinity))
        {
            throw new ArgumentOutOfRangeException(nameof(strike), strike, "The strike must be positive and finite.");
        }

        if (!(yearsToExpiry >= 0.0 && yearsToExpiry < double.PositiveInfinity))
        {
            throw new ArgumentOutOfRangeException(nameof(yearsToExpiry), yearsToExpiry, "The time to expiry must be finite and not negative.");
        }

        return new OptionTerms(right, strike, yearsToExpiry);
    }

    public static OptionTerms Call(double strike, double yearsToExpiry) => Create(OptionRight.Call, strike, yearsToExpiry);

    public static OptionTerms Put(double strike, double yearsToExpiry) => Create(OptionRight.Put, strike, yearsToExpiry);

    public bool Equals(OptionTerms other) =>
        Right == other.Right && Strike.Equals(other.Strike) && YearsToExpiry.Equals(other.YearsToExpiry);

    public override bool Equals(object? obj) => obj is OptionTerms other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Right, Strike, YearsToExpiry);

    public static bool operator ==(OptionTerms left, OptionTerms right) => left.Equals(right);

    public static bool operator !=(OptionTerms left, OptionTerms right) => !left.Equals(right);

    public override string ToString() => FormattableString.Invariant($"{Right} K={Strike} T={YearsToExpiry}y");
}

/// <summary>
/// Market data for Black-76: the forward F of the underlying for the option's expiry, the
/// annualised Black volatility σ (0.8 = 80%), and the continuously compounded rate r used to
/// discount the payoff, D = e^(−rT). For the linear USDC options of this venue r is usually 0.
/// </summary>
public readonly struct BlackMarket : IEquatable<BlackMarket>
{
    internal BlackMarket(double forward, double volatility, double rate)
    {
        Forward = forward;
        Volatility = volatility;
        Rate = rate;
    }

    /// <summary>Forward price, positive and finite.</summary>
    public double Forward { get; }

    /// <summary>Annualised volatility, finite and not negative (0 prices at intrinsic value).</summary>
    public double Volatility { get; }

    /// <summary>Continuously compounded discount rate per year, finite (may be negative).</summary>
    public double Rate { get; }

    public static BlackMarket Create(double forward, double volatility, double rate = 0.0)
    {
        if (!(forward > 0.0 && forward < double.PositiveInfinity))
        {
            throw new ArgumentOutOfRangeException(nameof(forward), forward, "The forward must be positive and finite.");
        }

        if (!(volatility >= 0.0 && volatility < double.PositiveInfinity))
        {
            throw new ArgumentOutOfRangeException(nameof(volatility), volatility, "The volatility must be finite and not negative.");
        }

        if (!double.IsFinite(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The rate must be finite.");
        }

        return new BlackMarket(forward, volatility, rate);
    }

    public bool Equals(BlackMarket other) =>
        Forward.Equals(other.Forward) && Volatility.Equals(other.Volatility) && Rate.Equals(other.Rate);

    public override bool Equals(object? obj) => obj is BlackMarket other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Forward, Volatility, Rate);

    public static bool operator ==(BlackMarket left, BlackMarket right) => left.Equals(right);

    public static bool operator !=(BlackMarket left, BlackMarket right) => !left.Equals(right);

    public override string ToString() => FormattableString.Invariant($"F={Forward} σ={Volatility} r={Rate}");
}

/// <summary>
/// An option's value and sensitivities, all for one option on one unit of the underlying, in the
/// settlement currency (docs/pricing.md, "Greeks conventions"):
/// <list type="bullet">
/// <item><see cref="Price"/>: present value, D·E[payoff].</item>
/// <item><see cref="Delta"/> = ∂V/∂F and <see cref="Gamma"/> = ∂²V/∂F² (per unit of the forward).</item>
/// <item><see cref="Vega"/> = ∂V/∂σ per 1.00 of volatility (σ from 0.80 to 1.80);
/// <see cref="VegaPerVolPoint"/> is per 1% (0.01) of volatility, the figure Deribit shows.</item>
/// <item><see cref="Theta"/> = ∂V/∂t per year of calendar time passing (F, σ, r held);
/// <see cref="ThetaPerDay"/> = Theta/365, the figure Deribit shows.</item>
/// <item><see cref="Rho"/> = ∂V/∂r per 1.00 (100%) of rate, F held: −T·V for Black-76.</item>
/// </list>
/// </summary>
public readonly record struct OptionValuation(double Price, double Delta, double Gamma, double Vega, double Theta, double Rho)
{
    /// <summary>All NaN: what the non-throwing paths return for invalid inputs.</summary>
    public static OptionValuation NaN => new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>Vega per one volatility point (0.01), Deribit's display convention.</summary>
    public double VegaPerVolPoint => Vega / 100.0;

    /// <summary>Theta per calendar day (year / 365), Deribit's display convention.</summary>
    public double ThetaPerDay => Theta / YearFraction.DaysPerYear;
}
