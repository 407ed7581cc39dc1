using Clearhouse.Core.Engine;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Api;

/// <summary>Reads one order's story out of the events of the command that placed or amended it.</summary>
internal static class OrderOutcome
{
    public static OrderView Of(CommandResult result, long orderId, InstrumentDirectory instruments)
    {
        int accountId = 0;
        int instrumentId = 0;
        var side = default(Core.Matching.Side);
        Price price = default;
        Quantity amount = default;
        Quantity remaining = default;
        string state = "open";
        string? cancelReason = null;
        var trades = new List<TradeView>();
        foreach (var e in result.Events)
        {
            // Liquidation events carry other orders' ids (or none) and are summarized separately below.
            if (e.OrderId != orderId || e.Kind is EventKind.IsolatedMarginTransferred or EventKind.IsolatedDeficitCovered)
            {
                continue;
            }

            switch (e.Kind)
            {
                case EventKind.OrderAccepted:
                case EventKind.OrderAmended:
                    accountId = e.AccountId;
                    instrumentId = e.InstrumentId;
                    side = e.Side;
                    price = e.Price;
                    amount = e.Quantity;
                    remaining = e.Remaining;
                    if (e.CancelReason != CancelReason.None)
                    {
                        cancelReason = e.CancelReason.ToString();
                    }

                    break;
                case EventKind.TradeExecuted:
                    remaining = e.Remaining;
                    trades.Add(new TradeView(e.TradeId, instruments.NameOf(e.InstrumentId), Views.Word(e.Side), Views.Text(e.Price), Views.Text(e.Quantity), Views.Text(e.Amount), e.MakerAccountId, e.MakerOrderId));
                    break;
                case EventKind.OrderCancelled:
                    state = "cancelled";
                    cancelReason = e.CancelReason.ToString();
                    break;
            }
        }

        var filled = amount - remaining;
        if (state != "cancelled" && !remaining.IsPositive)
        {
            state = "filled";
        }

        var open = state == "open" ? remaining : Quantity.Zero;
        var (transferred, covered) = IsolatedMoves(result, accountId, instrumentId);
        return new OrderView(
            result.Sequence,
            result.TimestampMicros,
            orderId,
            accountId,
            instruments.NameOf(instrumentId),
            Views.Word(side),
            Views.Text(price),
            Views.Text(amount),
            Views.Text(filled),
            Views.Text(open),
            state,
            cancelReason,
            [.. trades])
        {
            IsolatedTransfer = transferred is { } t ? Views.Text(t) : null,
            IsolatedDeficitCovered = covered is { } c ? Views.Text(c) : null,
            Liquidations = LiquidationApi.Notices(result, instruments),
        };
    }

    /// <summary>
    /// What the command did to the collateral of the order's own isolated position (its account,
    /// its instrument): the net amount moved in from the cross balance (an order's top-up; negative
    /// when a position that closed handed its collateral back), and any deficit the insurance fund
    /// covered. Null where nothing happened. Other accounts' isolated moves (a maker's position
    /// closing) are theirs, not this order's.
    /// </summary>
    private static (Money? Transferred, Money? Covered) IsolatedMoves(CommandResult result, int accountId, int instrumentId)
    {
        Money? transferred = null;
        Money? covered = null;
        foreach (var e in result.Events)
        {
            if (e.AccountId != accountId || e.InstrumentId != instrumentId)
            {
                continue;
            }

            if (e.Kind == EventKind.IsolatedMarginTransferred)
            {
                transferred = (transferred ?? Money.Zero) + e.Amount;
            }
            else if (e.Kind == EventKind.IsolatedDeficitCovered)
            {
                covered = (covered ?? Money.Zero) + e.Amount;
            }
        }

        return (transferred, covered);
    }

    /// <summary>The id of the order a <c>PlaceOrder</c> created, from its <see cref="EventKind.OrderAccepted"/> event.</summary>
    public static long AcceptedOrderId(CommandResult result)
    {
        foreach (var e in result.Events)
        {
            if (e.Kind == EventKind.OrderAccepted)
            {
                return e.OrderId;
            }
        }

        return 0;
    }
}
