using System.Collections.Immutable;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Pricing;

/// <summary>Why a published surface was refused. Stable codes: never renumber.</summary>
public enum VolSurfaceRejectReason : byte
{
    None = 0,
    NoSlices = 1,
    UnderlyingMissing = 2,

    /// <summary>Expiries are not strictly increasing.</summary>
    ExpiriesNotIncreasing = 3,

    /// <summary>b &lt; 0.</summary>
    NegativeWingSlope = 10,

    /// <summary>|ρ| ≥ 1.</summary>
    SkewOutOfRange = 11,

    /// <summary>σ ≤ 0.</summary>
    CurvatureNotPositive = 12,

    /// <summary>a + b·σ·√(1 − ρ²) &lt; 0: the smile dips below zero total variance.</summary>
    NegativeVariance = 13,

    /// <summary>b·(1 + |ρ|) &gt; 2: wings steeper than Roger Lee's moment bound allows.</summary>
    WingsTooSteep = 14,

    /// <summary>Gatheral–Jacquier g(k) &lt; 0 somewhere on the check grid: a negative density (butterfly arbitrage).</summary>
    ButterflyArbitrage = 20,

    /// <summary>Total variance decreases from one expiry to the next at some k on the check grid (calendar arbitrage).</summary>
    CalendarArbitrage = 21,
}

/// <summary>
/// A validated SVI volatility surface for one underlying (docs/pricing.md, "Volatility surface").
/// σ(K, T) comes from total variance w(k, T) at k = ln(K/F):
/// <list type="bullet">
/// <item>at a slice's expiry, that slice's SVI;</item>
/// <item>between two slices, linear in total variance at fixed k, with the weight measured in
/// time: w = w₁ + (E − E₁)/(E₂ − E₁)·(w₂ − w₁) (E in exact integer microseconds), which keeps
/// w non-decreasing in T when the slices are calendar-free;</item>
/// <item>before the first live slice and after the last one, constant implied volatility:
/// w = w_edge·T/T_edge;</item>
/// <item>slices already expired at the query time are ignored.</item>
/// </list>
/// Validation (all must hold, else <see cref="VolSurfaceRejectReason"/>): b ≥ 0, |ρ| &lt; 1,
/// σ &gt; 0, a + bσ√(1 − ρ²) ≥ 0, b(1 + |ρ|) ≤ 2 (Lee), Gatheral–Jacquier g(k) ≥ 0 and
/// w(k) non-decreasing across expiries, both on the grid k = −3.00, −2.99, …, 3.00 (601 points).
/// </summary>
public sealed class VolSurface
{
    /// <summary>The check grid: k from <see cref="GridMin"/> to <see cref="GridMax"/> in steps of 1/100.</summary>
    public const double GridMin = -3.0;

    public const double GridMax = 3.0;

    public const int GridPoints = 601;

    private readonly SviSlice[] _slices;
    private readonly long[] _expiries;

    private VolSurface(VolSurfaceParameters parameters, SviSlice[] slices, long[] expiries)
    {
        Parameters = parameters;
        _slices = slices;
        _expiries = expiries;
    }

    /// <summary>The data the surface was built from, exactly as published.</summary>
    public VolSurfaceParameters Parameters { get; }

    public string Underlying => Parameters.Underlying;

    public int SliceCount => _slices.Length;

    public SviSlice Slice(int index) => _slices[index];

    public long SliceExpiryMicros(int index) => _expiries[index];

    /// <summary>k on the check grid: GridMin + j/100, computed the same way everywhere.</summary>
    public static double GridPoint(int j) => GridMin + j / 100.0;

    public static VolSurface Create(VolSurfaceParameters parameters)
    {
        if (!TryCreate(parameters, out var surface, out var reason))
        {
            throw new ArgumentException($"The volatility surface is invalid: {reason}.", nameof(parameters));
        }

        return surface;
    }

    public static bool TryCreate(VolSurfaceParameters parameters, out VolSurface surface, out VolSurfaceRejectReason reason)
    {
        surface = null!;
        reason = Validate(parameters);
        if (reason != VolSurfaceRejectReason.None)
        {
            return false;
        }

        var p = parameters.Slices;
        var slices = new SviSlice[p.Length];
        var expiries = new long[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            slices[i] = p[i].ToSlice();
            expiries[i] = p[i].ExpiryMicros;
        }

        surface = new VolSurface(parameters, slices, expiries);
        return true;
    }

