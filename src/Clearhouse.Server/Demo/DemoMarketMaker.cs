using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo market maker: one account that quotes post-only levels on each side of every active
/// instrument of one underlying around its mark — <see cref="Levels"/> tight levels on the
/// perpetual and futures, <see cref="OptionLevels"/> wider ones on the options (whose marks come
/// from the volatility surface) — and re-quotes whenever a mark moves by amending its resting
/// orders in place (placing new ones for levels that were filled or lost). It drives the engine
/// only through commands, like any client; one re-quote's commands are queued together, in order,
/// and awaited together, so that they share the journal's group commits.
/// </summary>
public sealed class DemoMarketMaker(Sequencer sequencer, int accountId, string underlying, ILogger logger)
{
    public const int Levels = 5;

    /// <summary>Distance of the first level from the mark, in ppm (2 bps).</summary>
    public const int FirstLevelPpm = 200;

    /// <summary>Distance between levels, in ppm (1.5 bps).</summary>
    public const int LevelStepPpm = 150;

    /// <summary>Level size = lot × this × (level + 1).</summary>
    public const int LotsPerLevel = 25;

    /// <summary>
    /// Levels quoted on each side of an option. Two, not more: with the listing schedule an
    /// underlying has about 35 options, and 35 × 2 sides × 3 levels plus the futures' quotes went
    /// over the engine's 256 open orders per account (hundreds of TooManyOpenOrders rejections a
    /// minute, visible in /metrics).
    /// </summary>
    public const int OptionLevels = 2;

    /// <summary>Distance of an option's first level from its mark, in ppm (1%); at least one tick per level.</summary>
    public const int OptionFirstLevelPpm = 10_000;

    /// <summary>Distance between option levels, in ppm (1%).</summary>
    public const int OptionLevelStepPpm = 10_000;

    /// <summary>Option level size = lot × this × (level + 1): 0.05, 0.1, 0.15 BTC; 0.5, 1, 1.5 ETH.</summary>
    public const int OptionLotsPerLevel = 5;

    private readonly Dictionary<(int InstrumentId, Side Side, int Level), long> orders = [];
    private readonly Dictionary<int, Price> lastMarks = [];

    public int AccountId { get; } = accountId;

    public string Underlying { get; } = underlying;

    /// <summary>
    /// Brings every quote in line with the current marks. For each instrument, when its mark rose
    /// the asks move first (away from the bids), then the bids; when it fell, the other way round,
    /// so the maker's own new quotes never cross its old ones. A quote the engine refuses (e.g. it
    /// would cross someone else's order) is cancelled and tried again next time; a bid that would
    /// have to be at or below zero (an option worth less than a few ticks) is not quoted.
    /// </summary>
    public async Task RequoteAsync(CancellationToken ct)
    {
        var snapshot = await sequencer.QueryAsync(Snapshot, ct);
        var pending = new List<Pending>();
        foreach (var instrument in snapshot.Instruments)
        {
            bool rising = !lastMarks.TryGetValue(instrument.Id, out var last) || instrument.Mark >= last;
            lastMarks[instrument.Id] = instrument.Mark;
            var firstSide = rising ? Side.Sell : Side.Buy;
            foreach (var side in new[] { firstSide, firstSide.Opposite() })
            {
                for (int level = 0; level < instrument.Levels; level++)
                {
                    if (Quote(instrument, side, level, snapshot.Open, ct) is { } submitted)
                    {
                        pending.Add(submitted);
                    }
                }
            }
        }

        var cancels = new List<Task<CommandResult>>();
        foreach (var p in pending)
        {
            var result = await p.Result;
            switch (p.Action)
            {
                case QuoteAction.Place when result.IsAccepted:
                    orders[p.Key] = OrderIdOf(result, AccountId);
                    break;
                case QuoteAction.Place:
                    orders.Remove(p.Key);
                    logger.LogDebug("Demo maker {Account}: quote {Key} refused ({Reason}).", AccountId, p.Key, result.Reason);
                    break;
                case QuoteAction.Amend when !result.IsAccepted:
                    logger.LogDebug("Demo maker {Account}: amend of {Order} refused ({Reason}); cancelling it.", AccountId, p.OrderId, result.Reason);
                    cancels.Add(sequencer.SubmitAsync(new CancelOrder(AccountId, p.OrderId), ct));
                    orders.Remove(p.Key);
                    break;
                case QuoteAction.Cancel:
                    orders.Remove(p.Key);
                    break;
            }
        }

        await Task.WhenAll(cancels);
    }

