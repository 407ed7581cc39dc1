using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// Incidents of real venues, replayed as stories with every invariant checked after every
/// command: value conserved exactly, open interest balanced (the insurance fund's takeovers
/// included), every proof valid, every close-out at the bankruptcy price or better.
/// </summary>
public class LiquidationIncidentTests
{
    private const long Second = 1_000_000;

    /// <summary>Applies a command and checks what must hold after every command of these stories.</summary>
    private static void Step(ClockedVenue venue, Command command, long advanceMicros)
    {
        venue.Accept(command, advanceMicros);
        CheckAfterCommand(venue);
    }

    private static void CheckAfterCommand(ClockedVenue venue)
    {
        string context = $"after #{venue.Sequence}";
        venue.AssertValueConserved(context);
        venue.AssertOpenInterestBalanced(context);
        var bankruptcyOfProof = new Dictionary<int, Price>();
        foreach (var e in venue.Events)
        {
            if (e.Kind == EventKind.LiquidationStep)
            {
                var verdict = LiquidationVerifier.Verify(venue.Proofs[e.ProofIndex], venue.Config);
                Assert.True(verdict.Valid, $"{verdict.Reason} {context}");
                bankruptcyOfProof[e.ProofIndex] = e.Price;
            }
            else if (e.Kind is EventKind.BackstopTakeover or EventKind.AutoDeleveraged)
            {
                Assert.Equal(bankruptcyOfProof[e.ProofIndex], e.Price);
            }
        }
    }

