using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// A demo trader with an isolated position: its account isolates its position in one perpetual
/// (<c>SetIsolatedMargin</c>) and trades it with small market orders. An order that needs more
/// collateral than the position holds tops it up from the account's cross funds (the engine's
/// <c>IsolatedMarginTransferred</c> event); after each trade the trader keeps the position's
/// collateral between <see cref="LowBufferPercent"/>% and <see cref="HighBufferPercent"/>% of its
/// initial margin with <c>TransferIsolatedMargin</c>, in whole USDC, in and out. Every random draw
/// happens on every call, in the same order, so a seeded demo makes the same choices.
/// </summary>
public sealed class DemoIsolatedTrader(Sequencer sequencer, int accountId, string instrumentName, Random random, ILogger logger)
{
    /// <summary>Largest order, in lots.</summary>
    public const int MaxOrderLots = 50;

    /// <summary>Position size beyond which the trader only reduces, in lots.</summary>
    public const int MaxLots = 500;

    /// <summary>Below this equity, as a percentage of the isolated initial margin, the trader moves collateral in.</summary>
    public const int LowBufferPercent = 150;

    /// <summary>Above this free collateral, as a percentage of the isolated initial margin, the trader moves the excess out.</summary>
    public const int HighBufferPercent = 300;

    /// <summary>What a transfer aims at, as a percentage of the isolated initial margin.</summary>
    public const int TargetPercent = 200;

    private int instrumentId;

    public int AccountId { get; } = accountId;

    public string InstrumentName { get; } = instrumentName;

    public long Transfers { get; private set; }

    /// <summary>Isolates the position if it is not yet (only possible while flat and without orders).</summary>
    public async Task SetUpAsync(CancellationToken ct)
    {
        var (id, isolated) = await sequencer.QueryAsync(
            engine => engine.TryGetInstrument(InstrumentName, out var instrument) && engine.TryGetAccount(AccountId, out var account)
                ? (instrument.Id, account.GetPosition(instrument.Id).Isolated)
                : (0, false),
            ct);
        instrumentId = id;
        if (id == 0 || isolated)
        {
            return;
        }

        var result = await sequencer.SubmitAsync(new SetIsolatedMargin(AccountId, id, true), ct);
        if (!result.IsAccepted)
        {
            logger.LogWarning("Demo isolated trader {Account}: could not isolate {Instrument} ({Reason}); it trades it on cross margin.", AccountId, InstrumentName, result.Reason);
        }
    }

    public async Task TradeAsync(CancellationToken ct)
    {
        bool buy = random.Next(2) == 0;
        int lots = random.Next(1, MaxOrderLots + 1);
        if (instrumentId == 0)
        {
            return;
        }

        var (lot, position) = await sequencer.QueryAsync(
            engine => engine.TryGetInstrument(instrumentId, out var instrument) && engine.TryGetAccount(AccountId, out var account)
                ? (instrument.Spec.MinAmount, account.GetPosition(instrumentId).Size)
                : (Quantity.Zero, Quantity.Zero),
            ct);
        if (!lot.IsPositive)
        {
            return;
        }

        var side = buy ? Side.Buy : Side.Sell;
        if (Math.Abs(position.Units) >= lot.Units * MaxLots)
        {
            side = position.IsPositive ? Side.Sell : Side.Buy;
        }

        var amount = new Quantity(lot.Units * lots);
        var result = await sequencer.SubmitAsync(new PlaceOrder(AccountId, instrumentId, side, OrderType.Market, TimeInForce.ImmediateOrCancel, Price.Zero, amount), ct);
        if (!result.IsAccepted)
        {
            logger.LogDebug("Demo isolated trader: market {Side} {Amount} refused ({Reason}).", side, amount, result.Reason);
            return;
        }

        await RebalanceAsync(ct);
    }

    /// <summary>Keeps the isolated collateral near <see cref="TargetPercent"/>% of the initial margin.</summary>
    private async Task RebalanceAsync(CancellationToken ct)
    {
        var figures = await sequencer.QueryAsync(
            engine =>
            {
                if (engine.GetMarginReport(AccountId) is not { } report)
                {
                    return ((Money Equity, Money Initial, Money Available)?)null;
                }

                foreach (var isolated in report.Isolated)
                {
                    if (isolated.InstrumentId == instrumentId && engine.TryGetAccount(AccountId, out var account) && !account.GetPosition(instrumentId).Size.IsZero)
                    {
                        return (isolated.Summary.Equity, isolated.Summary.Initial, isolated.Summary.Available);
                    }
                }

                return null;
            },
            ct);
        if (figures is not { } f || !f.Initial.IsPositive)
        {
            return;
        }

        long initial = f.Initial.Micros;
        long target = initial / 100 * TargetPercent;
        long move = 0;
        if (f.Equity.Micros < initial / 100 * LowBufferPercent)
        {
            move = WholeUsdc(target - f.Equity.Micros);
        }
        else if (f.Available.Micros > initial / 100 * HighBufferPercent)
        {
            move = -WholeUsdc(f.Available.Micros - (target - initial));
        }

        if (move == 0)
        {
            return;
        }

        var result = await sequencer.SubmitAsync(new TransferIsolatedMargin(AccountId, instrumentId, new Money(move)), ct);
        if (result.IsAccepted)
        {
            Transfers++;
        }
        else
        {
            logger.LogDebug("Demo isolated trader: transfer of {Amount} refused ({Reason}).", new Money(move), result.Reason);
        }
    }

    /// <summary>Whole USDC, rounded down (so a transfer out never asks for more than is free).</summary>
    private static long WholeUsdc(long micros) => Math.Max(0, micros / Money.Scale * Money.Scale);
}
