using Clearhouse.Core.Matching;

namespace Clearhouse.Core.Engine;

/// <summary>Venue-wide parameters fixed at genesis.</summary>
public sealed record EngineConfig
{
    /// <summary>Most open orders one account may have across all instruments.</summary>
    public int MaxOpenOrdersPerAccount { get; init; } = 256;

    /// <summary>Largest notional one order may have, in USDC micros (default 1e11 USDC).</summary>
    public long MaxOrderNotionalMicros { get; init; } = 100_000_000_000L * 1_000_000;

    /// <summary>Largest single deposit or withdrawal, in USDC micros (default 1e10 USDC).</summary>
    public long MaxTransferMicros { get; init; } = 10_000_000_000L * 1_000_000;

    /// <summary>Highest index price accepted, in USDC micros (default 1e8 USDC).</summary>
    public long MaxIndexPriceMicros { get; init; } = 100_000_000L * 1_000_000;

    /// <summary>
    /// Makes a book for each listed instrument. Defaults to the fast <see cref="ArrayOrderBook"/>;
    /// tests swap in <see cref="ReferenceOrderBook"/> and compare state hashes.
    /// </summary>
    public Func<IOrderBook> BookFactory { get; init; } = static () => new ArrayOrderBook();

    public static EngineConfig Default { get; } = new();
}
