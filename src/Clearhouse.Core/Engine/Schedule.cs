namespace Clearhouse.Core.Engine;

/// <summary>The last boundary (Unix µs) at which each clock-driven task ran; zero before the first tick.</summary>
public struct Schedule
{
    public long LastBasisMicros;
    public long LastTwapMicros;
    public long LastPremiumMicros;
    public long LastFundingMicros;
}
