using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo taker (standard margin): now and then crosses the spread so that trades happen. Half
/// the time it sends a small market order to a random perpetual or future; otherwise it buys or
/// sells a few lots of a random option with an immediate-or-cancel limit at the best opposite
/// quote (an option's market-order band of 5% of its mark can be narrower than its spread). It
/// keeps its position in each instrument within <see cref="MaxLots"/> lots by trading the
/// reducing side once it is that large. Every random draw happens on every call, in the same
/// order, so a seeded demo makes the same choices.
/// </summary>
public sealed class DemoTaker(Sequencer sequencer, int accountId, Random random, ILogger logger)
{
    /// <summary>Largest order in a perpetual or future, in lots.</summary>
    public const int MaxOrderLots = 20;

    /// <summary>Largest option order, in lots (the makers' first option level is 5 lots).</summary>
    public const int MaxOptionOrderLots = 5;

    /// <summary>Position size beyond which the taker only reduces, in lots.</summary>
    public const int MaxLots = 200;

    /// <summary>Chance that a trade is in an option rather than a perpetual or future.</summary>
    public const double OptionShare = 0.5;

    public int AccountId { get; } = accountId;

    public long Trades { get; private set; }

    public long OptionTrades { get; private set; }

    public async Task TradeAsync(CancellationToken ct)
    {
        var choices = await sequencer.QueryAsync(Choices, ct);
        bool option = random.NextDouble() < OptionShare;
        double pick = random.NextDouble();
        bool buy = random.Next(2) == 0;
        int lots = random.Next(1, (option ? MaxOptionOrderLots : MaxOrderLots) + 1);

        var list = option ? choices.Options : choices.Futures;
        if (list.Count == 0)
        {
            return;
        }

        var choice = list[(int)(pick * list.Count)];
        var side = buy ? Side.Buy : Side.Sell;
        if (Math.Abs(choice.Position.Units) >= choice.Lot.Units * MaxLots)
        {
            side = choice.Position.IsPositive ? Side.Sell : Side.Buy;
        }

        var amount = new Quantity(choice.Lot.Units * lots);
        PlaceOrder order;
        if (option)
        {
            var price = side == Side.Buy ? choice.BestAsk : choice.BestBid;
            if (!price.IsPositive)
            {
                return;
            }

            order = new PlaceOrder(AccountId, choice.Id, side, OrderType.Limit, TimeInForce.ImmediateOrCancel, price, amount);
        }
        else
        {
            order = new PlaceOrder(AccountId, choice.Id, side, OrderType.Market, TimeInForce.ImmediateOrCancel, Price.Zero, amount);
        }

        var result = await sequencer.SubmitAsync(order, ct);
        foreach (var e in result.Events)
        {
            if (e.Kind == EventKind.TradeExecuted && e.AccountId == AccountId)
            {
                Trades++;
                OptionTrades += option ? 1 : 0;
            }
        }

        if (!result.IsAccepted)
        {
            logger.LogDebug("Demo taker: {Side} {Amount} in {Instrument} refused ({Reason}).", side, amount, choice.Id, result.Reason);
        }
    }

    /// <summary>Runs on the engine thread: the tradable instruments, with the taker's position and (options) the best quotes.</summary>
    private TakerChoices Choices(Engine engine)
    {
        var futures = new List<Choice>();
        var options = new List<Choice>();
        engine.TryGetAccount(AccountId, out var account);
        foreach (var instrument in engine.Instruments)
        {
            if (instrument.State != InstrumentState.Active || !instrument.MarkPrice.IsPositive)
            {
                continue;
            }

            var position = account?.GetPosition(instrument.Id).Size ?? Quantity.Zero;
            if (instrument.Kind == InstrumentKind.Option)
            {
                instrument.Book.TryGetBestBid(out var bid);
                instrument.Book.TryGetBestAsk(out var ask);
                options.Add(new Choice(instrument.Id, instrument.Spec.MinAmount, position, bid, ask));
            }
            else
            {
                futures.Add(new Choice(instrument.Id, instrument.Spec.MinAmount, position, Price.Zero, Price.Zero));
            }
        }

        return new TakerChoices(futures, options);
    }

    private sealed record Choice(int Id, Quantity Lot, Quantity Position, Price BestBid, Price BestAsk);

    private sealed record TakerChoices(List<Choice> Futures, List<Choice> Options);
}
