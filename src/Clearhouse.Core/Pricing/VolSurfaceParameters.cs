using System.Collections.Immutable;

namespace Clearhouse.Core.Pricing;

/// <summary>
/// One expiry of a volatility surface as published data: Gatheral's raw SVI parameters in
/// integer parts per billion (1e-9), so that a signed oracle update carries them exactly and every
/// node decodes the same doubles (one correctly rounded division each). Total implied variance at
/// log-moneyness k = ln(K/F) is w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)), with w = σ_impl²·T.
/// </summary>
/// <param name="ExpiryMicros">Expiry instant, Unix microseconds (08:00 UTC on the expiry date for listed options).</param>
/// <param name="APpb">a: level of total variance, ×1e-9 (may be negative as long as the minimum variance is not).</param>
/// <param name="BPpb">b: slope of the wings, ×1e-9, not negative.</param>
/// <param name="RhoPpb">ρ: skew, ×1e-9, strictly between −1e9 and 1e9.</param>
/// <param name="MPpb">m: log-moneyness of the smile's vertex, ×1e-9.</param>
/// <param name="SigmaPpb">σ: curvature at the vertex, ×1e-9, positive.</param>
public readonly record struct SviSliceParameters(long ExpiryMicros, long APpb, long BPpb, long RhoPpb, long MPpb, long SigmaPpb)
{
    public const double PpbScale = 1e9;

    /// <summary>The decoded parameters (each integer divided by 1e9, correctly rounded).</summary>
    public SviSlice ToSlice() => new(APpb / PpbScale, BPpb / PpbScale, RhoPpb / PpbScale, MPpb / PpbScale, SigmaPpb / PpbScale);
}

/// <summary>
/// A volatility surface for one underlying as an oracle publishes it: SVI slices in increasing
/// order of expiry. This is the payload a signed oracle update command carries; validation
/// (<see cref="VolSurface.TryCreate"/>) happens when it is applied.
/// </summary>
/// <param name="Underlying">Underlying code, e.g. <c>BTC</c>.</param>
/// <param name="PublishedMicros">When the surface was computed (Unix microseconds).</param>
/// <param name="Slices">One slice per expiry, strictly increasing expiries.</param>
public sealed record VolSurfaceParameters(string Underlying, long PublishedMicros, ImmutableArray<SviSliceParameters> Slices);
