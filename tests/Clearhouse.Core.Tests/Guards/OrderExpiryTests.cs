using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>Order expiry (docs/guards.md): a stale order is rejected, a resting one is cancelled on the first tick at its expiry.</summary>
public class OrderExpiryTests
{
    [Fact]
    public void An_order_whose_expiry_has_passed_at_the_sequencer_is_rejected_and_changes_nothing()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int trader = v.NewAccount(1_000_000m);
        long arrival = v.Now + 1_000; // the time the next command will carry
        v.Reject(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 0.1m) with { ExpiresAtMicros = arrival }, RejectReason.OrderExpired);
        v.Accept(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 0.1m) with { ExpiresAtMicros = v.Now + 2_000 });
    }

    [Fact]
    public void A_resting_order_is_cancelled_on_the_first_tick_at_or_after_its_expiry()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int trader = v.NewAccount(1_000_000m);
        long expiry = v.Now + GuardVenue.Minute;
        v.Accept(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 0.1m) with { ExpiresAtMicros = expiry });
        long id = v.Events[0].OrderId;
        Assert.True(v.Engine.TryGetOrderExpiry(id, out long stored));
        Assert.Equal(expiry, stored);

        v.Advance(expiry - v.Now - 3_000);
        v.Accept(new Tick()); // 2 ms before
        Assert.True(v.Engine.TryGetOpenOrder(id, out _, out _));
        v.Accept(new AmendOrder(trader, id, Clearhouse.Core.Numerics.Price.FromDecimal(99_500m), Clearhouse.Core.Numerics.Quantity.FromDecimal(0.1m))); // 1 ms before: the order keeps its expiry
        v.Accept(new Tick()); // at the expiry
        var cancelled = Assert.Single(v.Events, e => e.Kind == EventKind.OrderCancelled);
        Assert.Equal(CancelReason.OrderExpired, cancelled.CancelReason);
        Assert.False(v.Engine.TryGetOpenOrder(id, out _, out _));
    }

    [Fact]
    public void An_order_past_its_expiry_but_not_yet_cancelled_cannot_be_amended()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int trader = v.NewAccount(1_000_000m);
        v.Accept(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 0.1m) with { ExpiresAtMicros = v.Now + GuardVenue.Second });
        long id = v.Events[0].OrderId;
        v.Advance(GuardVenue.Second); // no tick yet: the order still rests
        v.Reject(new AmendOrder(trader, id, Clearhouse.Core.Numerics.Price.FromDecimal(99_500m), Clearhouse.Core.Numerics.Quantity.FromDecimal(0.1m)), RejectReason.OrderExpired);
        v.Accept(new CancelOrder(trader, id)); // cancelling is always allowed
    }

    [Fact]
    public void Orders_without_an_expiry_keep_their_old_encoding_and_orders_with_one_round_trip()
    {
        var plain = GuardVenue.Order(1, 1, Side.Buy, 99_000m, 0.1m) with { Sequence = 7, TimestampMicros = 8 };
        byte[] plainBytes = CommandCodec.Encode(plain);
        Assert.Equal(6, plainBytes[0]); // tag 6, layout unchanged
        Assert.Equal(plain, CommandCodec.Decode(plainBytes));

        var expiring = plain with { ExpiresAtMicros = 123_456_789 };
        byte[] bytes = CommandCodec.Encode(expiring);
        Assert.Equal(40, bytes[0]);
        Assert.Equal(plainBytes.Length + 8, bytes.Length);
        Assert.Equal(expiring, CommandCodec.Decode(bytes));
    }

    [Fact]
    public void Expiries_of_open_orders_survive_a_snapshot_and_the_restored_engine_cancels_them_the_same_way()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int trader = v.NewAccount(1_000_000m);
        v.Accept(GuardVenue.Order(trader, btc, Side.Buy, 99_000m, 0.1m) with { ExpiresAtMicros = v.Now + GuardVenue.Minute });
        var restored = EngineSnapshot.Read(EngineSnapshot.Write(v.Engine));
        Assert.Equal(v.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());

        var tick = new Tick { Sequence = v.Engine.LastSequence + 1, TimestampMicros = v.Now + GuardVenue.Minute };
        Assert.Equal(RejectReason.None, v.Engine.Apply(tick));
        Assert.Equal(RejectReason.None, restored.Apply(tick));
        Assert.Equal(v.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        Assert.Contains(restored.Events.ToArray(), e => e.CancelReason == CancelReason.OrderExpired);
    }
}