    /// <summary>Queues the command that brings one level in line (none when it already is).</summary>
    private Pending? Quote(QuotedInstrument instrument, Side side, int level, Dictionary<long, RestingOrder> open, CancellationToken ct)
    {
        var key = (instrument.Id, side, level);
        var price = instrument.IsOption
            ? OptionQuotePrice(instrument.Mark, instrument.TickSize, side, level)
            : QuotePrice(instrument.Mark, instrument.TickSize, side, level);
        var size = new Quantity(instrument.MinAmount.Units * (instrument.IsOption ? OptionLotsPerLevel : LotsPerLevel) * (level + 1));
        bool resting = orders.TryGetValue(key, out long orderId) && open.ContainsKey(orderId);
        if (!price.IsPositive)
        {
            return resting ? new Pending(key, QuoteAction.Cancel, orderId, sequencer.SubmitAsync(new CancelOrder(AccountId, orderId), ct)) : null;
        }

        if (resting)
        {
            var order = open[orderId];
            if (order.Price == price && order.Remaining == size)
            {
                return null;
            }

            // The amended total includes what has already filled, so that 'size' stays open.
            return new Pending(key, QuoteAction.Amend, orderId, sequencer.SubmitAsync(new AmendOrder(AccountId, orderId, price, order.Filled + size), ct));
        }

        var place = new PlaceOrder(AccountId, instrument.Id, side, OrderType.Limit, TimeInForce.GoodTilCancelled, price, size, OrderFlags.PostOnly);
        return new Pending(key, QuoteAction.Place, 0, sequencer.SubmitAsync(place, ct));
    }

    /// <summary>Bids round down to a tick, asks up: both away from the mark.</summary>
    public static Price QuotePrice(Price mark, Price tick, Side side, int level)
    {
        int ppm = FirstLevelPpm + (LevelStepPpm * level);
        return side == Side.Buy
            ? mark.MultiplyPpm(1_000_000 - ppm, Rounding.Floor).RoundToTick(tick, Rounding.Floor)
            : mark.MultiplyPpm(1_000_000 + ppm, Rounding.Ceiling).RoundToTick(tick, Rounding.Ceiling);
    }

    /// <summary>
    /// An option level: 1% from the mark plus 1% per level, but at least (level + 1) ticks, rounded
    /// to a tick away from the mark. A bid that would not be positive comes back as zero (not quoted).
    /// </summary>
    public static Price OptionQuotePrice(Price mark, Price tick, Side side, int level)
    {
        long byRate = FixedMath.MulDiv(mark.Micros, OptionFirstLevelPpm + ((long)OptionLevelStepPpm * level), 1_000_000, Rounding.Ceiling);
        long distance = Math.Max(byRate, tick.Micros * (level + 1));
        if (side == Side.Sell)
        {
            return new Price(mark.Micros + distance).RoundToTick(tick, Rounding.Ceiling);
        }

        long bid = mark.Micros - distance;
        return bid > 0 ? new Price(bid).RoundToTick(tick, Rounding.Floor) : Price.Zero;
    }

    /// <summary>The maker's new order: a command's events may also hold other accounts' (a liquidation order the same command ran).</summary>
    private static long OrderIdOf(CommandResult result, int accountId)
    {
        foreach (var e in result.Events)
        {
            if (e.Kind == EventKind.OrderAccepted && e.AccountId == accountId)
            {
                return e.OrderId;
            }
        }

        return 0;
    }

    /// <summary>Runs on the engine thread: this maker's instruments and the state of its tracked orders.</summary>
    private MakerSnapshot Snapshot(Engine engine)
    {
        var instruments = new List<QuotedInstrument>();
        foreach (var instrument in engine.Instruments)
        {
            var mark = instrument.MarkPrice;
            if (instrument.Underlying.Name == Underlying && instrument.State == InstrumentState.Active && mark.IsPositive)
            {
                bool option = instrument.Kind == InstrumentKind.Option;
                instruments.Add(new QuotedInstrument(instrument.Id, option, mark, instrument.Spec.TickSize, instrument.Spec.MinAmount, option ? OptionLevels : Levels));
            }
        }

        var open = new Dictionary<long, RestingOrder>();
        foreach (long orderId in orders.Values)
        {
            if (engine.TryGetOpenOrder(orderId, out var order, out _))
            {
                open[orderId] = order;
            }
        }

        return new MakerSnapshot(instruments, open);
    }

    private enum QuoteAction
    {
        Place,
        Amend,
        Cancel,
    }

    private sealed record Pending((int InstrumentId, Side Side, int Level) Key, QuoteAction Action, long OrderId, Task<CommandResult> Result);

    private sealed record QuotedInstrument(int Id, bool IsOption, Price Mark, Price TickSize, Quantity MinAmount, int Levels);

    private sealed record MakerSnapshot(List<QuotedInstrument> Instruments, Dictionary<long, RestingOrder> Open);
}
