namespace Clearhouse.Core.Oracles;

/// <summary>Health of an underlying's index.</summary>
public enum OracleStatus : byte
{
    /// <summary>No oracle configured: the index comes from the trusted <c>SetIndexPrice</c> command.</summary>
    Manual = 0,

    /// <summary>Every registered reporter is fresh and agrees within the deviation band.</summary>
    Healthy = 1,

    /// <summary>A quorum is fresh and agrees, but some reporters are stale or outliers.</summary>
    Degraded = 2,

    /// <summary>No quorum: the index is frozen at its last value and the market is reduce-only.</summary>
    Stale = 3,
}

/// <summary>
/// How an underlying's index is formed from signed reports.
/// </summary>
/// <param name="Quorum">Fresh, agreeing reports needed to set the index (at least 1).</param>
/// <param name="StalenessMicros">A report older than this (by publish time) no longer counts, and a newer one is required to be younger than this to be accepted.</param>
/// <param name="MaxFutureMicros">How far a publish time may be ahead of the sequencer's time (clock skew allowance).</param>
/// <param name="DeviationBandPpm">A fresh report further than this from the median of all fresh reports is ignored (and counted).</param>
public sealed record OracleParameters(int Quorum, long StalenessMicros, long MaxFutureMicros, int DeviationBandPpm)
{
    /// <summary>Defaults: quorum 3, stale after 10 s, 1 s of clock skew, 5% band (Drift's trading staleness is ~5 s; ours tolerates a missed beat).</summary>
    public static OracleParameters Default { get; } = new(3, 10_000_000, 1_000_000, 50_000);

    public bool IsValid => Quorum >= 1 && Quorum <= 64 && StalenessMicros > 0 && MaxFutureMicros >= 0 && DeviationBandPpm is > 0 and < 1_000_000;
}