    /// <summary>Checks a published surface; <see cref="VolSurfaceRejectReason.None"/> when it is usable.</summary>
    public static VolSurfaceRejectReason Validate(VolSurfaceParameters parameters)
    {
        if (string.IsNullOrEmpty(parameters.Underlying))
        {
            return VolSurfaceRejectReason.UnderlyingMissing;
        }

        var p = parameters.Slices;
        if (p.IsDefaultOrEmpty)
        {
            return VolSurfaceRejectReason.NoSlices;
        }

        SviSlice previous = default;
        for (int i = 0; i < p.Length; i++)
        {
            if (i > 0 && p[i].ExpiryMicros <= p[i - 1].ExpiryMicros)
            {
                return VolSurfaceRejectReason.ExpiriesNotIncreasing;
            }

            var reason = ValidateSlice(p[i]);
            if (reason != VolSurfaceRejectReason.None)
            {
                return reason;
            }

            var slice = p[i].ToSlice();
            if (i > 0)
            {
                for (int j = 0; j < GridPoints; j++)
                {
                    double k = GridPoint(j);
                    if (slice.TotalVariance(k) < previous.TotalVariance(k))
                    {
                        return VolSurfaceRejectReason.CalendarArbitrage;
                    }
                }
            }

            previous = slice;
        }

        return VolSurfaceRejectReason.None;
    }

    /// <summary>The per-slice checks: parameter ranges, no negative variance, Lee's wing bound, g(k) ≥ 0 on the grid.</summary>
    public static VolSurfaceRejectReason ValidateSlice(SviSliceParameters parameters)
    {
        if (parameters.BPpb < 0)
        {
            return VolSurfaceRejectReason.NegativeWingSlope;
        }

        if (parameters.RhoPpb <= -1_000_000_000 || parameters.RhoPpb >= 1_000_000_000)
        {
            return VolSurfaceRejectReason.SkewOutOfRange;
        }

        if (parameters.SigmaPpb <= 0)
        {
            return VolSurfaceRejectReason.CurvatureNotPositive;
        }

        var slice = parameters.ToSlice();
        if (!(slice.MinimumVariance >= 0.0))
        {
            return VolSurfaceRejectReason.NegativeVariance;
        }

        if (slice.B * (1.0 + Math.Abs(slice.Rho)) > 2.0)
        {
            return VolSurfaceRejectReason.WingsTooSteep;
        }

        for (int j = 0; j < GridPoints; j++)
        {
            double k = GridPoint(j);
            if (slice.TotalVariance(k) > 0.0 && !(slice.ButterflyDensityFactor(k) >= 0.0))
            {
                return VolSurfaceRejectReason.ButterflyArbitrage;
            }
        }

        return VolSurfaceRejectReason.None;
    }

    /// <summary>
    /// Total implied variance w(k, T) for the expiry <paramref name="expiryMicros"/> seen at
    /// <paramref name="nowMicros"/>; 0 at or after expiry, NaN when every slice has expired.
    /// </summary>
    public double TotalVariance(double logMoneyness, long expiryMicros, long nowMicros)
    {
        if (expiryMicros <= nowMicros)
        {
            return 0.0;
        }

        int first = 0;
        while (first < _expiries.Length && _expiries[first] <= nowMicros)
        {
            first++;
        }

        if (first == _expiries.Length)
        {
            return double.NaN;
        }

        int last = _expiries.Length - 1;
        if (expiryMicros <= _expiries[first] || expiryMicros >= _expiries[last])
        {
            int edge = expiryMicros <= _expiries[first] ? first : last;
            double years = YearFraction.Between(nowMicros, expiryMicros);
            double edgeYears = YearFraction.Between(nowMicros, _expiries[edge]);
            double w = _slices[edge].TotalVariance(logMoneyness);
            return expiryMicros == _expiries[edge] ? w : w * (years / edgeYears);
        }

        int i = first;
        while (_expiries[i + 1] < expiryMicros)
        {
            i++;
        }

        double w1 = _slices[i].TotalVariance(logMoneyness);
        double w2 = _slices[i + 1].TotalVariance(logMoneyness);
        double weight = (double)checked(expiryMicros - _expiries[i]) / checked(_expiries[i + 1] - _expiries[i]);
        return w1 + weight * (w2 - w1);
    }

    /// <summary>
    /// Black implied volatility σ(K, T) = √(w(k, T)/T) with k = ln(K/F) (deterministic Ln); 0 at or
    /// after expiry, NaN when no live slice exists.
    /// </summary>
    public double Volatility(double strike, double forward, long expiryMicros, long nowMicros)
    {
        double years = YearFraction.Between(nowMicros, expiryMicros);
        if (!(years > 0.0))
        {
            return 0.0;
        }

        double k = DeterministicMath.Ln(strike / forward);
        double w = TotalVariance(k, expiryMicros, nowMicros);
        return Math.Sqrt(w / years);
    }
}
