using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

/// <summary>
/// Market data for Black–Scholes: spot S, volatility σ and the continuously compounded rate r
/// (no dividends), so that the forward is F = S·e^(rT).
/// </summary>
public readonly record struct SpotMarket(double Spot, double Volatility, double Rate);

/// <summary>
/// Black–Scholes as the special case of Black-76 with F = S·e^(rT) and D = e^(−rT): the value is
/// the same; Greeks are re-expressed with respect to the spot (docs/pricing.md):
/// Δ_S = Δ_F·e^(rT), Γ_S = Γ_F·e^(2rT), vega unchanged,
/// Θ_S = Θ_F − Δ_F·r·F (the forward drifts as time passes at fixed spot),
/// ρ_S = ρ_F + Δ_F·T·F (= K·T·e^(−rT)·Φ(d2) for a call).
/// </summary>
public static class BlackScholes
{
    public static OptionValuation Price(in OptionTerms terms, in SpotMarket market)
    {
        if (!(market.Spot > 0.0 && market.Spot < double.PositiveInfinity && double.IsFinite(market.Rate)))
        {
            return OptionValuation.NaN;
        }

        double growth = DeterministicMath.Exp(market.Rate * terms.YearsToExpiry);
        double forward = market.Spot * growth;
        var f = Black76.Evaluate(terms.Sign, forward, terms.Strike, terms.YearsToExpiry, market.Volatility, market.Rate);
        return new OptionValuation(
            Price: f.Price,
            Delta: f.Delta * growth,
            Gamma: f.Gamma * growth * growth,
            Vega: f.Vega,
            Theta: f.Theta - f.Delta * market.Rate * forward,
            Rho: f.Rho + f.Delta * terms.YearsToExpiry * forward);
    }
}
