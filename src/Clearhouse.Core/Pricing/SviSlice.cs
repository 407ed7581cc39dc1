namespace Clearhouse.Core.Pricing;

/// <summary>
/// Raw SVI (Gatheral, 2004) for one expiry: total implied variance as a function of log-moneyness
/// k = ln(K/F), w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)). Only IEEE arithmetic and √, so
/// deterministic. Validation lives in <see cref="VolSurface"/>.
/// </summary>
public readonly record struct SviSlice(double A, double B, double Rho, double M, double Sigma)
{
    /// <summary>w(k).</summary>
    public double TotalVariance(double k)
    {
        double d = k - M;
        return A + B * (Rho * d + Math.Sqrt(d * d + Sigma * Sigma));
    }

    /// <summary>w'(k) = b·(ρ + (k − m)/√((k − m)² + σ²)).</summary>
    public double Slope(double k)
    {
        double d = k - M;
        return B * (Rho + d / Math.Sqrt(d * d + Sigma * Sigma));
    }

    /// <summary>w''(k) = b·σ²/((k − m)² + σ²)^(3/2).</summary>
    public double Curvature(double k)
    {
        double d = k - M;
        double q = d * d + Sigma * Sigma;
        return B * Sigma * Sigma / (q * Math.Sqrt(q));
    }

    /// <summary>Minimum of w over k: a + b·σ·√(1 − ρ²) (attained at k = m − ρσ/√(1 − ρ²)).</summary>
    public double MinimumVariance => A + B * Sigma * Math.Sqrt(1.0 - Rho * Rho);

    /// <summary>
    /// Gatheral–Jacquier's density factor (Arbitrage-free SVI volatility surfaces, 2014, eq. 2.1):
    /// g(k) = (1 − k·w'/(2w))² − (w'²/4)·(1/w + 1/4) + w''/2. The risk-neutral density of the
    /// expiry is non-negative (no butterfly arbitrage) where g(k) ≥ 0 and w(k) &gt; 0.
    /// </summary>
    public double ButterflyDensityFactor(double k)
    {
        double w = TotalVariance(k);
        double w1 = Slope(k);
        double w2 = Curvature(k);
        double a = 1.0 - k * w1 / (2.0 * w);
        return a * a - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2;
    }
}
