using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;

namespace Clearhouse.Core.Instruments;

/// <summary>Where an instrument is in its life.</summary>
public enum InstrumentState : byte
{
    /// <summary>Open for trading.</summary>
    Active = 1,

    /// <summary>Listed but not trading (e.g. paused by a guard); orders are rejected.</summary>
    Halted = 2,

    /// <summary>Expired and settled: archived, never trades again, never marked (docs/settlement.md).</summary>
    Settled = 3,
}

/// <summary>The index price of one underlying, shared by every instrument on it.</summary>
public sealed class Underlying(int id, string name, IndexTwap twap)
{
    /// <summary>1, 2, 3, … in the order underlyings first appear in listings.</summary>
    public int Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>Latest index price; zero until the first <c>SetIndexPrice</c> or oracle quorum.</summary>
    public Price IndexPrice { get; internal set; }

    public long IndexUpdatedMicros { get; internal set; }

    /// <summary>The signed-report oracle, once configured; null while the index is set by the trusted command.</summary>
    public OracleState? Oracle { get; internal set; }

    /// <summary>Rolling time-weighted average of the index (for expiry settlement).</summary>
    public IndexTwap Twap { get; } = twap;

    /// <summary>The volatility surface in force, from the latest accepted signed update; null before the first.</summary>
    public Pricing.VolSurface? VolSurface { get; internal set; }

    /// <summary>The listing schedule the engine follows for this underlying; null when instruments are listed by hand (docs/settlement.md).</summary>
    public ListingSchedule? Listing { get; internal set; }

    /// <summary>Every instrument listed on this underlying, in id order (derived).</summary>
    internal List<Instrument> Listed { get; } = [];

    /// <summary>Accounts with a position or orders in an instrument on this underlying (derived): whom a mark update can affect.</summary>
    public Engine.ExposureIndex Exposure { get; } = new();

    /// <summary>Health at <paramref name="nowMicros"/>: <see cref="OracleStatus.Manual"/> without an oracle.</summary>
    public OracleStatus StatusAt(long nowMicros) => Oracle?.Aggregate(nowMicros, IndexPrice).Status ?? OracleStatus.Manual;
}

/// <summary>One funding payment of a perpetual.</summary>
/// <param name="TimeMicros">The funding time (a multiple of the funding interval).</param>
/// <param name="RatePpb">Rate paid by longs (negative: paid by shorts) for the interval, in ppb.</param>
/// <param name="AveragePremiumPpb">The average premium it was computed from, in ppb.</param>
/// <param name="IndexPrice">The index the payments were valued at.</param>
public readonly record struct FundingRecord(long TimeMicros, long RatePpb, long AveragePremiumPpb, Price IndexPrice);

/// <summary>An open order and the instrument it rests in.</summary>
public readonly record struct OpenOrder(int InstrumentId, Matching.RestingOrder Order);

/// <summary>A listed instrument: its spec, its lifecycle state, its book and its open interest.</summary>
public sealed class Instrument
{
    private readonly List<FundingRecord> fundingHistory = [];
    private double[] riskGrid = [];
    private readonly int markClampPpm;

    internal Instrument(int id, InstrumentSpec spec, Underlying underlying, IOrderBook book, long listedMicros, int markClampPpm)
    {
        this.markClampPpm = markClampPpm;
        Id = id;
        Spec = spec;
        Underlying = underlying;
        Book = book;
        ListedMicros = listedMicros;
        State = InstrumentState.Active;
    }

    public int Id { get; }

    public InstrumentSpec Spec { get; }

    public string Name => Spec.Name;

    public InstrumentKind Kind => Spec.Terms.Kind;

    public InstrumentState State { get; internal set; }

    public Underlying Underlying { get; }

    public IOrderBook Book { get; }

    public long ListedMicros { get; }

    /// <summary>
    /// Mark price: for futures and perpetuals the index plus a clamped, smoothed basis from the
    /// book (<see cref="Oracles.MarkPrice"/>); for options the index until option marks arrive from
    /// the volatility surface. Zero means "no mark yet" and blocks trading. Derived, never stored.
    /// </summary>
    public Price MarkPrice
    {
        get
        {
            var index = Underlying.IndexPrice;
            if (Kind == InstrumentKind.Option)
            {
                return OptionMark;
            }

            bool hasBid = Book.TryGetBestBid(out var bid);
            bool hasAsk = Book.TryGetBestAsk(out var ask);
            return Oracles.MarkPrice.Compute(index, BasisEmaMicros, hasBid, bid, hasAsk, ask, LastTradePrice, markClampPpm);
        }
    }

    /// <summary>
    /// An option's mark: Black-76 on the forward with σ(K, T) from the underlying's surface,
    /// recomputed every second of sequencer time (<c>Tick</c>), rounded down. Zero until the
    /// underlying has a surface and an index.
    /// </summary>
    public Price OptionMark { get; internal set; }

    /// <summary>The forward the option mark was last computed on (the same-expiry future's mark, else the index).</summary>
    public Price OptionForward { get; internal set; }

    /// <summary>Sequencer time of the last option re-mark: time to expiry for the mark and its scenario grid is measured from it.</summary>
    public long OptionMarkedMicros { get; internal set; }

    /// <summary>
    /// Portfolio-margin scenario P&amp;L of one long contract, in micro-USDC per scenario, for options:
    /// recomputed with the mark (<see cref="Margin.OptionRiskGrid"/>). Derived from the mark's inputs,
    /// never stored. Empty for futures and perpetuals, whose scenario P&amp;L is linear in the mark.
    /// </summary>
    public ReadOnlySpan<double> RiskGrid => riskGrid;

    internal double[] RiskGridStorage => riskGrid;

    internal void EnsureRiskGrid(int scenarios)
    {
        if (riskGrid.Length != scenarios)
        {
            riskGrid = new double[scenarios];
        }
    }

    /// <summary>Options that share expiry and strike share a group (calls and puts net for the short-option add-on); −1 otherwise. Derived.</summary>
    internal int StrikeGroup { get; set; } = -1;

    /// <summary>EMA of the clamped book basis (mid − index), in micro-USDC.</summary>
    public long BasisEmaMicros { get; internal set; }

    /// <summary>Sum of the premium samples (ppb) since the last funding.</summary>
    public long PremiumSumPpb { get; internal set; }

    /// <summary>Number of premium samples since the last funding.</summary>
    public int PremiumSamples { get; internal set; }

    /// <summary>Every funding payment so far, oldest first.</summary>
    public IReadOnlyList<FundingRecord> FundingHistory => fundingHistory;

    internal void AddFunding(FundingRecord record) => fundingHistory.Add(record);

    /// <summary>Sum of all long positions. Always equal to <see cref="ShortOpenInterest"/>.</summary>
    public Quantity LongOpenInterest { get; internal set; }

    /// <summary>Sum of the absolute sizes of all short positions.</summary>
    public Quantity ShortOpenInterest { get; internal set; }

    public Price LastTradePrice { get; internal set; }

    public long TradeCount { get; internal set; }

    /// <summary>Market-integrity guards: parameters, circuit-breaker halt and mark samples (docs/guards.md).</summary>
    public Guards.InstrumentGuardState Guard { get; } = new();

    /// <summary>The price the instrument settled at (the 30-minute index TWAP to expiry); zero until it settles (docs/settlement.md).</summary>
    public Price SettlementPrice { get; internal set; }

    /// <summary>Sequencer time of settlement; zero until it settles.</summary>
    public long SettledMicros { get; internal set; }
}
