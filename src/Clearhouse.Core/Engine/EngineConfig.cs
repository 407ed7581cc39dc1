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

    /// <summary>How far the mark of a future or perpetual may stray from the index, in ppm (default 5%).</summary>
    public int MarkClampPpm { get; init; } = 50_000;

    /// <summary>Interval of the book-basis samples feeding the mark's EMA (default 1 s).</summary>
    public long BasisSampleIntervalMicros { get; init; } = 1_000_000;

    /// <summary>EMA weight of each basis sample in ppm (default 6,667 ≈ 1/150: a 150-sample, 150 s EMA, as Hyperliquid's).</summary>
    public int BasisEmaAlphaPpm { get; init; } = 6_667;

    /// <summary>Interval of the funding premium samples (default 5 s).</summary>
    public long PremiumSampleIntervalMicros { get; init; } = 5_000_000;

    /// <summary>Funding is paid at every multiple of this (default hourly).</summary>
    public long FundingIntervalMicros { get; init; } = 3_600_000_000;

    /// <summary>Interest component per 8 hours in ppb (default 100,000 = 0.01%).</summary>
    public long FundingInterest8hPpb { get; init; } = 100_000;

    /// <summary>Clamp on (interest − premium) per 8 hours in ppb (default 500,000 = 0.05%).</summary>
    public long FundingBand8hPpb { get; init; } = 500_000;

    /// <summary>Cap on one interval's rate in ppb (default 40,000,000 = 4%).</summary>
    public long FundingCapPerIntervalPpb { get; init; } = 40_000_000;

    /// <summary>Notional the impact bid/ask must absorb, in USDC micros (default 10,000 USDC).</summary>
    public long ImpactNotionalMicros { get; init; } = 10_000L * 1_000_000;

    /// <summary>Interval of index samples for the TWAP (default 6 s, as Deribit's).</summary>
    public long TwapSampleIntervalMicros { get; init; } = 6_000_000;

    /// <summary>TWAP window in samples (default 300: 30 minutes at 6 s).</summary>
    public int TwapWindowSamples { get; init; } = 300;

    /// <summary>Standard option margin rates (Deribit's by default).</summary>
    public Margin.OptionMarginRates OptionMargin { get; init; } = Margin.OptionMarginRates.Deribit;

    /// <summary>Portfolio margin scenarios and add-ons (docs/margin.md).</summary>
    public Margin.PortfolioMarginParameters PortfolioMargin { get; init; } = Margin.PortfolioMarginParameters.Default;

    /// <summary>Liquidation fee to the insurance fund, in ppm of the notional a liquidation closes through the book (default 0.5%, dYdX's); never more than the account's remaining equity.</summary>
    public int LiquidationFeePpm { get; init; } = 5_000;

    /// <summary>A position worth at most this at the mark is closed in one step; larger ones in steps of <see cref="LiquidationStepPpm"/> (default 100,000 USDC, Hyperliquid's).</summary>
    public long LiquidationFullCloseNotionalMicros { get; init; } = 100_000L * 1_000_000;

    /// <summary>Fraction of a large position closed per liquidation step, in ppm (default 20%, Hyperliquid's).</summary>
    public int LiquidationStepPpm { get; init; } = 200_000;

    /// <summary>Most liquidation steps run after one command (each queued account at most one); the rest wait for the next command.</summary>
    public int MaxLiquidationStepsPerCommand { get; init; } = 16;

    /// <summary>Largest notional (at the mark) the insurance fund may hold in one instrument from takeovers (default 10,000,000 USDC).</summary>
    public long BackstopMaxNotionalPerInstrumentMicros { get; init; } = 10_000_000L * 1_000_000;

    /// <summary>The insurance fund's equity never goes below this through takeovers or deficits; beyond it, auto-deleveraging (default 0).</summary>
    public long InsuranceFloorMicros { get; init; }

    /// <summary>
    /// Which Black-76 kernel prices the option scenario grids. Not a venue rule: both paths give the
    /// same bits, so the choice never changes state (tested by comparing state hashes).
    /// </summary>
    public Margin.PricingPath PricingPath { get; init; } = Margin.PricingPath.Vectorized;

    /// <summary>
    /// Makes a book for each listed instrument. Defaults to the fast <see cref="ArrayOrderBook"/>;
    /// tests swap in <see cref="ReferenceOrderBook"/> and compare state hashes.
    /// </summary>
    public Func<IOrderBook> BookFactory { get; init; } = static () => new ArrayOrderBook();

    /// <summary>
    /// Market-integrity guards every new listing starts with (docs/guards.md); governance changes
    /// them per instrument with <see cref="SetInstrumentGuards"/>. Default: all off.
    /// </summary>
    public Guards.GuardParameters Guards { get; init; } = Clearhouse.Core.Guards.GuardParameters.Off;

    public static EngineConfig Default { get; } = new();
}
