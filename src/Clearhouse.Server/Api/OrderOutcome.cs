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
            if (e.OrderId != orderId)
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
            [.. trades]);
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
