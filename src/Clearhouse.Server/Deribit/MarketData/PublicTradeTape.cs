using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>
/// One public trade as the tape keeps it: a small struct, no strings, so that recording it on the
/// engine thread costs a copy. <see cref="TradeSeq"/> counts the instrument's trades from 1
/// (Deribit's <c>trade_seq</c>); <see cref="TickDirection"/> is Deribit's 0 plus tick, 1 zero-plus
/// tick, 2 minus tick, 3 zero-minus tick; <see cref="Direction"/> is the taker's side.
/// </summary>
public readonly record struct PublicTrade(
    long TradeSeq,
    long TradeId,
    long TimestampMicros,
    Price Price,
    Quantity Amount,
    Side Direction,
    byte TickDirection,
    Price MarkPrice,
    Price IndexPrice,
    bool Liquidation);

/// <summary>
/// The public trade history and book change counters of every instrument, fed by the sequencer
/// (<see cref="ICommandObserver"/>). Engine-thread only: it is written in <see cref="OnApplied"/>
/// and read inside <see cref="Sequencer.QueryAsync{T}"/>, which runs on the same thread between two
/// commands — so it needs no lock, and recording a trade is a struct copy into a ring.
/// <para>
/// Each instrument keeps its last <see cref="Capacity"/> trades (older ones are forgotten: the
/// 24-hour statistics and <c>public/get_last_trades_by_instrument</c> see at most that many), and a
/// book change counter (<see cref="ChangeId"/>) that moves whenever an event may have changed its book:
/// the <c>change_id</c> of <c>public/get_order_book</c> and of the <c>book.*</c> channels.
/// </para>
/// </summary>
public sealed class PublicTradeTape : ICommandObserver
{
    /// <summary>Trades kept per instrument.</summary>
    public const int Capacity = 10_000;

    private Ring[] rings = [];
    private long[] changeIds = [];

    public void OnApplied(Command command, RejectReason reason, ReadOnlySpan<EngineEvent> events, Engine engine)
    {
        foreach (ref readonly var e in events)
        {
            switch (e.Kind)
            {
                case EventKind.TradeExecuted:
                    BumpChange(e.InstrumentId);
                    RecordTrade(in e, engine);
                    break;
                case EventKind.OrderAccepted:
                case EventKind.OrderCancelled:
                case EventKind.OrderAmended:
                case EventKind.InstrumentExpired:
                    BumpChange(e.InstrumentId);
                    break;
            }
        }
    }

    /// <summary>The book change counter of an instrument (0 before anything touched its book).</summary>
    public long ChangeId(int instrumentId) => instrumentId > 0 && instrumentId < changeIds.Length ? changeIds[instrumentId] : 0;

    /// <summary>The last trade_seq of an instrument; 0 when it never traded.</summary>
    public long LastTradeSeq(int instrumentId) => TryGetRing(instrumentId) is { } ring ? ring.NextSeq - 1 : 0;

    /// <summary>Trades with <c>trade_seq</c> above <paramref name="afterSeq"/>, oldest first (at most what the ring still holds).</summary>
    public List<PublicTrade> After(int instrumentId, long afterSeq)
    {
        var result = new List<PublicTrade>();
        if (TryGetRing(instrumentId) is not { } ring)
        {
            return result;
        }

        // Newest backwards to the first one already seen, then oldest first: a cycle of the feed
        // costs the new trades, not the whole ring.
        for (int i = 0; i < ring.Count; i++)
        {
            var trade = ring.FromNewest(i);
            if (trade.TradeSeq <= afterSeq)
            {
                break;
            }

            result.Add(trade);
        }

        result.Reverse();
        return result;
    }

    /// <summary>
    /// Up to <paramref name="count"/> trades with <c>trade_seq</c> in [<paramref name="startSeq"/>,
    /// <paramref name="endSeq"/>] and a timestamp in [<paramref name="startMicros"/>,
    /// <paramref name="endMicros"/>], newest first when <paramref name="newestFirst"/>;
    /// <c>hasMore</c> when more trades matched than were returned.
    /// </summary>
    public (List<PublicTrade> Trades, bool HasMore) Page(int instrumentId, int count, long startSeq, long endSeq, bool newestFirst, long startMicros = long.MinValue, long endMicros = long.MaxValue)
    {
        var result = new List<PublicTrade>(Math.Min(count, 64));
        if (TryGetRing(instrumentId) is not { } ring)
        {
            return (result, false);
        }

        bool hasMore = false;
        for (int k = 0; k < ring.Count; k++)
        {
            int i = newestFirst ? k : ring.Count - 1 - k;
            var trade = ring.FromNewest(i);
            if (trade.TradeSeq < startSeq || trade.TradeSeq > endSeq || trade.TimestampMicros < startMicros || trade.TimestampMicros > endMicros)
            {
                continue;
            }

            if (result.Count == count)
            {
                hasMore = true;
                break;
            }

            result.Add(trade);
        }

        return (result, hasMore);
    }

