using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Settlement;

/// <summary>
/// The worked example of docs/settlement.md: an hour before the 02JAN26 expiry, Alice and Bob
/// trade the future and three options; the index sits at 100,000 and then, over the last 30
/// minutes, rises by 0.333333 USDC every 6 s (sample k of the window, k = 0 … 299, is
/// 100,000 + 0.333333·k). The settlement price is the mean, rounded down: 100,049.833283.
/// </summary>
public sealed class ExpirySettlementTests
{
    private static readonly long WindowStart = ExpiryVenue.ExpiryMicros - (299 * ExpiryVenue.Step);

    internal static Price Ramp(long t) =>
        t < WindowStart ? Price.FromWhole(100_000) : new Price(100_000_000_000 + (333_333 * ((t - WindowStart) / ExpiryVenue.Step)));

    private sealed class Story
    {
        public Story(bool isolatedCarol = false)
        {
            V = new ExpiryVenue(ExpiryVenue.ExpiryMicros - UnixMicros.PerHour);
            Alice = V.NewAccount(10_000_000m);
            Bob = V.NewAccount(10_000_000m);
            Carol = V.NewAccount(10_000_000m);
            Call = V.ListOption(100_000m, OptionRight.Call);
            Put = V.ListOption(100_200m, OptionRight.Put);
            OtmCall = V.ListOption(101_000m, OptionRight.Call);

            V.Trade(Alice, Bob, V.Future, 0.333m, 100_000m);
            V.Trade(Alice, Bob, Call, 1.5m, V.NearMark(Call));
            V.Trade(Bob, Alice, Put, 0.7m, V.NearMark(Put));
            V.Trade(Alice, Bob, OtmCall, 0.5m, V.NearMark(OtmCall));
            if (isolatedCarol)
            {
                V.Accept(new SetIsolatedMargin(Carol, V.Future, true));
                V.Trade(Carol, V.Bank, V.Future, 0.25m, 100_000m);
            }

            CarolOrder = V.Rest(Carol, V.Future, Side.Buy, 99_000m, 1m);
            CarolOptionOrder = V.Rest(Carol, Call, Side.Buy, 5m, 1m);
        }

        public ExpiryVenue V { get; }

        public int Alice { get; }

        public int Bob { get; }

        public int Carol { get; }

        public int Call { get; }

        public int Put { get; }

        public int OtmCall { get; }

        public long CarolOrder { get; }

        public long CarolOptionOrder { get; }
    }

    [Fact]
    public void Settlement_price_is_the_hand_computed_30_minute_TWAP()
    {
        // Σ_{k=0}^{299} 0.333333·k = 0.333333 × 44,850 = 14,949.985050; ÷ 300 = 49.8332835 → 49.833283 (rounded down).
        var s = new Story();
        s.V.RunUntil(ExpiryVenue.ExpiryMicros, Ramp);

        var expected = Price.FromDecimal(100_049.833283m);
        Assert.True(s.V.TryModelWindow(ExpiryVenue.ExpiryMicros, out var model, out int samples));
        Assert.Equal(300, samples);
        Assert.Equal(expected, model);
        foreach (int id in new[] { s.V.Future, s.Call, s.Put, s.OtmCall })
        {
            Assert.Equal(InstrumentState.Settled, s.V[id].State);
            Assert.Equal(expected, s.V[id].SettlementPrice);
            Assert.Equal(ExpiryVenue.ExpiryMicros, s.V[id].SettledMicros);
        }

        var settled = s.V.Events.Where(e => e.Kind == EventKind.InstrumentSettled).ToArray();
        Assert.Equal(4, settled.Length);
        Assert.All(settled, e => Assert.Equal(expected, e.Price));
    }

