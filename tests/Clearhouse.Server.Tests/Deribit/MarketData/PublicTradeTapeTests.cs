using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Deribit.MarketData;

namespace Clearhouse.Server.Tests.Deribit.MarketData;

/// <summary>The public trade tape on its own, fed events as the sequencer would feed it.</summary>
public sealed class PublicTradeTapeTests
{
    private const int Instrument = 3;
    private static readonly Engine NoInstruments = new();

    [Fact]
    public void The_tape_keeps_the_last_ten_thousand_trades_of_an_instrument_numbered_from_one()
    {
        var tape = new PublicTradeTape();
        const int total = PublicTradeTape.Capacity + 50;
        for (int i = 1; i <= total; i++)
        {
            Feed(tape, Trade(i, 100 + (i % 7), timestampMicros: i));
        }

        Assert.Equal(total, tape.LastTradeSeq(Instrument));
        var (oldest, hasMore) = tape.Page(Instrument, 1_000, 0, long.MaxValue, newestFirst: false);
        Assert.Equal(51, oldest[0].TradeSeq); // the first 50 were overwritten
        Assert.True(hasMore);
        var (newest, _) = tape.Page(Instrument, 3, 0, long.MaxValue, newestFirst: true);
        Assert.Equal([total, total - 1L, total - 2L], newest.Select(t => t.TradeSeq));
        Assert.Equal(total, newest[0].TradeId);

        Assert.Equal([total - 1L, total], tape.After(Instrument, total - 2).Select(t => t.TradeSeq));
        Assert.Empty(tape.After(Instrument, total));
        Assert.Empty(tape.After(Instrument + 1, 0));
    }

    [Fact]
    public void Tick_directions_follow_Deribits_plus_zero_plus_minus_zero_minus()
    {
        var tape = new PublicTradeTape();
        long[] prices = [100, 101, 101, 99, 99, 99, 100];
        for (int i = 0; i < prices.Length; i++)
        {
            Feed(tape, Trade(i + 1, prices[i], timestampMicros: i));
        }

        var (trades, _) = tape.Page(Instrument, 10, 0, long.MaxValue, newestFirst: false);
        Assert.Equal([0, 0, 1, 2, 3, 3, 0], trades.Select(t => (int)t.TickDirection));
    }

    [Fact]
    public void Statistics_cover_the_trades_of_the_last_24_hours()
    {
        var tape = new PublicTradeTape();
        long day = 86_400_000_000;
        Feed(tape, Trade(1, 50, timestampMicros: 1_000));               // more than a day old at the end
        Feed(tape, Trade(2, 100, timestampMicros: day));
        Feed(tape, Trade(3, 120, timestampMicros: day + 10));
        Feed(tape, Trade(4, 90, timestampMicros: day + 20));

        var stats = tape.Stats(Instrument, nowMicros: day + 2_000);
        Assert.Equal(Price.FromWhole(120), stats.High);
        Assert.Equal(Price.FromWhole(90), stats.Low);
        Assert.Equal(Quantity.FromDecimal(0.3m), stats.Volume);
        Assert.Equal((100m + 120m + 90m) * 0.1m, stats.VolumeUsd);
        Assert.Equal(-10m, stats.PriceChangePercent);

        // A day after the second trade it has left the window (the statistics are recomputed, not served stale).
        var later = tape.Stats(Instrument, nowMicros: (2 * day) + 5);
        Assert.Equal(Price.FromWhole(120), later.High);
        Assert.Equal(Quantity.FromDecimal(0.2m), later.Volume);
        Assert.Equal(-25m, later.PriceChangePercent);
        Assert.False(tape.Stats(Instrument, nowMicros: 3 * day).HasTrades);
    }

    [Fact]
    public void Every_event_that_can_change_a_book_moves_its_change_id()
    {
        var tape = new PublicTradeTape();
        Feed(tape, new EngineEvent { Kind = EventKind.OrderAccepted, InstrumentId = Instrument });
        Feed(tape, new EngineEvent { Kind = EventKind.OrderAmended, InstrumentId = Instrument });
        Feed(tape, new EngineEvent { Kind = EventKind.Deposited, AccountId = 1 });
        Feed(tape, Trade(1, 100, timestampMicros: 1));
        Feed(tape, new EngineEvent { Kind = EventKind.OrderCancelled, InstrumentId = Instrument });
        Assert.Equal(4, tape.ChangeId(Instrument));
        Assert.Equal(0, tape.ChangeId(Instrument + 1));
    }

    private static void Feed(PublicTradeTape tape, EngineEvent e) =>
        tape.OnApplied(new Tick(), RejectReason.None, [e], NoInstruments);

    private static EngineEvent Trade(long tradeId, long price, long timestampMicros) => new()
    {
        Kind = EventKind.TradeExecuted,
        InstrumentId = Instrument,
        TradeId = tradeId,
        TimestampMicros = timestampMicros,
        Price = Price.FromWhole(price),
        Quantity = Quantity.FromDecimal(0.1m),
        Side = Side.Buy,
    };
}