    /// <summary>
    /// A crash of 15% within a minute (cf. BTC on 12 March 2020, "Black Thursday", and the
    /// cascades of 10 October 2025). Twenty accounts each long 12.5 BTC at 100,000 with 37,500 of
    /// collateral (3%, inside 2% initial / 1% maintenance up to 1,000,000 of notional and 4% / 2%
    /// above); five shorts on the other side with 0.5 to 8 million. The index drifts 1% down over 20
    /// seconds (no one is liquidatable), then gaps to 85,000: each long is 150,000 under water,
    /// 3,000,000 of bankrupt losses in all, bankruptcy price 97,000 against a mark of 85,000. The
    /// insurance fund holds 1,000,000 with a floor of 250,000: it takes over what it can afford at
    /// the bankruptcy price, 750,000 of loss (62.5 BTC at 12,000 each), and auto-deleveraging closes
    /// the other 187.5 BTC against the shorts, most levered first, at 97,000: they lose 2,250,000
    /// of their 2,812,500 of profit. The sequencer's Tick every 250 ms drives the queue.
    /// </summary>
    [Fact]
    public void Minus15PercentIn60Seconds()
    {
        var floor = Money.FromWhole(250_000);
        var venue = new ClockedVenue(EngineConfig.Default with { InsuranceFloorMicros = floor.Micros });
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        venue.Accept(new DepositInsuranceFund(Money.FromWhole(1_000_000)));
        decimal[] shortCollateral = [500_000m, 1_000_000m, 2_000_000m, 4_000_000m, 8_000_000m];
        int[] shorts = [.. shortCollateral.Select(venue.NewAccount)];
        int[] longs = [.. Enumerable.Range(0, 20).Select(_ => venue.NewAccount(37_500m))];
        int bystander = venue.NewAccount(1_000_000m);
        for (int i = 0; i < longs.Length; i++)
        {
            venue.Trade(longs[i], shorts[i / 4], btc, 100_000m, 12.5m);
        }

        CheckAfterCommand(venue);
        long start = venue.Now;

        // Twenty seconds of drift: 1% down, nobody liquidatable.
        for (int s = 1; s <= 20; s++)
        {
            Step(venue, new Tick(), Second / 2);
            Step(venue, new SetIndexPrice("BTC", Price.FromDecimal(100_000m - (50m * s))), Second / 2);
            Assert.Empty(venue.Engine.LiquidationQueue);
        }

        // The gap, then the clock.
        Step(venue, new SetIndexPrice("BTC", Price.FromWhole(85_000)), Second / 2);
        Assert.Equal(longs, venue.EventsOf(EventKind.LiquidationQueued).Select(e => e.AccountId));
        Assert.Equal(16, venue.EventsOf(EventKind.LiquidationStep).Count()); // bounded per command
        var first = venue.EventsOf(EventKind.LiquidationStep).First();
        Assert.Equal(Price.FromWhole(97_000), first.Price);
        Assert.Equal(Money.FromWhole(-150_000), first.Amount);

        var adlCounterparties = new List<int>();
        var adlQuantity = Quantity.Zero;
        var takenOver = Quantity.Zero;
        while (true)
        {
            foreach (var e in venue.Events)
            {
                if (e.Kind == EventKind.AutoDeleveraged)
                {
                    adlCounterparties.Add(e.MakerAccountId);
                    adlQuantity += e.Quantity;
                }
                else if (e.Kind == EventKind.BackstopTakeover)
                {
                    takenOver += e.Quantity;
                }
            }

            Assert.True(venue.FundEquity() >= floor, $"the fund is at {venue.FundEquity()}, below its floor, after #{venue.Sequence}");
            if (venue.Now - start + (Second / 4) > 60 * Second)
            {
                break;
            }

            Step(venue, new Tick(), Second / 4);
        }

        // Everything was closed within the minute.
        Assert.Empty(venue.Engine.LiquidationQueue);
        Assert.All(longs, l => Assert.True(venue.Position(l, btc).Size.IsZero));
        Assert.All(longs, l => Assert.Equal(Money.Zero, venue.Account(l).Cash)); // closed at exactly the bankruptcy price: nothing left, nothing owed

        // The fund paid down to its floor, no further; ADL took the rest.
        Assert.Equal(Quantity.FromDecimal(62.5m), takenOver);
        Assert.Equal(takenOver, venue.Fund.GetPosition(btc).Size);
        Assert.Equal(floor, venue.FundEquity());
        Assert.Equal(Quantity.FromDecimal(187.5m), adlQuantity);
        Assert.DoesNotContain(venue.Engine.Ledger.Insurance.Id, adlCounterparties);

        // ADL order: the most levered short first (the least collateral); each short's loss against the mark is 12,000 per BTC deleveraged.
        Assert.Equal(shorts[0], adlCounterparties[0]);
        decimal shortsEquity = shorts.Sum(s => venue.Engine.GetMarginSummary(s).Equity.ToDecimal());
        Assert.Equal(shortCollateral.Sum() + (250m * 15_000m) - 2_250_000m, shortsEquity);

        // No one is left below zero, and the bystander never lost a micro.
        venue.AssertNoNegativeEquity();
        Assert.Equal(Money.FromWhole(1_000_000), venue.Account(bystander).Cash);
    }

