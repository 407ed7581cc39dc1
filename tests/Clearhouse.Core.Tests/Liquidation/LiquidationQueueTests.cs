using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// How a cascade is worked through: positions above 100,000 USDC of notional go 20% per step, one
/// step per queued account per command, round-robin, at most
/// <see cref="EngineConfig.MaxLiquidationStepsPerCommand"/> steps per command; the queue is
/// canonical state, so a crash in the middle replays to exactly the same place. And which
/// position goes first: the one with the larger maintenance contribution.
/// </summary>
public class LiquidationQueueTests
{
    private const int Traders = 5;

    /// <summary>
    /// Five accounts, each long 2 BTC at 100,000 with 5,000 USDC, bought in reverse account order
    /// (so the venue's exposure index does not list them by id). At an index of 98,000 each has
    /// equity 1,000 &lt; maintenance 1,960 and a bankruptcy price of 97,500. Nothing bids: every
    /// step goes to the insurance fund at the bankruptcy price.
    /// </summary>
    private static (ClockedVenue Venue, int Btc, int[] Traders) FiveLeveragedLongs(int maxStepsPerCommand)
    {
        var venue = new ClockedVenue(EngineConfig.Default with { MaxLiquidationStepsPerCommand = maxStepsPerCommand });
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        int maker = venue.NewAccount(10_000_000m);
        int[] traders = [.. Enumerable.Range(0, Traders).Select(_ => venue.NewAccount(5_000m))];
        foreach (int trader in traders.Reverse())
        {
            venue.Trade(trader, maker, btc, 100_000m, 2m);
        }

        return (venue, btc, traders);
    }

    /// <summary>The round-robin rule as a model: each command steps the first <c>max</c> entries, those not finished go to the back.</summary>
    private static List<(int[] Stepped, int[] QueueAfter)> ModelRoundRobin(int[] accounts, int stepsEach, int maxPerCommand)
    {
        var queue = new List<int>(accounts);
        var left = accounts.ToDictionary(a => a, _ => stepsEach);
        var commands = new List<(int[], int[])>();
        while (queue.Count > 0)
        {
            var now = queue.Take(maxPerCommand).ToArray();
            queue.RemoveRange(0, now.Length);
            foreach (int account in now)
            {
                if (--left[account] > 0)
                {
                    queue.Add(account);
                }
            }

            commands.Add((now, [.. queue]));
        }

        return commands;
    }

    // 2 → 1.6 → 1.28 → 1.024 (still 100,352 at 98,000: a fifth, 0.2048 rounded up to the lot) → 0.819 (80,262: all of it).
    private static readonly decimal[] ExpectedSteps = [0.4m, 0.32m, 0.256m, 0.205m, 0.819m];

    [Fact]
    public void A_cascade_is_worked_through_one_step_per_account_per_command_round_robin_and_bounded_per_command()
    {
        var (venue, btc, traders) = FiveLeveragedLongs(maxStepsPerCommand: 3);
        var steps = traders.ToDictionary(t => t, _ => new List<decimal>());
        var observed = new List<(int[] Stepped, int[] QueueAfter)>();

        venue.SetIndex("BTC", 98_000m);
        // Found by one command, queued in (account, instrument) order whatever order the exposure index gave.
        Assert.Equal(traders, venue.EventsOf(EventKind.LiquidationQueued).Select(e => e.AccountId));
        while (true)
        {
            var stepEvents = venue.EventsOf(EventKind.LiquidationStep).ToArray();
            if (stepEvents.Length == 0)
            {
                break;
            }

            Assert.True(stepEvents.Length <= 3, $"{stepEvents.Length} steps in one command");
            observed.Add(([.. stepEvents.Select(e => e.AccountId)], [.. venue.Engine.LiquidationQueue.Select(k => k.AccountId)]));
            foreach (var e in stepEvents)
            {
                steps[e.AccountId].Add(e.Quantity.ToDecimal());
                Assert.Equal(Price.FromWhole(97_500), e.Price); // the bankruptcy price does not move as a position is closed at it
                var verdict = LiquidationVerifier.Verify(venue.Proofs[e.ProofIndex], venue.Config);
                Assert.True(verdict.Valid, verdict.Reason);
            }

            // The queue after the command: the entries still being liquidated, in the order they will be processed.
            var expectedQueue = traders.Where(t => steps[t].Count < ExpectedSteps.Length).ToArray();
            Assert.Equal(expectedQueue.Length, venue.Engine.LiquidationQueue.Count);
            Assert.All(venue.Engine.LiquidationQueue, key => Assert.Equal(0, key.InstrumentId));

            // Any accepted command drives the queue; a deposit into the maker moves no mark.
            venue.Accept(new Deposit(1, Money.FromWhole(1)));
        }

        var model = ModelRoundRobin(traders, ExpectedSteps.Length, 3);
        Assert.Equal(model.Count, observed.Count);
        for (int i = 0; i < model.Count; i++)
        {
            Assert.Equal(model[i].Stepped, observed[i].Stepped);
            Assert.Equal(model[i].QueueAfter, observed[i].QueueAfter);
        }

        foreach (int trader in traders)
        {
            Assert.Equal(ExpectedSteps, steps[trader]);
            Assert.True(venue.Position(trader, btc).Size.IsZero);
            Assert.False(venue.Engine.IsBeingLiquidated(trader, 0));
        }

        Assert.Empty(venue.Engine.LiquidationQueue);
        Assert.Equal(Quantity.FromWhole(2 * Traders), venue.Fund.GetPosition(btc).Size);
        venue.AssertValueConserved();
        venue.AssertOpenInterestBalanced();
        venue.AssertNoNegativeEquity();
    }