    [Fact]
    public void Positions_cash_settle_exactly_as_the_worked_example_says()
    {
        var s = new Story();
        var before = Enumerable.Range(1, s.V.Engine.AccountCount).ToDictionary(id => id, id => s.V.Account(id).Cash);
        var insuranceBefore = s.V.Engine.Ledger.InsuranceFund;
        s.V.RunUntil(ExpiryVenue.ExpiryMicros, Ramp);

        var paid = s.V.Events.Where(e => e.Kind == EventKind.PositionSettled)
            .ToDictionary(e => (e.AccountId, e.InstrumentId), e => e.Amount.ToDecimal());

        // Future, 0.333 at S = 100,049.833283: 33,316.594483239 → Alice receives …483, Bob pays …484.
        Assert.Equal(-33_316.594483m, paid[(s.Alice, s.V.Future)]);
        Assert.Equal(33_316.594484m, paid[(s.Bob, s.V.Future)]);

        // Call 100,000 (ITM), 1.5: intrinsic 49.833283 × 1.5 = 74.7499245.
        Assert.Equal(-74.749924m, paid[(s.Alice, s.Call)]);
        Assert.Equal(74.749925m, paid[(s.Bob, s.Call)]);

        // Put 100,200 (ITM), 0.7, Bob long: intrinsic 150.166717 × 0.7 = 105.1167019.
        Assert.Equal(-105.116701m, paid[(s.Bob, s.Put)]);
        Assert.Equal(105.116702m, paid[(s.Alice, s.Put)]);

        // Call 101,000 (OTM): worthless, nothing moves, the positions still close.
        Assert.Equal(0m, paid[(s.Alice, s.OtmCall)]);
        Assert.Equal(0m, paid[(s.Bob, s.OtmCall)]);

        // Σ payouts + residue = 0: three micro-USDC of rounding go to the insurance fund.
        var residues = s.V.Events.Where(e => e.Kind == EventKind.InstrumentSettled).Sum(e => e.Amount.Micros);
        Assert.Equal(3, residues);
        Assert.Equal(paid.Values.Sum(), residues / 1_000_000m);
        Assert.Equal(insuranceBefore + new Money(3), s.V.Engine.Ledger.InsuranceFund);
        Assert.Equal(s.V.Engine.Ledger.TotalDeposited, s.V.TotalHeld());
        foreach (var (account, cash) in before)
        {
            decimal moved = paid.Where(p => p.Key.AccountId == account).Sum(p => p.Value);
            Assert.Equal(cash.ToDecimal() - moved, s.V.Account(account).Cash.ToDecimal());
        }
    }

    [Fact]
    public void Expiry_cancels_orders_zeroes_open_interest_and_archives_the_instrument()
    {
        var s = new Story();
        s.V.RunUntil(ExpiryVenue.ExpiryMicros, Ramp);

        var cancelled = s.V.Events.Where(e => e.Kind == EventKind.OrderCancelled).ToArray();
        Assert.Equal(new[] { s.CarolOrder, s.CarolOptionOrder }, cancelled.Select(e => e.OrderId).Order().ToArray());
        Assert.All(cancelled, e => Assert.Equal(CancelReason.InstrumentExpired, e.CancelReason));
        Assert.Empty(s.V.Engine.GetOpenOrders(s.Carol));
        Assert.Equal(0, s.V.Account(s.Carol).OpenOrderCount);
        Assert.Contains(s.V.Events, e => e.Kind == EventKind.InstrumentExpired && e.InstrumentId == s.V.Future);

        foreach (int id in new[] { s.V.Future, s.Call, s.Put, s.OtmCall })
        {
            Assert.True(s.V[id].LongOpenInterest.IsZero);
            Assert.True(s.V[id].ShortOpenInterest.IsZero);
            Assert.Empty(s.V[id].Book.OrdersInPriority());
            foreach (int account in new[] { s.Alice, s.Bob, s.Carol })
            {
                Assert.True(s.V.Account(account).GetPosition(id).Size.IsZero);
            }
        }

        Assert.Equal(0, s.V.Account(s.Alice).ActiveCount);
        Assert.Equal(RejectReason.InstrumentNotActive, s.V.Apply(new PlaceOrder(s.Alice, s.V.Future, Side.Buy, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromWhole(100_000), Quantity.FromDecimal(0.001m))));

        // Archived: later ticks neither re-settle nor mark it.
        var hash = s.V.Engine.ComputeStateHashHex();
        var mark = s.V[s.Call].OptionMark;
        s.V.RunUntil(ExpiryVenue.ExpiryMicros + (10 * ExpiryVenue.Step), _ => Price.FromWhole(100_000));
        Assert.DoesNotContain(s.V.History, e => e.Kind == EventKind.InstrumentSettled && e.TimestampMicros > ExpiryVenue.ExpiryMicros);
        Assert.Equal(mark, s.V[s.Call].OptionMark);
        Assert.NotEqual(hash, s.V.Engine.ComputeStateHashHex()); // the clock moved on (TWAP samples), the instrument did not
    }

