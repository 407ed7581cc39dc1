using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo taker: now and then sends a small market order to a random perpetual or future so that
/// trades happen. It keeps its position in each instrument within <see cref="MaxLots"/> lots by
/// trading the reducing side once it is that large.
/// </summary>
public sealed class DemoTaker(Sequencer sequencer, int accountId, Random random, ILogger logger)
{
    /// <summary>Largest order, in lots.</summary>
    public const int MaxOrderLots = 20;

    /// <summary>Position size beyond which the taker only reduces, in lots.</summary>
    public const int MaxLots = 200;

    public int AccountId { get; } = accountId;

    public long Trades { get; private set; }

    public async Task TradeAsync(CancellationToken ct)
    {
        var choices = await sequencer.QueryAsync(engine =>
        {
            var list = new List<(int Id, Quantity Lot, Quantity Position)>();
            engine.TryGetAccount(AccountId, out var account);
            foreach (var instrument in engine.Instruments)
            {
                if (instrument.State == InstrumentState.Active && instrument.Kind != InstrumentKind.Option && instrument.MarkPrice.IsPositive)
                {
                    list.Add((instrument.Id, instrument.Spec.MinAmount, account?.GetPosition(instrument.Id).Size ?? Quantity.Zero));
                }
            }

            return list;
        }, ct);
        if (choices.Count == 0)
        {
            return;
        }

        var (instrumentId, lot, position) = choices[random.Next(choices.Count)];
        var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
        if (Math.Abs(position.Units) >= lot.Units * MaxLots)
        {
            side = position.IsPositive ? Side.Sell : Side.Buy;
        }

        var amount = new Quantity(lot.Units * random.Next(1, MaxOrderLots + 1));
        var result = await sequencer.SubmitAsync(new PlaceOrder(AccountId, instrumentId, side, OrderType.Market, TimeInForce.ImmediateOrCancel, Price.Zero, amount), ct);
        foreach (var e in result.Events)
        {
            if (e.Kind == EventKind.TradeExecuted)
            {
                Trades++;
            }
        }

        if (!result.IsAccepted)
        {
            logger.LogDebug("Demo taker: market {Side} {Amount} in {Instrument} refused ({Reason}).", side, amount, instrumentId, result.Reason);
        }
    }
}
