using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo market maker: one account that quotes <see cref="Levels"/> post-only levels on each side
/// of every perpetual and future of one underlying, around the mark, and re-quotes whenever the
/// mark moves by amending its resting orders in place (placing new ones for levels that were
/// filled or lost). It drives the engine only through commands, like any client.
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

    private readonly Dictionary<(int InstrumentId, Side Side, int Level), long> orders = [];
    private Price lastMark;

    public int AccountId { get; } = accountId;

    public string Underlying { get; } = underlying;

    /// <summary>
    /// Brings every quote in line with the current mark. When the mark rose, asks move first (away
    /// from the bids), then bids; when it fell, the other way round, so the maker's own new quotes
    /// never cross its old ones. A quote the engine refuses (e.g. it would cross someone else's
    /// order) is cancelled and tried again next time.
    /// </summary>
    public async Task RequoteAsync(CancellationToken ct)
    {
        var snapshot = await sequencer.QueryAsync(Snapshot, ct);
        if (!snapshot.Mark.IsPositive)
        {
            return;
        }

        bool rising = snapshot.Mark >= lastMark;
        lastMark = snapshot.Mark;
        var firstSide = rising ? Side.Sell : Side.Buy;
        foreach (var side in new[] { firstSide, firstSide.Opposite() })
        {
            foreach (var instrument in snapshot.Instruments)
            {
                for (int level = 0; level < Levels; level++)
                {
                    await QuoteAsync(instrument, side, level, snapshot.Open, ct);
                }
            }
        }
    }

    private async Task QuoteAsync(QuotedInstrument instrument, Side side, int level, Dictionary<long, RestingOrder> open, CancellationToken ct)
    {
        var key = (instrument.Id, side, level);
        var price = QuotePrice(instrument.Mark, instrument.TickSize, side, level);
        var size = new Quantity(instrument.MinAmount.Units * LotsPerLevel * (level + 1));
        if (orders.TryGetValue(key, out long orderId) && open.TryGetValue(orderId, out var order))
        {
            if (order.Price == price && order.Remaining == size)
            {
                return;
            }

            // The amended total includes what has already filled, so that 'size' stays open.
            var result = await sequencer.SubmitAsync(new AmendOrder(AccountId, orderId, price, order.Filled + size), ct);
            if (!result.IsAccepted)
            {
                logger.LogDebug("Demo maker {Account}: amend of {Order} refused ({Reason}); cancelling it.", AccountId, orderId, result.Reason);
                await sequencer.SubmitAsync(new CancelOrder(AccountId, orderId), ct);
                orders.Remove(key);
            }

            return;
        }

        var placed = await sequencer.SubmitAsync(new PlaceOrder(AccountId, instrument.Id, side, OrderType.Limit, TimeInForce.GoodTilCancelled, price, size, OrderFlags.PostOnly), ct);
        if (placed.IsAccepted)
        {
            orders[key] = placed.Events[0].OrderId;
        }
        else
        {
            orders.Remove(key);
            logger.LogDebug("Demo maker {Account}: quote {Side} {Size} @ {Price} in {Instrument} refused ({Reason}).", AccountId, side, size, price, instrument.Id, placed.Reason);
        }
    }

    /// <summary>Bids round down to a tick, asks up: both away from the mark.</summary>
    public static Price QuotePrice(Price mark, Price tick, Side side, int level)
    {
        int ppm = FirstLevelPpm + (LevelStepPpm * level);
        return side == Side.Buy
            ? mark.MultiplyPpm(1_000_000 - ppm, Rounding.Floor).RoundToTick(tick, Rounding.Floor)
            : mark.MultiplyPpm(1_000_000 + ppm, Rounding.Ceiling).RoundToTick(tick, Rounding.Ceiling);
    }

    /// <summary>Runs on the engine thread: this maker's instruments and the state of its tracked orders.</summary>
    private MakerSnapshot Snapshot(Engine engine)
    {
        var instruments = new List<QuotedInstrument>();
        var mark = Price.Zero;
        foreach (var instrument in engine.Instruments)
        {
            if (instrument.Underlying.Name == Underlying && instrument.State == InstrumentState.Active && instrument.Kind != InstrumentKind.Option)
            {
                instruments.Add(new QuotedInstrument(instrument.Id, instrument.MarkPrice, instrument.Spec.TickSize, instrument.Spec.MinAmount));
                mark = instrument.MarkPrice;
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

        return new MakerSnapshot(mark, instruments, open);
    }

    private sealed record QuotedInstrument(int Id, Price Mark, Price TickSize, Quantity MinAmount);

    private sealed record MakerSnapshot(Price Mark, List<QuotedInstrument> Instruments, Dictionary<long, RestingOrder> Open);
}