    [Fact]
    public void Isolated_collateral_follows_the_settlement_and_is_released_when_flat()
    {
        var s = new Story(isolatedCarol: true);
        var cashBefore = s.V.Account(s.Carol).Cash;
        var isolatedBefore = s.V.Account(s.Carol).GetPosition(s.V.Future).IsolatedCash;
        s.V.RunUntil(ExpiryVenue.ExpiryMicros, Ramp);

        var position = s.V.Account(s.Carol).GetPosition(s.V.Future);
        Assert.True(position.Size.IsZero);
        Assert.True(position.IsolatedCash.IsZero);
        var payment = s.V.Events.Single(e => e.Kind == EventKind.PositionSettled && e.AccountId == s.Carol).Amount;

        // 0.25 × 100,049.833283 = 25,012.45832075 → Carol receives 25,012.458320.
        Assert.Equal(-25_012.458320m, payment.ToDecimal());
        Assert.Contains(s.V.Events, e => e.Kind == EventKind.IsolatedMarginTransferred && e.AccountId == s.Carol && e.Amount == -(isolatedBefore - payment));
        Assert.Equal(cashBefore - payment, s.V.Account(s.Carol).Cash);
        Assert.Equal(s.V.Engine.Ledger.TotalDeposited, s.V.TotalHeld());
    }

    [Fact]
    public void Replaying_the_expiry_on_a_fresh_engine_gives_the_same_state_hash()
    {
        var s = new Story();
        s.V.RunUntil(ExpiryVenue.ExpiryMicros + ExpiryVenue.Step, Ramp);

        var replay = new CoreEngine();
        foreach (var command in s.V.Journal)
        {
            replay.Apply(command);
        }

        Assert.Equal(s.V.Engine.ComputeStateHashHex(), replay.ComputeStateHashHex());
        Assert.Equal(InstrumentState.Settled, replay.Instruments[s.Call - 1].State);
    }

