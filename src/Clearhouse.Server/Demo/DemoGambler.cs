using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo account that always bets one way on one perpetual at close to the venue's largest
/// leverage, so that the demo's liquidations have someone to liquidate. Every turn it tops its
/// position up to <see cref="LeverageTarget"/> × its equity (notional at the mark) with market
/// immediate-or-cancel orders of at most <see cref="MaxOrderLots"/> lots — at 45× on 2% initial margin, a move of
/// about 1.2% against it takes it below maintenance (1%), which the demo index's jumps
/// (<see cref="RandomWalkIndex.JumpEverySteps"/>) provide. While the engine liquidates it the
/// gambler waits (its orders would be refused: <c>AccountInLiquidation</c>); once it is flat again it
/// starts over with its stake of <see cref="Stake"/>: a deposit tops its cash back up (or a
/// withdrawal takes the profit out). Two gamblers bet against each other (one long, one short), so
/// each jump of the index liquidates one of them. It makes no random draw: a seeded demo stays
/// repeatable.
/// </summary>
public sealed class DemoGambler(Sequencer sequencer, int accountId, string instrumentName, Side side, ILogger logger)
{
    /// <summary>What the gambler bets each round, in USDC.</summary>
    public static readonly Money Stake = Money.FromWhole(5_000);

    /// <summary>Position notional the gambler aims at, as a multiple of its equity (the tiers allow 50× at 2% initial margin).</summary>
    public const int LeverageTarget = 45;

    /// <summary>Largest order, in lots (0.1 BTC on the BTC perpetual: part of the maker's first three levels, so that others find quotes too).</summary>
    public const int MaxOrderLots = 100;

    /// <summary>How far through the mark the gambler's orders may fill, in ppm (10 bps: the maker's first levels).</summary>
    public const int LimitThroughMarkPpm = 1_000;

    /// <summary>What an order is assumed to cost in initial margin and taker fee, in ppm of its notional (2% + 0.05%, and a little room).</summary>
    public const int OrderCostPpm = 21_000;

    private int instrumentId;

    public int AccountId { get; } = accountId;

    public string InstrumentName { get; } = instrumentName;

    /// <summary>The side the gambler opens on: buy (long) or sell (short).</summary>
    public Side Side { get; } = side;

    public async Task TurnAsync(CancellationToken ct)
    {
        if (instrumentId == 0)
        {
            instrumentId = await sequencer.QueryAsync(engine => engine.TryGetInstrument(InstrumentName, out var instrument) ? instrument.Id : 0, ct);
            if (instrumentId == 0)
            {
                return;
            }
        }

        var state = await sequencer.QueryAsync(Read, ct);
        if (state is not { } s || s.BeingLiquidated || !s.Mark.IsPositive || !s.Lot.IsPositive)
        {
            return;
        }

        if (s.Size.IsZero && s.OpenOrders == 0)
        {
            // A new round: the stake back to what it was (after a liquidation, usually a deposit).
            var difference = s.Cash - Stake;
            if (difference.Micros <= -Money.Scale)
            {
                await Expect(sequencer.SubmitAsync(new Deposit(AccountId, new Money(-difference.Micros / Money.Scale * Money.Scale)), ct), "top up its stake");
                return;
            }

            if (difference.Micros >= Money.Scale)
            {
                await Expect(sequencer.SubmitAsync(new Withdraw(AccountId, new Money(difference.Micros / Money.Scale * Money.Scale)), ct), "take its profit out");
                return;
            }
        }

        // Top the position up towards the target leverage, with an immediate-or-cancel limit a few
        // bps through the mark: a market order's margin is counted at its 5% protection limit, which
        // would stop the gambler well short of its leverage.
        if (!s.Equity.IsPositive || (!s.Size.IsZero && s.Size.IsPositive != (Side == Side.Buy)))
        {
            return;
        }

        var limit = Side == Side.Buy
            ? s.Mark.MultiplyPpm(1_000_000 + LimitThroughMarkPpm, Rounding.Ceiling).RoundToTick(s.Tick, Rounding.Ceiling)
            : s.Mark.MultiplyPpm(1_000_000 - LimitThroughMarkPpm, Rounding.Floor).RoundToTick(s.Tick, Rounding.Floor);
        long targetUnits = FixedMath.MulDiv(s.Equity.Micros * LeverageTarget, Quantity.Scale, s.Mark.Micros, Rounding.Floor);
        long affordableUnits = s.Available.IsPositive ? FixedMath.MulDiv(s.Available.Micros, Quantity.Scale * 1_000_000L, limit.Micros * (long)OrderCostPpm, Rounding.Floor) : 0;
        long lots = Math.Min(Math.Min(targetUnits - Math.Abs(s.Size.Units), affordableUnits) / s.Lot.Units, MaxOrderLots);
        if (lots <= 0)
        {
            return;
        }

        var amount = new Quantity(s.Lot.Units * lots);
        var result = await sequencer.SubmitAsync(new PlaceOrder(AccountId, instrumentId, Side, OrderType.Limit, TimeInForce.ImmediateOrCancel, limit, amount), ct);
        if (!result.IsAccepted)
        {
            logger.LogDebug("Demo gambler {Account}: {Side} {Amount} at {Limit} refused ({Reason}).", AccountId, Side, amount, limit, result.Reason);
        }
    }

    /// <summary>Runs on the engine thread: what the gambler needs to decide.</summary>
    private GamblerState? Read(Engine engine)
    {
        if (!engine.TryGetAccount(AccountId, out var account) || !engine.TryGetInstrument(instrumentId, out var instrument))
        {
            return null;
        }

        var position = account.GetPosition(instrumentId);
        var margin = engine.GetMarginSummary(AccountId);
        return new GamblerState(
            engine.IsBeingLiquidated(AccountId, 0),
            account.Cash,
            margin.Equity,
            margin.Available,
            position.Size,
            account.OpenOrderCount,
            instrument.MarkPrice,
            instrument.Spec.TickSize,
            instrument.Spec.MinAmount);
    }

    private async Task Expect(Task<CommandResult> submission, string what)
    {
        var result = await submission;
        if (!result.IsAccepted)
        {
            logger.LogDebug("Demo gambler {Account} could not {What} ({Reason}).", AccountId, what, result.Reason);
        }
    }

    private readonly record struct GamblerState(bool BeingLiquidated, Money Cash, Money Equity, Money Available, Quantity Size, int OpenOrders, Price Mark, Price Tick, Quantity Lot);
}
