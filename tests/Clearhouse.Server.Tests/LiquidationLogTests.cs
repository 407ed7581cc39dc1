using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Liquidations;

namespace Clearhouse.Server.Tests;

/// <summary>The server's bounded store of liquidation steps, fed directly with events and proofs as the engine emits them.</summary>
public sealed class LiquidationLogTests
{
    [Fact]
    public void The_log_keeps_the_newest_steps_up_to_its_capacity_and_forgets_the_oldest()
    {
        var log = new LiquidationLog(capacity: 3);
        for (long sequence = 1; sequence <= 5; sequence++)
        {
            Capture(log, sequence, accountIds: [(int)sequence]);
        }

        Assert.Equal((3, 3, 5L), (log.Count, log.Capacity, log.Captured));
        Assert.Equal([5L, 4, 3], log.Recent(null, 10).Select(r => r.Sequence));
        Assert.False(log.TryGet(2, 0, out _));
        Assert.True(log.TryGet(3, 0, out var kept));
        Assert.Equal(3, kept.AccountId);
        Assert.Equal([4L], log.Recent(4, 10).Select(r => r.Sequence));
        Assert.Equal([5L], log.Recent(null, 1).Select(r => r.Sequence));
    }

    [Fact]
    public void Each_step_of_a_command_gets_its_own_events_and_a_replayed_command_is_not_kept_twice()
    {
        var log = new LiquidationLog();
        Capture(log, 7, accountIds: [11, 12]);
        Capture(log, 7, accountIds: [11, 12]); // the same command again (an overlapping replay): ignored

        Assert.Equal(2, log.Count);
        Assert.True(log.TryGet(7, 0, out var first));
        Assert.True(log.TryGet(7, 1, out var second));
        Assert.Equal((11, 12), (first.AccountId, second.AccountId));

        // Account 11: its cancelled order, the step, a book fill of 0.3 and a takeover of 0.2 at the bankruptcy price, the fee.
        Assert.Equal([EventKind.OrderCancelled, EventKind.LiquidationStep, EventKind.OrderAccepted, EventKind.TradeExecuted, EventKind.OrderCancelled, EventKind.BackstopTakeover, EventKind.LiquidationFeeCharged, EventKind.LiquidationEnded], first.Events.Select(e => e.Kind));
        Assert.Equal((Quantity.FromDecimal(0.3m), Quantity.FromDecimal(0.2m), Quantity.Zero, Money.FromWhole(5), true), (first.FilledThroughBook, first.TakenOver, first.Deleveraged, first.Fee, first.Ended));
        Assert.Equal(Side.Sell, first.Side);
        Assert.All(second.Events, e => Assert.Equal(12, e.AccountId));
        Assert.Equal(Quantity.FromDecimal(0.3m), second.FilledThroughBook);
    }

    [Fact]
    public void A_command_without_liquidations_is_not_kept()
    {
        var log = new LiquidationLog();
        log.Capture(1, 1, [new EngineEvent { Kind = EventKind.Deposited, AccountId = 1 }], []);
        Assert.Equal(0, log.Count);
        Assert.Empty(log.Recent(null, 10));
    }

    /// <summary>One command in which each account in turn has an order cancelled and one step: 0.3 through the book, 0.2 to the fund.</summary>
    private static void Capture(LiquidationLog log, long sequence, int[] accountIds)
    {
        var events = new List<EngineEvent>();
        var proofs = new List<LiquidationProof>();
        long orderId = 100;
        foreach (int accountId in accountIds)
        {
            int index = proofs.Count;
            proofs.Add(new LiquidationProof { Sequence = sequence, AccountId = accountId, ChosenInstrumentId = 1, Step = Quantity.FromDecimal(0.5m), BankruptcyPrice = Price.FromWhole(90_000) });
            long liquidationOrder = ++orderId;
            events.Add(new EngineEvent { Kind = EventKind.OrderCancelled, AccountId = accountId, OrderId = ++orderId, CancelReason = CancelReason.Liquidation });
            events.Add(new EngineEvent { Kind = EventKind.LiquidationStep, AccountId = accountId, InstrumentId = 1, Side = Side.Sell, Quantity = Quantity.FromDecimal(0.5m), ProofIndex = index });
            events.Add(new EngineEvent { Kind = EventKind.OrderAccepted, AccountId = accountId, InstrumentId = 1, OrderId = liquidationOrder });
            events.Add(new EngineEvent { Kind = EventKind.TradeExecuted, AccountId = accountId, OrderId = liquidationOrder, Liquidation = true, Quantity = Quantity.FromDecimal(0.3m), MakerAccountId = 99 });
            events.Add(new EngineEvent { Kind = EventKind.TradeExecuted, AccountId = 98, OrderId = 5, Quantity = Quantity.FromDecimal(1m) }); // someone else's trade
            events.Add(new EngineEvent { Kind = EventKind.OrderCancelled, AccountId = accountId, OrderId = liquidationOrder, CancelReason = CancelReason.ImmediateOrCancelRemainder });
            events.Add(new EngineEvent { Kind = EventKind.BackstopTakeover, AccountId = accountId, InstrumentId = 1, Quantity = Quantity.FromDecimal(0.2m), ProofIndex = index });
            events.Add(new EngineEvent { Kind = EventKind.LiquidationFeeCharged, AccountId = accountId, InstrumentId = 1, Amount = Money.FromWhole(5) });
            events.Add(new EngineEvent { Kind = EventKind.LiquidationEnded, AccountId = accountId });
        }

        log.Capture(sequence, sequence * 1_000, events.ToArray(), proofs);
    }
}