    /// <summary>
    /// After the ETH whale of March 2025 on Hyperliquid, who withdrew unrealized profit and left
    /// the venue's vault to absorb a 4,000,000 loss when it was liquidated. Here the whale is long
    /// 5,000 ETH at 3,000 (15,000,000 of notional) with 1,200,000 of collateral. At 3,300 it has
    /// 1,500,000 of unrealized profit, but unrealized profit is never withdrawable: the withdrawal
    /// is refused. ETH gaps to 2,700: equity −300,000, bankruptcy price 2,760. The insurance fund
    /// (50,000,000) takes over at 2,760 only up to its per-instrument limit of 10,000,000 of
    /// notional at the mark (3,703.70 ETH at 2,700), and auto-deleveraging closes the rest.
    /// </summary>
    [Fact]
    public void HyperliquidEthWhale2025()
    {
        var venue = new ClockedVenue();
        var limit = new Money(venue.Config.BackstopMaxNotionalPerInstrumentMicros);
        Assert.Equal(Money.FromWhole(10_000_000), limit);
        int eth = venue.ListPerpetual("ETH", 0.05m, 0.01m, 3_000m);
        venue.Accept(new DepositInsuranceFund(Money.FromWhole(50_000_000)));
        int whale = venue.NewAccount(1_200_000m);
        int[] shorts = [venue.NewAccount(1_000_000m), venue.NewAccount(1_500_000m), venue.NewAccount(2_000_000m), venue.NewAccount(3_000_000m)];
        foreach (int s in shorts)
        {
            venue.Trade(whale, s, eth, 3_000m, 1_250m);
        }

        Assert.Equal(Quantity.FromWhole(5_000), venue.Position(whale, eth).Size);
        CheckAfterCommand(venue);

        // Up 10%: 1,500,000 of unrealized profit that cannot leave.
        Step(venue, new SetIndexPrice("ETH", Price.FromWhole(3_300)), Second);
        var summary = venue.Engine.GetMarginSummary(whale);
        Assert.Equal(Money.FromWhole(1_500_000), summary.UnrealizedPnl);
        Assert.Equal(Money.FromWhole(2_700_000), summary.Equity);
        string hash = venue.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new Withdraw(whale, Money.FromWhole(1_500_000))));
        Assert.Equal(RejectReason.InsufficientFreeCollateral, venue.Apply(new Withdraw(whale, Money.FromWhole(1))));
        Assert.Equal(hash, venue.Engine.ComputeStateHashHex());
        Assert.True(venue.Engine.GetMarginSummary(whale).Available.IsNegative); // 1,200,000 of balance under 1,330,000 of initial

        // The gap.
        Step(venue, new SetIndexPrice("ETH", Price.FromWhole(2_700)), Second);
        var step = Assert.Single(venue.EventsOf(EventKind.LiquidationStep));
        Assert.Equal(Money.FromWhole(-300_000), step.Amount);
        Assert.Equal(Price.FromWhole(2_760), step.Price);
        Assert.Equal(Quantity.FromWhole(1_000), step.Quantity);
        Assert.Equal(RejectReason.AccountInLiquidation, venue.Apply(new Withdraw(whale, Money.FromWhole(1))));

        var adlQuantity = Quantity.Zero;
        for (int tick = 0; venue.Engine.LiquidationQueue.Count > 0; tick++)
        {
            Assert.True(tick < 200, "the whale is still being liquidated after 200 ticks");
            Step(venue, new Tick(), Second / 4);
            adlQuantity += venue.EventsOf(EventKind.AutoDeleveraged).Aggregate(Quantity.Zero, (sum, e) => sum + e.Quantity);
            Assert.True(FundNotional(venue, eth) <= limit, $"the fund holds {FundNotional(venue, eth)} of ETH at the mark, above its limit of {limit}");
        }

        // The fund filled its limit to the lot and no further; the rest was deleveraged.
        var fundSize = venue.Fund.GetPosition(eth).Size;
        Assert.Equal(Quantity.FromDecimal(3_703.70m), fundSize);
        Assert.True(FundNotional(venue, eth) + Money.FromWhole(27) > limit); // one more lot (0.01 × 2,700) would break it
        Assert.Equal(Quantity.FromWhole(5_000) - fundSize, adlQuantity);
        Assert.True(venue.Position(whale, eth).Size.IsZero);
        Assert.Equal(Money.Zero, venue.Account(whale).Cash); // everything closed at the bankruptcy price: the whale ends at zero, owing nothing
        Assert.Equal(Money.FromWhole(50_000_000) - Money.FromDecimal(3_703.70m * 60m), venue.FundEquity());
        venue.AssertNoNegativeEquity();
    }

    private static Money FundNotional(ClockedVenue venue, int instrument) =>
        Notional.Of(venue.Engine.Instruments[instrument - 1].MarkPrice, venue.Fund.GetPosition(instrument).Size.Abs(), Rounding.Ceiling);
}
