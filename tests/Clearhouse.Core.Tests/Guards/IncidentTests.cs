using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using NSec.Cryptography;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>
/// Manipulations that drained real venues, replayed against the guards (docs/guards.md). Each test
/// is named after its incident and asserts what the guards and margin guarantee. Liquidation is
/// outside this part: where an incident ends in a liquidation, the test asserts the margin bound.
/// </summary>
public class IncidentTests
{
    /// <summary>
    /// Mango Markets, Oct 2022: the attacker held both sides of a thin perpetual (MNGO-PERP) from two
    /// accounts, pushed the oracle up ~24× within minutes, and borrowed against the unrealized profit.
    /// </summary>
    [Fact]
    public void Mango_Markets_Oct_2022()
    {
        var v = new GuardVenue();
        int mngo = v.ListPerpetual("MNGO", 100m, new GuardParameters(
            PriceBandPpm: 100_000,
            OpenInterestCap: GuardVenue.Q(2_000m),
            PositionLimitFloor: GuardVenue.Q(1_000m),
            PositionLimitOpenInterestPpm: 100_000,
            BreakerMovePpm: 100_000,
            BreakerWindowMicros: 10 * GuardVenue.Minute,
            BreakerHaltMicros: 15 * GuardVenue.Minute));

        // Three oracle sources, quorum 2.
        var keys = Enumerable.Range(11, 3).Select(i => PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)i, 32).ToArray())).ToArray();
        v.Accept(new ConfigureOracle("MNGO", new OracleParameters(2, 15 * GuardVenue.Minute, GuardVenue.Second, 50_000)));
        var reporters = new int[3];
        for (int i = 0; i < 3; i++)
        {
            v.Accept(new RegisterReporter("MNGO", PriceReport.PublicKeyOf(keys[i])));
            reporters[i] = v.Events[0].ReporterId;
        }

        void Report(int source, decimal price) =>
            v.Accept(new SubmitPriceReport(PriceReport.Sign(keys[source], "MNGO", Price.FromDecimal(price), v.Now, reporters[source])));

        for (int i = 0; i < 3; i++)
        {
            Report(i, 100m);
        }

        v.TickAfter(GuardVenue.Second);
        int longSide = v.NewAccount(50_000m);
        int shortSide = v.NewAccount(50_000m);

        // The two accounts try to build a position far beyond the market: refused at entry.
        v.Reject(GuardVenue.Order(shortSide, mngo, Side.Sell, 100m, 5_000m), RejectReason.OpenInterestCapExceeded);
        v.Reject(GuardVenue.Order(shortSide, mngo, Side.Sell, 100m, 1_500m), RejectReason.PositionLimitExceeded);
        v.Place(shortSide, mngo, Side.Sell, 100m, 1_000m);
        v.Place(longSide, mngo, Side.Buy, 100m, 1_000m);
        v.Reject(GuardVenue.Order(longSide, mngo, Side.Buy, 100m, 0.001m), RejectReason.PositionLimitExceeded);

        // A second pair fills the market to its open-interest cap; beyond it nothing opens.
        int secondLong = v.NewAccount(50_000m);
        int secondShort = v.NewAccount(50_000m);
        v.Place(secondShort, mngo, Side.Sell, 100m, 1_000m);
        v.Place(secondLong, mngo, Side.Buy, 100m, 1_000m);
        Assert.Equal(GuardVenue.Q(2_000m), v.OpenInterest(mngo));
        int third = v.NewAccount(50_000m);
        v.Reject(GuardVenue.Order(third, mngo, Side.Buy, 100m, 0.001m), RejectReason.OpenInterestCapExceeded);

        // Before the pump the long side may withdraw what is free after initial margin.
        v.Accept(new Withdraw(longSide, Money.FromDecimal(10_000m)));

        // Two of three sources jump 24× within 10 minutes: the index follows (quorum 2).
        v.Advance(4 * GuardVenue.Minute);
        Report(0, 2_400m);
        v.Advance(4 * GuardVenue.Minute);
        Report(1, 2_400m);
        Report(2, 100m);
        Assert.True(v.Engine.TryGetUnderlying("MNGO", out var underlying));
        Assert.Equal(Price.FromDecimal(2_400m), underlying.IndexPrice);

        // The breaker halts the market on the next sample.
        v.TickAfter(GuardVenue.Second);
        Assert.Contains(v.Events, e => e.Kind == EventKind.TradingHalted && e.InstrumentId == mngo);
        v.Reject(GuardVenue.Order(longSide, mngo, Side.Sell, 2_400m, 1_000m), RejectReason.TradingHalted);

        // Exposure is bounded by the position limit: at most 1,000 contracts × 2,300 of move, realized
        // or not. The shorts went bankrupt at once; the waterfall (no bids, an empty insurance fund)
        // closed them against the longs at their bankruptcy prices, so the longs' realized gain is
        // exactly what the shorts had, and nobody is left below zero (docs/liquidation.md).
        // The waterfall closes large positions 20% per step, one step per command: let the clock run it out.
        for (int i = 0; i < 50 && v.Engine.LiquidationQueue.Count > 0; i++)
        {
            v.TickAfter(GuardVenue.Second);
        }

        Assert.Empty(v.Engine.LiquidationQueue);
        var summary = v.Engine.GetMarginSummary(longSide);
        var longPosition = Position(v, longSide, mngo);
        Assert.True(summary.UnrealizedPnl + longPosition.RealizedPnl <= Money.FromDecimal(1_000m * 2_300m));
        foreach (int shortAccount in new[] { shortSide, secondShort })
        {
            Assert.True(Position(v, shortAccount, mngo).Size.IsZero);
            Assert.True(v.Engine.GetMarginSummary(shortAccount).Equity >= Money.Zero);
        }

        // Unrealized profit cannot be withdrawn: at most the cash the account really has.
        var longCash = v.Engine.TryGetAccount(longSide, out var longAccount) ? longAccount.Cash : Money.Zero;
        v.Reject(new Withdraw(longSide, Money.FromDecimal(1_000_000m)), RejectReason.InsufficientFreeCollateral);
        v.Reject(new Withdraw(longSide, Money.Max(Money.Zero, longCash) + Money.FromDecimal(0.000001m)), RejectReason.InsufficientFreeCollateral);

        // Withdrawals never exceed deposits plus realized PnL.
        var realized = Money.Zero;
        for (int id = 1; id <= v.Engine.AccountCount; id++)
        {
            Assert.True(v.Engine.TryGetAccount(id, out var account));
            realized += account.GetPosition(mngo).RealizedPnl;
        }

        Assert.True(v.Engine.Ledger.TotalWithdrawn <= v.Engine.Ledger.TotalDeposited + realized);
    }

    /// <summary>
    /// dYdX YFI, Nov 2023: open interest in YFI-USD ramped ~84× over days, then the price gapped
    /// −45%; positions opened at 2–5% initial margin left ~9M USD of losses to the insurance fund.
    /// With the soft cap, the initial rate rose with open interest ahead of the gap.
    /// </summary>
    [Fact]
    public void DYdX_YFI_Nov_2023()
    {
        const decimal index = 10_000m;
        var guards = new GuardParameters(
            OpenInterestCap: GuardVenue.Q(100m),
            OpenInterestSoftLower: GuardVenue.Q(10m),
            OpenInterestSoftUpper: GuardVenue.Q(100m));
        var v = new GuardVenue();
        int yfi = v.ListPerpetual("YFI", index, guards);
        int maker = v.NewAccount(100_000_000m);

        // Day by day open interest goes 1 → 84, each day's buyer depositing exactly the initial
        // margin the engine requires (computed here from dYdX's formula, independently).
        decimal[] targets = [1m, 2m, 4m, 8m, 16m, 32m, 48m, 64m, 76m, 84m];
        var entrants = new List<(int Account, decimal Amount, long ScalePpm)>();
        decimal openInterest = 0m;
        foreach (decimal target in targets)
        {
            v.Advance(GuardVenue.Day);
            decimal amount = target - openInterest;
            long scale = guards.OpenInterestScalePpm(GuardVenue.Q(openInterest));
            var required = RequiredInitial(index, amount, scale);
            int buyer = v.NewAccount();
            v.Accept(new Deposit(buyer, required - new Money(1)));
            v.Place(maker, yfi, Side.Sell, index, amount);
            v.Reject(GuardVenue.Order(buyer, yfi, Side.Buy, index, amount), RejectReason.InsufficientMargin);
            v.Accept(new Deposit(buyer, new Money(1)));
            v.Place(buyer, yfi, Side.Buy, index, amount);
            entrants.Add((buyer, amount, scale));
            openInterest = target;
        }

        Assert.Equal(GuardVenue.Q(84m), v.OpenInterest(yfi)); // 84× the first day's

        // Orders above the hard cap are rejected.
        int late = v.NewAccount(10_000_000m);
        v.Reject(GuardVenue.Order(late, yfi, Side.Buy, index, 16.001m), RejectReason.OpenInterestCapExceeded);
        v.Reject(GuardVenue.Order(maker, yfi, Side.Sell, index, 16.001m), RejectReason.OpenInterestCapExceeded);

        // Ahead of the gap the rate at this open interest covers a 45% loss.
        long scaleNow = guards.OpenInterestScalePpm(v.OpenInterest(yfi));
        Assert.True(RequiredInitial(index, 1m, scaleNow) >= Money.FromDecimal(0.45m * index));

        // The gap: −45%.
        v.SetIndex("YFI", index * 0.55m);
        foreach (var (account, amount, scale) in entrants)
        {
            var equity = v.Engine.GetMarginSummary(account).Equity;
            bool marginedForTheGap = RequiredInitial(index, amount, scale) >= Money.FromDecimal(0.45m * index * amount);
            if (marginedForTheGap)
            {
                Assert.False(equity.IsNegative, $"entrant {account} opened at scale {scale} ppm and still went below zero");
            }
        }

        // Every position opened at open interest 64 or more (scale ≥ 60%: an initial rate ≥ 60.8%) was margined for the gap.
        Assert.All(entrants.Skip(8), e => Assert.True(RequiredInitial(index, e.Amount, e.ScalePpm) >= Money.FromDecimal(0.45m * index * e.Amount)));

        // What is left for the insurance fund comes only from positions opened while the rate was
        // below the gap (open interest under ~49.5 here): bounded by the soft cap's parameters.
        var badDebt = Money.Zero;
        foreach (var (account, _, _) in entrants)
        {
            badDebt += Money.Max(Money.Zero, -v.Engine.GetMarginSummary(account).Equity);
        }

        Assert.True(badDebt <= Money.FromDecimal(0.45m * index * 49.5m), $"bad debt {badDebt}");

        // And the waterfall (docs/liquidation.md) leaves no bad debt on anyone: once the queue is
        // drained no account is below zero; what the bankrupt entrants could not pay was taken by the
        // insurance fund, or by auto-deleveraging the opposite side.
        for (int i = 0; i < 100 && v.Engine.LiquidationQueue.Count > 0; i++)
        {
            v.TickAfter(GuardVenue.Second);
        }

        Assert.Empty(v.Engine.LiquidationQueue);
        for (int id = 1; id <= v.Engine.AccountCount; id++)
        {
            Assert.False(v.Engine.GetMarginSummary(id).Equity.IsNegative, $"account {id} left below zero");
        }
    }

    /// <summary>Tiered 2% plus the soft cap's share of the rest, rounded as the engine rounds (up).</summary>
    private static Money RequiredInitial(decimal price, decimal amount, long scalePpm)
    {
        var notional = Notional.Of(Price.FromDecimal(price), Quantity.FromDecimal(amount), Rounding.Ceiling);
        var tiered = Clearhouse.Core.Margin.MarginTiers.LargeCap.Initial(notional);
        return tiered + (notional - tiered).MultiplyPpm(scalePpm, Rounding.Ceiling);
    }

    /// <summary>
    /// Hyperliquid JELLY, Mar 2025: a trader opened a short far larger than the book could absorb,
    /// self-liquidated into the backstop vault, then the price was pushed up ~400%.
    /// </summary>
    [Fact]
    public void Hyperliquid_JELLY_Mar_2025()
    {
        var guards = new GuardParameters(PositionLimitFloor: GuardVenue.Q(100m), PositionLimitOpenInterestPpm: 100_000);
        var v = new GuardVenue();
        int jelly = v.ListPerpetual("JELLY", 100m, guards);
        int maker = v.NewAccount(1_000_000m);
        for (int level = 0; level < 5; level++)
        {
            v.Place(maker, jelly, Side.Buy, 99.5m - level, 10m); // 50 contracts of depth
        }

        int whale = v.NewAccount(10_000_000m);
        v.Reject(GuardVenue.Order(whale, jelly, Side.Sell, 95m, 10_000m), RejectReason.PositionLimitExceeded);
        Assert.Equal(Quantity.Zero, v.Size(whale, jelly));

        // At the limit the short is accepted; its exposure is the limit, not the whale's wish.
        v.Place(whale, jelly, Side.Sell, 95.5m, 100m);
        Assert.Equal(GuardVenue.Q(-50m), v.Size(whale, jelly));

        // The backstop is an account like any other: it cannot take over more than its per-market limit.
        int backstop = v.NewAccount(100_000_000m);
        v.Reject(GuardVenue.Order(backstop, jelly, Side.Buy, 100m, 100.001m), RejectReason.PositionLimitExceeded);

        // Index +400%: the whale's worst case (every order filled) is the limit times the move.
        v.SetIndex("JELLY", 500m);
        var summary = v.Engine.GetMarginSummary(whale);
        Assert.True(-summary.UnrealizedPnl <= Money.FromDecimal(100m * 405m));
    }

    /// <summary>
    /// Hyperliquid JELLY, Mar 2025, the second half: the short that was let in goes bankrupt on the
    /// +400% move and the backstop takes it over — but only up to its per-market limit; the rest is
    /// auto-deleveraged against the longs at the bankruptcy price, and nobody is left below zero.
    /// </summary>
    [Fact]
    public void Hyperliquid_JELLY_Mar_2025_backstop_takeover_stays_within_its_per_market_limit()
    {
        var guards = new GuardParameters(PositionLimitFloor: GuardVenue.Q(100m), PositionLimitOpenInterestPpm: 100_000);
        var config = EngineConfig.Default with { BackstopMaxNotionalPerInstrumentMicros = 10_000L * 1_000_000 };
        var v = new GuardVenue(config);
        int jelly = v.ListPerpetual("JELLY", 100m, guards);
        v.Accept(new DepositInsuranceFund(Money.FromWhole(1_000_000)));
        int maker = v.NewAccount(1_000_000m);
        for (int level = 0; level < 5; level++)
        {
            v.Place(maker, jelly, Side.Buy, 99.5m - level, 10m); // 50 contracts of depth
        }

        int whale = v.NewAccount(1_000m);
        v.Place(whale, jelly, Side.Sell, 95.5m, 50m);
        Assert.Equal(GuardVenue.Q(-50m), v.Size(whale, jelly));

        // Index +400%: the whale is far below zero; the book has no asks to buy back from.
        v.SetIndex("JELLY", 500m);
        var takeover = Assert.Single(v.Events, e => e.Kind == EventKind.BackstopTakeover);
        Assert.Equal(GuardVenue.Q(20m), takeover.Quantity); // 10,000 USDC of notional at a mark of 500
        var fundPosition = v.Engine.Ledger.Insurance.GetPosition(jelly);
        Assert.True(Notional.Of(v.Instrument(jelly).MarkPrice, fundPosition.Size.Abs(), Rounding.Ceiling) <= Money.FromWhole(10_000));
        Assert.Equal(GuardVenue.Q(30m), Quantity.FromDecimal(v.Events.Where(e => e.Kind == EventKind.AutoDeleveraged).Sum(e => e.Quantity.ToDecimal())));
        Assert.Equal(Quantity.Zero, v.Size(whale, jelly));
        Assert.True(v.Engine.GetMarginSummary(whale).Equity >= Money.Zero);
        Assert.True(v.Engine.GetMarginSummary(maker).Equity >= Money.Zero);
    }

    /// <summary>
    /// bZx, Feb 2020: one transaction swept a thin market (~3× the price of sUSD/ETH on Uniswap), and
    /// the lending protocol valued collateral at the manipulated price.
    /// </summary>
    [Fact]
    public void BZx_Feb_2020()
    {
        var v = new GuardVenue();
        int btc = v.ListPerpetual("BTC", 100_000m);
        int maker = v.NewAccount(100_000_000m);
        for (int step = 1; step <= 30; step++)
        {
            v.Place(maker, btc, Side.Sell, 100_000m + (1_000m * step), 1m); // asks +1% … +30%
        }

        v.Accept(new SetInstrumentGuards(btc, new GuardParameters(PriceBandPpm: 100_000)));
        int attacker = v.NewAccount(10_000_000m);

        // A limit order that would sweep 30% of the book in one command is outside the band.
        v.Reject(GuardVenue.Order(attacker, btc, Side.Buy, 130_000m, 30m, TimeInForce.ImmediateOrCancel), RejectReason.PriceOutsideBand);

        // A market order sweeps no further than market protection (5%).
        v.Accept(GuardVenue.Order(attacker, btc, Side.Buy, 0m, 30m, TimeInForce.ImmediateOrCancel, OrderType.Market));
        Assert.Equal(5, v.Events.Count(e => e.Kind == EventKind.TradeExecuted));
        Assert.Equal(GuardVenue.Q(5m), v.Size(attacker, btc));

        // Up to the band's edge (+10%) a limit order is accepted, and sweeps that far.
        v.Accept(GuardVenue.Order(attacker, btc, Side.Buy, 110_000m, 30m, TimeInForce.ImmediateOrCancel));
        Assert.Equal(GuardVenue.Q(10m), v.Size(attacker, btc));

        // The mark used for margin does not follow the sweep: it stays at the index.
        var instrument = v.Instrument(btc);
        Assert.Equal(Price.FromDecimal(110_000m), instrument.LastTradePrice);
        for (int i = 0; i < 10; i++)
        {
            v.TickAfter(GuardVenue.Second);
        }

        Assert.Equal(Price.FromDecimal(100_000m), instrument.MarkPrice);

        // So the sweep is a loss to the attacker's equity, never collateral to borrow against.
        var summary = v.Engine.GetMarginSummary(attacker);
        Assert.True(summary.UnrealizedPnl.IsNegative);
        Assert.True(summary.Available < Money.FromDecimal(10_000_000m));
        Assert.Equal(InstrumentState.Active, instrument.State);
    }

    private static Accounts.Position Position(GuardVenue v, int account, int instrument) =>
        v.Engine.TryGetAccount(account, out var a) ? a.GetPosition(instrument) : default;
}
