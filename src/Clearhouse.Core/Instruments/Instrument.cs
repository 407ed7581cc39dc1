using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Instruments;

/// <summary>Where an instrument is in its life.</summary>
public enum InstrumentState : byte
{
    /// <summary>Open for trading.</summary>
    Active = 1,

    /// <summary>Listed but not trading (e.g. paused by a guard); orders are rejected.</summary>
    Halted = 2,

    /// <summary>Expired and settled: archived, never trades again (the settlement issue drives this).</summary>
    Settled = 3,
}

/// <summary>The index price of one underlying, shared by every instrument on it.</summary>
public sealed class Underlying(int id, string name)
{
    /// <summary>1, 2, 3, … in the order underlyings first appear in listings.</summary>
    public int Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>Latest index price; zero until the first <c>SetIndexPrice</c>.</summary>
    public Price IndexPrice { get; internal set; }

    public long IndexUpdatedMicros { get; internal set; }
}

/// <summary>An open order and the instrument it rests in.</summary>
public readonly record struct OpenOrder(int InstrumentId, Matching.RestingOrder Order);

/// <summary>A listed instrument: its spec, its lifecycle state, its book and its open interest.</summary>
public sealed class Instrument
{
    internal Instrument(int id, InstrumentSpec spec, Underlying underlying, IOrderBook book, long listedMicros)
    {
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
    /// Mark price. For futures and perpetuals it is the index for now (the oracle issue adds a
    /// clamped basis from the book); zero means "no mark yet" and blocks trading.
    /// </summary>
    public Price MarkPrice => Underlying.IndexPrice;

    /// <summary>Sum of all long positions. Always equal to <see cref="ShortOpenInterest"/>.</summary>
    public Quantity LongOpenInterest { get; internal set; }

    /// <summary>Sum of the absolute sizes of all short positions.</summary>
    public Quantity ShortOpenInterest { get; internal set; }

    public Price LastTradePrice { get; internal set; }

    public long TradeCount { get; internal set; }
}