    [Fact]
    public void A_rejected_command_does_no_liquidation_work_and_an_account_in_the_queue_cannot_trade_or_withdraw()
    {
        var (venue, btc, traders) = FiveLeveragedLongs(maxStepsPerCommand: 1);
        venue.SetIndex("BTC", 98_000m);
        Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        string hash = venue.Engine.ComputeStateHashHex();

        Assert.Equal(RejectReason.AccountInLiquidation, venue.TryPlace(traders[^1], btc, Side.Sell, 99_000m, 0.1m));
        Assert.Equal(RejectReason.AccountInLiquidation, venue.Apply(new Withdraw(traders[^1], Money.FromWhole(1))));
        Assert.Equal(RejectReason.UnknownAccount, venue.Apply(new Deposit(999, Money.FromWhole(1))));
        Assert.Equal(hash, venue.Engine.ComputeStateHashHex());
        Assert.DoesNotContain(venue.Events, e => e.Kind == EventKind.LiquidationStep);

        venue.Accept(new Deposit(1, Money.FromWhole(1)));
        Assert.Equal(traders[1], Assert.Single(venue.EventsOf(EventKind.LiquidationStep)).AccountId);
    }

    [Fact]
    public void A_crash_in_the_middle_of_a_cascade_replays_to_the_same_state_after_every_later_command()
    {
        var (venue, btc, traders) = FiveLeveragedLongs(maxStepsPerCommand: 2);
        venue.SetIndex("BTC", 98_000m);
        venue.Accept(new Deposit(1, Money.FromWhole(1)));
        venue.Accept(new Deposit(1, Money.FromWhole(1)));
        Assert.Equal(Traders, venue.Engine.LiquidationQueue.Count); // six steps done of twenty-five: mid-cascade

        // The crash: a snapshot now, restored into a fresh engine.
        var restored = venue.Restore();
        Assert.Equal(venue.Engine.LiquidationQueue, restored.Engine.LiquidationQueue);
        Assert.Equal(venue.Engine.ComputeStateHashHex(), restored.Engine.ComputeStateHashHex());

        // Both go on with the same commands, among them more price moves and a trade by a queued account's counterparty.
        Command[] later =
        [
            new Deposit(1, Money.FromWhole(1)),
            new SetIndexPrice("BTC", Price.FromWhole(97_900)),
            new Tick(),
            new PlaceOrder(1, btc, Side.Buy, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromWhole(97_000), Quantity.FromDecimal(0.5m)),
            new SetIndexPrice("BTC", Price.FromWhole(97_800)),
            .. Enumerable.Repeat<Command>(new Tick(), 12),
        ];
        int stepsAfter = 0;
        foreach (var command in later)
        {
            var a = venue.Apply(command, 250_000);
            var b = restored.Apply(command, 250_000);
            Assert.Equal(a, b);
            Assert.Equal(venue.Events, restored.Events);
            Assert.Equal(venue.Engine.ComputeStateHashHex(), restored.Engine.ComputeStateHashHex());
            Assert.Equal(venue.Engine.LiquidationQueue, restored.Engine.LiquidationQueue);
            Assert.Equal(venue.Proofs, restored.Proofs, (x, y) => LiquidationProofs.SameFields(x, y));
            stepsAfter += venue.EventsOf(EventKind.LiquidationStep).Count();
        }

        Assert.True(stepsAfter >= 10, $"only {stepsAfter} steps after the crash");
        Assert.Empty(venue.Engine.LiquidationQueue);
        Assert.All(traders, t => Assert.True(venue.Position(t, btc).Size.IsZero));

        // And a replay of the whole journal from genesis reaches the same state.
        var replay = new Core.Engine.Engine(venue.Config);
        foreach (var command in venue.Applied)
        {
            replay.Apply(command);
        }

        Assert.Equal(venue.Engine.ComputeStateHashHex(), replay.ComputeStateHashHex());
    }