    /// <summary>
    /// High, low, volume (contracts), volume in USDC (rounded down to the cent) and the price change
    /// in percent over the trades of the last 24 hours before <paramref name="nowMicros"/> that the
    /// ring still holds. Kept per instrument until a trade arrives or the oldest trade counted
    /// leaves the window, so the feed's ticker every 100 ms does not rescan a quiet instrument;
    /// a rescan is integer arithmetic over at most <see cref="Capacity"/> trades.
    /// </summary>
    public TradeStats Stats(int instrumentId, long nowMicros)
    {
        if (TryGetRing(instrumentId) is not { } ring || ring.Count == 0)
        {
            return TradeStats.None;
        }

        long since = nowMicros - UnixMicros.PerDay;
        if (ring.CachedStats is { } cached && ring.CachedAtSeq == ring.NextSeq && since <= ring.CachedOldestMicros)
        {
            return cached;
        }

        long high = long.MinValue;
        long low = long.MaxValue;
        long volumeUnits = 0;
        Int128 notional = 0; // micro-USDC × 1e-8 contracts
        Price first = default;
        Price last = ring.FromNewest(0).Price;
        long oldest = long.MaxValue;
        int seen = 0;
        for (int i = 0; i < ring.Count; i++)
        {
            var trade = ring.FromNewest(i);
            if (trade.TimestampMicros < since)
            {
                break;
            }

            high = Math.Max(high, trade.Price.Micros);
            low = Math.Min(low, trade.Price.Micros);
            volumeUnits += trade.Amount.Units;
            notional += (Int128)trade.Price.Micros * trade.Amount.Units;
            first = trade.Price;
            oldest = trade.TimestampMicros;
            seen++;
        }

        var stats = TradeStats.None;
        if (seen > 0)
        {
            long cents = (long)(notional / ((Int128)Quantity.Scale * 10_000));
            decimal change = Math.Round((last.Micros - first.Micros) * 100m / first.Micros, 4, MidpointRounding.ToZero);
            stats = new TradeStats(new Price(high), new Price(low), new Quantity(volumeUnits), cents / 100m, change);
        }

        ring.CachedStats = stats;
        ring.CachedAtSeq = ring.NextSeq;
        ring.CachedOldestMicros = seen > 0 ? oldest : long.MaxValue;
        return stats;
    }

    private void BumpChange(int instrumentId)
    {
        if (instrumentId <= 0)
        {
            return;
        }

        if (instrumentId >= changeIds.Length)
        {
            Array.Resize(ref changeIds, Math.Max(instrumentId + 1, changeIds.Length * 2));
        }

        changeIds[instrumentId]++;
    }

    private void RecordTrade(in EngineEvent e, Engine engine)
    {
        if (e.InstrumentId >= rings.Length)
        {
            Array.Resize(ref rings, Math.Max(e.InstrumentId + 1, rings.Length * 2));
        }

        var ring = rings[e.InstrumentId] ??= new Ring();
        Price mark = default;
        Price index = default;
        if (engine.TryGetInstrument(e.InstrumentId, out Instrument instrument))
        {
            mark = instrument.MarkPrice;
            index = instrument.Underlying.IndexPrice;
        }

        byte tick = 0;
        if (ring.Count > 0)
        {
            var previous = ring.FromNewest(0);
            tick = e.Price > previous.Price ? (byte)0
                : e.Price < previous.Price ? (byte)2
                : previous.TickDirection is 0 or 1 ? (byte)1 : (byte)3;
        }

        ring.Add(new PublicTrade(ring.NextSeq, e.TradeId, e.TimestampMicros, e.Price, e.Quantity, e.Side, tick, mark, index, e.Liquidation));
    }

    private Ring? TryGetRing(int instrumentId) => instrumentId > 0 && instrumentId < rings.Length ? rings[instrumentId] : null;

    /// <summary>A circular buffer that grows to <see cref="Capacity"/> and then overwrites the oldest trade.</summary>
    private sealed class Ring
    {
        private PublicTrade[] items = new PublicTrade[64];
        private int head; // where the next trade goes

        public int Count { get; private set; }

        public long NextSeq { get; private set; } = 1;

        /// <summary>The last <see cref="Stats"/> result, valid while <see cref="NextSeq"/> is <see cref="CachedAtSeq"/> and the window has not passed <see cref="CachedOldestMicros"/>.</summary>
        public TradeStats? CachedStats { get; set; }

        public long CachedAtSeq { get; set; }

        public long CachedOldestMicros { get; set; }

        public void Add(in PublicTrade trade)
        {
            if (Count == items.Length && items.Length < Capacity)
            {
                var grown = new PublicTrade[Math.Min(Capacity, items.Length * 2)];
                for (int i = 0; i < Count; i++)
                {
                    grown[Count - 1 - i] = FromNewest(i);
                }

                items = grown;
                head = Count;
            }

            items[head] = trade;
            head = (head + 1) % items.Length;
            Count = Math.Min(Count + 1, items.Length);
            NextSeq++;
        }

        /// <summary>The trade <paramref name="i"/> places before the newest (0: the newest).</summary>
        public PublicTrade FromNewest(int i) => items[((head - 1 - i) % items.Length + items.Length) % items.Length];
    }
}

/// <summary>24-hour statistics of an instrument's trades; <see cref="None"/> when it has not traded in that time.</summary>
public sealed record TradeStats(Price High, Price Low, Quantity Volume, decimal VolumeUsd, decimal? PriceChangePercent)
{
    public static readonly TradeStats None = new(default, default, default, 0m, null);

    public bool HasTrades => High.IsPositive;
}