    [Fact]
    public void A_snapshot_taken_just_before_expiry_then_continued_gives_the_same_state_hash()
    {
        var s = new Story();
        s.V.RunUntil(ExpiryVenue.ExpiryMicros - ExpiryVenue.Step, Ramp);
        var snapshot = EngineSnapshot.Write(s.V.Engine);
        int done = s.V.Journal.Count;
        s.V.RunUntil(ExpiryVenue.ExpiryMicros + ExpiryVenue.Step, Ramp);

        var restored = EngineSnapshot.Read(snapshot);
        foreach (var command in s.V.Journal.Skip(done))
        {
            restored.Apply(command);
        }

        Assert.Equal(s.V.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        var again = EngineSnapshot.Read(EngineSnapshot.Write(restored));
        Assert.Equal(restored.ComputeStateHashHex(), again.ComputeStateHashHex());
        Assert.Equal(Price.FromDecimal(100_049.833283m), again.Instruments[s.V.Future - 1].SettlementPrice);
    }

    [Fact]
    public void Stale_oracle_at_expiry_settlement_waits_halted_for_a_healthy_window_then_settles()
    {
        // No index from 10 minutes before to 5 minutes after expiry: the window to expiry holds
        // 200 samples (< 240), so settlement waits; the trailing window fills with healthy samples
        // again and settlement happens at the first boundary where it holds 240.
        long staleFrom = ExpiryVenue.ExpiryMicros - (10 * UnixMicros.PerMinute);
        long staleTo = ExpiryVenue.ExpiryMicros + (5 * UnixMicros.PerMinute);
        Price? Index(long t) => t > staleFrom && t < staleTo ? null : Ramp(Math.Min(t, ExpiryVenue.ExpiryMicros));

        var s = new Story();
        s.V.RunUntil(ExpiryVenue.ExpiryMicros, Index);
        Assert.False(s.V.TryModelWindow(ExpiryVenue.ExpiryMicros, out _, out int samples));
        Assert.Equal(200, samples);
        Assert.Equal(InstrumentState.Halted, s.V[s.V.Future].State);
        Assert.Contains(s.V.Events, e => e.Kind == EventKind.InstrumentExpired);
        Assert.DoesNotContain(s.V.Events, e => e.Kind == EventKind.InstrumentSettled);
        Assert.Empty(s.V.Engine.GetOpenOrders(s.Carol));
        Assert.Equal(RejectReason.InstrumentNotActive, s.V.Apply(new PlaceOrder(s.Alice, s.Call, Side.Buy, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromWhole(5), Quantity.FromDecimal(0.001m))));
        Assert.False(s.V.Account(s.Alice).GetPosition(s.V.Future).Size.IsZero);

        // The model says when: the first boundary whose trailing window holds 240 healthy samples.
        long settleAt = 0;
        Price expected = default;
        for (long b = ExpiryVenue.ExpiryMicros; settleAt == 0; b += ExpiryVenue.Step)
        {
            s.V.Reported[b] = Index(b) ?? Price.Zero;
            if (Index(b) is null)
            {
                s.V.Reported.Remove(b);
            }
            else if (s.V.TryModelWindow(b, out var average, out _))
            {
                (settleAt, expected) = (b, average);
            }
        }

        Assert.Equal(ExpiryVenue.ExpiryMicros + (29 * UnixMicros.PerMinute) - (6 * UnixMicros.PerSecond), settleAt);
        s.V.RunUntil(settleAt - ExpiryVenue.Step, Index);
        Assert.Equal(InstrumentState.Halted, s.V[s.V.Future].State);
        s.V.RunUntil(settleAt, Index);
        Assert.Equal(InstrumentState.Settled, s.V[s.V.Future].State);
        Assert.Equal(expected, s.V[s.V.Future].SettlementPrice);
        Assert.Equal(settleAt, s.V[s.V.Future].SettledMicros);
        Assert.Equal(s.V.Engine.Ledger.TotalDeposited, s.V.TotalHeld());
    }

    [Fact]
    public void A_short_stale_spell_at_expiry_still_settles_on_the_window_to_expiry()
    {
        // Three minutes without an index before expiry: 270 of 300 samples, a healthy window.
        long staleFrom = ExpiryVenue.ExpiryMicros - (3 * UnixMicros.PerMinute);
        Price? Index(long t) => t > staleFrom && t <= ExpiryVenue.ExpiryMicros ? null : Ramp(t);

        var s = new Story();
        s.V.RunUntil(ExpiryVenue.ExpiryMicros, Index);
        Assert.True(s.V.TryModelWindow(ExpiryVenue.ExpiryMicros, out var expected, out int samples));
        Assert.Equal(270, samples);
        Assert.Equal(InstrumentState.Settled, s.V[s.Put].State);
        Assert.Equal(expected, s.V[s.Put].SettlementPrice);
    }

    [Fact]
    public void Random_positions_then_expiry_conserve_value_exactly()
    {
        for (int seed = 1; seed <= 4; seed++)
        {
            var random = new Random(seed);
            var v = new ExpiryVenue(ExpiryVenue.ExpiryMicros - UnixMicros.PerHour);
            int[] instruments = [v.Future, v.ListOption(99_000m + (500m * random.Next(0, 5)), OptionRight.Call), v.ListOption(100_000m + (500m * random.Next(0, 5)), OptionRight.Put)];
            int[] accounts = [.. Enumerable.Range(0, 6).Select(_ => v.NewAccount(5_000_000m))];
            for (int i = 0; i < 30; i++)
            {
                int instrument = instruments[random.Next(instruments.Length)];
                int buyer = accounts[random.Next(accounts.Length)];
                int seller = accounts[random.Next(accounts.Length)];
                if (buyer == seller)
                {
                    continue;
                }

                decimal amount = random.Next(1, 2_000) / 1_000m;
                decimal price = instrument == v.Future ? 100_000m + (0.5m * random.Next(-200, 200)) : v.NearMark(instrument);
                v.Trade(buyer, seller, instrument, amount, price);
            }

            long offset = random.Next(0, 1_000_000);
            v.RunUntil(ExpiryVenue.ExpiryMicros, t => new Price(99_000_000_000 + ((t / ExpiryVenue.Step * 7_919 + offset) % 2_000_000_001)));

            var settledEvents = v.Events.Where(e => e.Kind == EventKind.InstrumentSettled).ToArray();
            Assert.Equal(3, settledEvents.Length);
            long paid = v.Events.Where(e => e.Kind == EventKind.PositionSettled).Sum(e => e.Amount.Micros);
            long residue = settledEvents.Sum(e => e.Amount.Micros);
            Assert.Equal(paid, residue);
            Assert.True(residue >= 0);
            Assert.Equal(v.Engine.Ledger.TotalDeposited, v.TotalHeld());
            Assert.All(instruments, id => Assert.True(v[id].LongOpenInterest.IsZero && v[id].ShortOpenInterest.IsZero));
        }
    }
}