    [Fact]
    public void Of_two_positions_the_one_with_the_larger_maintenance_contribution_is_closed_first()
    {
        // BTC (instrument 1): the LargeCap table, 1% maintenance. ETH (instrument 2): a riskier table, 5%.
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        var riskier = MarginTiers.Create([new MarginTier(new Money(long.MaxValue), 100_000, 50_000)]);
        int eth = venue.ListPerpetual("ETH", 0.05m, 0.01m, 3_000m, tiers: riskier);
        int maker = venue.NewAccount(10_000_000m);

        // Long 1 BTC (100,000 of notional, maintenance 1,000) and 20 ETH (60,000, maintenance 3,000):
        // the BTC position is larger, has the lower id and is the one whose price falls, yet ETH carries more maintenance.
        int trader = venue.NewAccount(12_000m);
        venue.Trade(trader, maker, btc, 100_000m, 1m);
        venue.Trade(trader, maker, eth, 3_000m, 20m);
        venue.SetIndex("BTC", 94_000m); // equity 6,000 ≥ maintenance 940 + 3,000: healthy
        Assert.Empty(venue.Engine.LiquidationQueue);
        venue.SetIndex("BTC", 91_000m); // equity 3,000 < maintenance 910 + 3,000

        var first = venue.EventsOf(EventKind.LiquidationStep).First();
        Assert.Equal(eth, first.InstrumentId);
        Assert.Equal(Quantity.FromWhole(20), first.Quantity); // 60,000 of notional: all of it at once
        var proof = venue.Proofs[first.ProofIndex];
        Assert.Equal([btc, eth], proof.Positions.Select(p => p.InstrumentId));
        Assert.True(LiquidationVerifier.Verify(proof).Valid);

        // The verifier holds the engine to the rule: a proof naming the BTC position instead is invalid.
        var verdict = LiquidationVerifier.Verify(proof with { ChosenInstrumentId = btc });
        Assert.False(verdict.Valid);
        Assert.Contains($"close instrument {eth} first", verdict.Reason);

        // With ETH gone at its bankruptcy price the equity is zero, below BTC's maintenance: BTC goes next.
        venue.Accept(new Deposit(maker, Money.FromWhole(1)));
        Assert.Equal(btc, Assert.Single(venue.EventsOf(EventKind.LiquidationStep)).InstrumentId);
        Assert.True(venue.Position(trader, btc).Size.IsZero && venue.Position(trader, eth).Size.IsZero);
        venue.AssertValueConserved();
        venue.AssertNoNegativeEquity();
    }
}

/// <summary>Field-by-field equality of proofs (records holding lists compare lists by reference).</summary>
internal static class LiquidationProofs
{
    public static bool SameFields(LiquidationProof x, LiquidationProof y) =>
        x.Sequence == y.Sequence && x.TimestampMicros == y.TimestampMicros && x.AccountId == y.AccountId
        && x.IsolatedInstrumentId == y.IsolatedInstrumentId && x.Mode == y.Mode && x.Cash == y.Cash
        && x.Positions.Count == y.Positions.Count && x.Positions.Zip(y.Positions).All(p => SamePosition(p.First, p.Second))
        && x.Underlyings.SequenceEqual(y.Underlyings)
        && x.Equity == y.Equity && x.Maintenance == y.Maintenance && x.Initial == y.Initial
        && x.ChosenInstrumentId == y.ChosenInstrumentId && x.Step == y.Step && x.BankruptcyPrice == y.BankruptcyPrice
        && x.FullCloseNotionalMicros == y.FullCloseNotionalMicros && x.StepPpm == y.StepPpm
        && x.AdlRanking.Count == y.AdlRanking.Count
        && x.AdlRanking.Zip(y.AdlRanking).All(a => a.First.AccountId == a.Second.AccountId && BitConverter.DoubleToInt64Bits(a.First.Key) == BitConverter.DoubleToInt64Bits(a.Second.Key));

    public static bool SamePosition(ProofPosition x, ProofPosition y) =>
        x.InstrumentId == y.InstrumentId && x.Spec.Name == y.Spec.Name && x.Spec.TickSize == y.Spec.TickSize && x.Spec.MinAmount == y.Spec.MinAmount
        && x.Spec.MakerFeePpm == y.Spec.MakerFeePpm && x.Spec.TakerFeePpm == y.Spec.TakerFeePpm && x.Spec.MarketProtectionPpm == y.Spec.MarketProtectionPpm
        && x.Spec.Tiers.Tiers.SequenceEqual(y.Spec.Tiers.Tiers)
        && x.Mark == y.Mark && x.Size == y.Size && x.OpenCost == y.OpenCost
        && x.OpenBuyQuantity == y.OpenBuyQuantity && x.OpenSellQuantity == y.OpenSellQuantity
        && x.OpenBuyNotional == y.OpenBuyNotional && x.OpenSellNotional == y.OpenSellNotional
        && x.Isolated == y.Isolated && x.IsolatedCash == y.IsolatedCash
        && x.OptionForward == y.OptionForward && x.OptionMarkedMicros == y.OptionMarkedMicros
        && BitConverter.DoubleToInt64Bits(x.OptionVolatility) == BitConverter.DoubleToInt64Bits(y.OptionVolatility);
}
