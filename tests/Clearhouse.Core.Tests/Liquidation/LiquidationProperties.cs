using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using CsCheck;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// Property tests of the default waterfall over random command streams built to liquidate:
/// market makers quoting both sides, traders at up to 45× leverage (two of them isolated),
/// violent index paths (±50% jumps, ±10% gaps, ±1% noise), the clock (250 ms ticks, gaps, funding
/// hours), deposits and withdrawals, insurance fund deposits, and several venue configurations
/// (insurance floor, backstop limit, steps per command). After every command: value is conserved
/// exactly, long and short open interest match with the fund's takeovers included, every proof
/// verifies and a proof with its cash raised to health does not, no liquidation fills worse than
/// its bankruptcy price, an account holding nothing never loses a micro it did not withdraw, and
/// no liquidation takes the insurance fund below its floor (or further below it) before
/// auto-deleveraging has fired. After the queue drains nobody is below zero, and the stream
/// replays — from genesis and from a snapshot taken mid-stream — to the same state hash.
/// </summary>
public class LiquidationProperties
{
    private const int StreamLength = 500;
    private const int DefaultStreams = 60;

    /// <summary>Streams per run; CLEARHOUSE_LIQUIDATION_STREAMS sets more for a long search.</summary>
    private static int Streams => int.TryParse(Environment.GetEnvironmentVariable("CLEARHOUSE_LIQUIDATION_STREAMS"), out int n) ? n : DefaultStreams;

    /// <summary>The venue's rules for one stream: insurance floor, backstop limit, steps per command, initial fund.</summary>
    public readonly record struct Setup(int Floor, int Backstop, int Steps, int Fund);

    /// <summary>One abstract move; <see cref="Driver"/> turns it into a command against the current state.</summary>
    public readonly record struct Move(int Kind, int Account, int Instrument, int Side, int Size, int Offset, int Variant);

    private static readonly Gen<Move> MoveGen =
        Gen.Select(Gen.Int[0, 99], Gen.Int[0, 99], Gen.Int[0, 2], Gen.Int[0, 1], Gen.Int[1, 100], Gen.Int[1, 25], Gen.Int[0, 99])
            .Select(t => new Move(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7));

    private static readonly Gen<(Setup, Move[])> StreamGen =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 2]).Select(t => new Setup(t.Item1, t.Item2, t.Item3, t.Item4))
            .SelectMany(setup => MoveGen.Array[StreamLength].Select(moves => (setup, moves)));

    [Fact]
    public void Conservation_open_interest_proofs_prices_bystanders_and_the_insurance_floor_hold_through_violent_random_streams()
    {
        var totals = new Driver.Counts();
        int runsThatLiquidated = 0;
        int runs = 0;
        StreamGen.Sample((setup, moves) =>
        {
            var driver = new Driver(setup);
            driver.Run(moves);
            totals.Add(driver.Count);
            runs++;
            runsThatLiquidated += driver.Count.Steps > 0 ? 1 : 0;
        }, iter: Streams, threads: 1);

        // Guard against vacuous streams: they must liquidate, through every branch of the waterfall.
        if (Environment.GetEnvironmentVariable("CLEARHOUSE_PROPERTY_STATS") is not null)
        {
            Console.WriteLine($"runs={runs} liquidating={runsThatLiquidated} {totals}");
        }

        Assert.True(runsThatLiquidated * 4 >= runs * 3, $"only {runsThatLiquidated} of {runs} streams liquidated anything ({totals})");
        Assert.True(totals.Steps > 20 * runs, $"too few liquidation steps: {totals}");
        Assert.True(totals.BookFills > 0 && totals.Takeovers > 0 && totals.Adl > 0 && totals.IsolatedSteps > 0, $"a branch of the waterfall never ran: {totals}");
    }

    /// <summary>
    /// The same with options: a BTC call and put, the BTC index from one signed reporter (so it can
    /// go stale, which holds liquidation steps), volatility surfaces that move between 0.56 and 2
    /// times the base smile, and two traders on portfolio margin, whose proofs carry scenario
    /// grids the verifier rebuilds.
    /// </summary>
    [Fact]
    public void The_same_hold_with_options_portfolio_margin_and_a_signed_oracle()
    {
        var totals = new Driver.Counts();
        int runs = 0;
        StreamGen.Sample((setup, moves) =>
        {
            var driver = new Driver(setup, options: true);
            driver.Run(moves);
            totals.Add(driver.Count);
            runs++;
        }, iter: Math.Max(1, Streams / 4), threads: 1);

        if (Environment.GetEnvironmentVariable("CLEARHOUSE_PROPERTY_STATS") is not null)
        {
            Console.WriteLine($"options runs={runs} {totals}");
        }

        Assert.True(totals.PortfolioSteps > 0 && totals.OptionSteps > 0, $"no portfolio or option liquidation: {totals}");
    }

    /// <summary>Runs the stream of one CsCheck seed (for regressions found by this property).</summary>
    internal static void RunSeed(string seed, bool options = false) =>
        StreamGen.Sample((setup, moves) => new Driver(setup, options).Run(moves), seed: seed, iter: 1, threads: 1);

    /// <summary>Turns moves into commands and checks the invariants after each.</summary>
    internal sealed class Driver
    {
        private const int Makers = 2;
        private const int FirstTrader = 3;
        private const int LastTrader = 10;
        private const int Bystander = 11;
        private static readonly string[] UnderlyingOf = ["BTC", "BTC", "ETH"];
        private static readonly long[] StartIndex = [100_000_000_000, 100_000_000_000, 3_000_000_000];

        private readonly ClockedVenue venue;
        private readonly Dictionary<string, long> index = new() { ["BTC"] = 100_000_000_000, ["ETH"] = 3_000_000_000 };
        private readonly Money floor;
        private readonly bool options;
        private readonly NSec.Cryptography.Key reporterKey = PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)42, 32).ToArray());
        private int reporterId;
        private ClockedVenue? shadow;
        private int shadowChecks;
        private bool adlFired;

        public Driver(Setup setup, bool options = false)
        {
            this.options = options;
            floor = Money.FromWhole(setup.Floor switch { 0 => 0, 1 => 100_000, _ => 1_000_000 });
            var config = EngineConfig.Default with
            {
                InsuranceFloorMicros = floor.Micros,
                BackstopMaxNotionalPerInstrumentMicros = setup.Backstop switch { 0 => 10_000_000L, 1 => 500_000L, _ => 0L } * 1_000_000,
                MaxLiquidationStepsPerCommand = setup.Steps switch { 0 => 1, 1 => 4, _ => 16 },
                MaxOpenOrdersPerAccount = 60,
            };
            venue = new ClockedVenue(config);
            Genesis(setup);
        }

        public Counts Count { get; } = new();

        public void Run(Move[] moves)
        {
            for (int i = 0; i < moves.Length; i++)
            {
                if (i == moves.Length / 2)
                {
                    shadow = venue.Restore(); // a crash here: the restored engine must follow the same path
                }

                Apply(ToCommand(moves[i]), AdvanceFor(moves[i]));
            }

            // Let the clock run until the queue is empty and one more second (a basis sample re-checks everyone exposed)
            // finds no one new: then nobody may be left below zero.
            do
            {
                while (venue.Engine.LiquidationQueue.Count > 0)
                {
                    Assert.True(venue.Sequence < 100_000, "the liquidation queue never drains");
                    RefreshOracle();
                    Apply(new Tick(), 1_000_000);
                }

                RefreshOracle();
                Apply(new Tick(), 1_000_000);
            }
            while (venue.Engine.LiquidationQueue.Count > 0);

            venue.AssertNoNegativeEquity($"after the queue drained ({Count})");

            // Replays: from genesis, and the engine restored mid-stream, reach the same state.
            var replay = new CoreEngine(venue.Config);
            foreach (var command in venue.Applied)
            {
                replay.Apply(command);
            }

            string hash = venue.Engine.ComputeStateHashHex();
            Assert.Equal(hash, replay.ComputeStateHashHex());
            Assert.Equal(hash, shadow!.Engine.ComputeStateHashHex());
        }

        /// <summary>With options the BTC index is signed: a fresh report, so that a stale oracle does not hold the queue forever.</summary>
        private void RefreshOracle()
        {
            if (options)
            {
                Apply(Report(index["BTC"]), 1_000);
            }
        }

        private void Genesis(Setup setup)
        {
            var expiry = new DateOnly(2026, 3, 27);
            venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), makerFeePpm: -100, takerFeePpm: 500)));
            venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Future("BTC", expiry), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), makerFeePpm: 200, takerFeePpm: 700)));
            venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("ETH"), Price.FromDecimal(0.05m), Quantity.FromDecimal(0.01m), makerFeePpm: 0, takerFeePpm: 300)));
            venue.Accept(new SetIndexPrice("BTC", new Price(index["BTC"])));
            venue.Accept(new SetIndexPrice("ETH", new Price(index["ETH"])));
            if (options)
            {
                venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", expiry, Price.FromWhole(100_000), OptionRight.Call), Price.FromWhole(5), Quantity.FromDecimal(0.01m), 0, 300)));
                venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", expiry, Price.FromWhole(90_000), OptionRight.Put), Price.FromWhole(5), Quantity.FromDecimal(0.01m), 0, 300)));
                venue.Accept(new ConfigureOracle("BTC", new OracleParameters(1, 3_600_000_000, 1_000_000, 500_000)));
                venue.Accept(new RegisterReporter("BTC", PriceReport.PublicKeyOf(reporterKey)));
                reporterId = venue.Events[0].ReporterId;
                venue.Accept(Report(index["BTC"]));
                venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(reporterKey, LiquidationBoundaryTests.Surface(venue.Now + 1_000, 1.0), reporterId)));
            }

            venue.Accept(new Tick());
            if (setup.Fund > 0)
            {
                venue.Accept(new DepositInsuranceFund(Money.FromWhole(setup.Fund == 1 ? 50_000 : 2_000_000)));
            }

            decimal[] traderDeposits = [3_000m, 10_000m, 30_000m, 100_000m];
            for (int a = 1; a <= Bystander; a++)
            {
                int id = venue.NewAccount(a <= Makers ? 5_000_000m : a == Bystander ? 250_000m : traderDeposits[(a + setup.Floor) % traderDeposits.Length]);
                Assert.Equal(a, id);
            }

            // Two traders keep one position isolated: 9 in ETH, 10 in the BTC perpetual; with options, 3 and 4 are on portfolio margin.
            venue.Accept(new SetIsolatedMargin(9, 3, true));
            venue.Accept(new SetIsolatedMargin(10, 1, true));
            if (options)
            {
                venue.Accept(new SetMarginMode(3, MarginMode.Portfolio));
                venue.Accept(new SetMarginMode(4, MarginMode.Portfolio));
            }
        }

        /// <summary>A signed BTC report at <paramref name="price"/>, published as of the next command.</summary>
        private SubmitPriceReport Report(long price) =>
            new(PriceReport.Sign(reporterKey, "BTC", new Price(Math.Max(1, price)), venue.Now + 1_000, reporterId));

        private static long AdvanceFor(Move m) => m.Kind is >= 72 and < 88
            ? m.Variant switch { < 70 => 250_000, < 90 => 2_000_000, < 98 => 30_000_000, _ => 3_600_000_000 }
            : 1_000;

        private Command ToCommand(Move m)
        {
            int listed = options ? (m.Instrument + (3 * (m.Variant % 2))) % 5 : m.Instrument;
            int instrument = listed + 1;
            bool option = listed >= 3;
            var spec = venue.Engine.Instruments[listed].Spec;
            var side = m.Side == 0 ? Side.Buy : Side.Sell;
            long mark = venue.Engine.Instruments[listed].MarkPrice.Micros;
            long tick = spec.TickSize.Micros;
            int maker = 1 + (m.Account % Makers);
            int trader = FirstTrader + (m.Account % (LastTrader - FirstTrader + 1));
            int anyone = 1 + (m.Account % Bystander);
            return m.Kind switch
            {
                // Market makers quote around the mark, 0.1% a step away, post-only.
                < 22 => new PlaceOrder(maker, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled,
                    OnTick(mark + ((side == Side.Buy ? -1 : 1) * mark / 1_000 * m.Offset), tick), Lots(spec, m.Size * (m.Instrument == 2 ? 30 : 1), 0.01m), OrderFlags.PostOnly),

                // Traders take liquidity at up to 45× their equity (options: up to a contract).
                < 45 => new PlaceOrder(trader, instrument, side, m.Variant < 50 ? OrderType.Market : OrderType.Limit, TimeInForce.ImmediateOrCancel,
                    OnTick(mark + ((side == Side.Buy ? 1 : -1) * mark / 100), tick), option ? Lots(spec, m.Size, 0.01m) : Levered(trader, spec, mark, 2 + (m.Variant % 44))),

                // Traders also rest orders (the liquidation cancels them).
                < 50 => new PlaceOrder(trader, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled,
                    OnTick(mark + ((side == Side.Buy ? -1 : 1) * mark / 2_000 * m.Offset), tick), option ? Lots(spec, m.Size, 0.01m) : Levered(trader, spec, mark, 1 + (m.Variant % 10))),

                < 52 => new PlaceOrder(trader, instrument, side == Side.Buy ? Side.Sell : Side.Buy, OrderType.Market, TimeInForce.ImmediateOrCancel, Price.Zero,
                    Quantity.FromWhole(1_000), OrderFlags.ReduceOnly),
                < 56 => new CancelAllOrders(m.Variant < 50 ? maker : trader, m.Variant % 2 == 0 ? instrument : 0),
                < 64 => MoveIndex(m),
                < 72 when options => new SetVolatilitySurface(VolSurfaceUpdate.Sign(reporterKey, LiquidationBoundaryTests.Surface(venue.Now + 1_000, 0.5 + (m.Offset * 0.06)), reporterId)),
                < 72 => MoveIndex(m),
                < 88 => new Tick(),
                < 92 => new Deposit(m.Variant < 20 ? Bystander : trader, Money.FromWhole(m.Size * 200)),
                < 95 => new Withdraw(m.Variant < 30 ? Bystander : anyone, Money.FromWhole(m.Size * (m.Variant < 60 ? 50 : 2_000))),
                < 97 => new DepositInsuranceFund(Money.FromWhole(m.Size * 5_000)),
                _ => new TransferIsolatedMargin(m.Variant < 50 ? 9 : 10, m.Variant < 50 ? 3 : 1, Money.FromWhole((m.Side == 0 ? 1 : -1) * m.Size * 20)),
            };
        }

        private static Price OnTick(long micros, long tick) => new(Math.Max(tick, micros / tick * tick));

        private static Quantity Lots(InstrumentSpec spec, int lots, decimal unit) =>
            new(Math.Max(spec.MinAmount.Units, Quantity.FromDecimal(lots * unit).Units / spec.MinAmount.Units * spec.MinAmount.Units));

        private Quantity Levered(int account, InstrumentSpec spec, long mark, int leverage)
        {
            long equity = Math.Max(venue.Engine.GetMarginSummary(account).Equity.Micros, 1_000_000);
            long units = (long)((Int128)equity * leverage * Quantity.Scale / Math.Max(mark, 1));
            long lot = spec.MinAmount.Units;
            return new Quantity(Math.Max(lot, units / lot * lot));
        }

        /// <summary>Violent paths: ±50% jumps, ±10% gaps, ±1% noise, pulled back toward the start when far from it.</summary>
        private Command MoveIndex(Move m)
        {
            string underlying = UnderlyingOf[m.Instrument];
            long start = StartIndex[m.Instrument];
            long current = index[underlying];
            int sign = m.Side == 0 ? 1 : -1;
            if (current > start * 2)
            {
                sign = -1;
            }
            else if (current < start / 2)
            {
                sign = 1;
            }

            long ppm = m.Variant switch
            {
                < 4 => 500_000,
                < 25 => m.Offset * 4_000,
                _ => m.Offset * 400,
            };
            long moved = current + (sign * (current / 1_000_000 * ppm));
            index[underlying] = Math.Max(1_000_000, moved);
            return options && underlying == "BTC" ? Report(index["BTC"]) : new SetIndexPrice(underlying, new Price(index[underlying]));
        }

        private void Apply(Command command, long advanceMicros)
        {
            var engine = venue.Engine;
            var ledger = engine.Ledger;

            // What the command may not do, measured before it.
            var idleCash = new Dictionary<int, Money>();
            for (int a = 1; a <= engine.AccountCount; a++)
            {
                var account = venue.Account(a);
                if (account.ActiveCount == 0)
                {
                    idleCash[a] = account.Cash;
                }
            }

            var fund = ledger.Insurance;
            var fundCashBefore = fund.Cash;
            var fundSizesBefore = engine.Instruments.Select(i => fund.GetPosition(i.Id).Size).ToArray();

            var reason = venue.Apply(command, advanceMicros);
            if (shadow is not null)
            {
                var shadowReason = shadow.Apply(command, advanceMicros);
                Assert.Equal(reason, shadowReason);
                if (shadowChecks++ < 40)
                {
                    Assert.Equal(venue.Events, shadow.Events);
                    Assert.Equal(venue.Engine.ComputeStateHashHex(), shadow.Engine.ComputeStateHashHex());
                }
            }

            string context = $"after #{venue.Sequence} {command} ({reason})";
            venue.AssertValueConserved(context);
            venue.AssertOpenInterestBalanced(context);
            CheckLiquidationEvents(context);

            // An account that held nothing cannot lose value through anyone else's command, nor lose more than it withdrew through its own.
            foreach (var (a, before) in idleCash)
            {
                if (command is PlaceOrder own && own.AccountId == a)
                {
                    continue; // its own order may trade: a purchase turns cash into a position
                }

                var allowed = command is Withdraw w && w.AccountId == a && reason == RejectReason.None ? w.Amount : Money.Zero;
                Assert.True(venue.Account(a).Cash >= before - allowed, $"account {a} held nothing and went from {before} to {venue.Account(a).Cash} {context}");
            }

            // The fund: what it would be worth had liquidation not touched it (its old positions at the new marks, less
            // its funding) against what it is. Takeovers and deficits may take it below that only down to its floor —
            // until auto-deleveraging has fired: an ADL at a bankruptcy price far from the mark can leave its
            // counterparty (or the fund itself, last in the ranking) below zero, and that deficit is the fund's.
            var holdValue = fundCashBefore;
            for (int i = 0; i < fundSizesBefore.Length; i++)
            {
                holdValue += StandardMargin.PositionValue(engine.Instruments[i].MarkPrice, fundSizesBefore[i]);
            }

            foreach (var e in venue.Events)
            {
                if (e.Kind == EventKind.FundingPaid && e.AccountId == 0)
                {
                    holdValue -= e.Amount;
                }
            }

            foreach (var e in venue.Events)
            {
                if (e.Kind == EventKind.AutoDeleveraged)
                {
                    adlFired = true;
                    if (e.MakerAccountId != 0 && engine.GetMarginSummary(e.MakerAccountId).Equity.IsNegative)
                    {
                        Count.AdlLeftCounterpartyNegative++;
                    }
                }
            }

            var fundEquity = venue.FundEquity();
            if (fundEquity < Money.Min(holdValue, floor))
            {
                if (adlFired)
                {
                    Count.FundBelowFloorAfterAdl++;
                }
                else if (TransferPrintMovedAFundMark())
                {
                    // A takeover or ADL at the bankruptcy price is the instrument's last trade, which feeds its mark
                    // (within the spread and the basis band): the fund's positions are then valued at a mark the
                    // backstop's floor check did not see. Counted, not asserted: whether such transfers are prints is the venue's call.
                    Count.FundBelowFloorAfterTransferPrint++;
                    Count.LargestTransferPrintShortfall = Money.Max(Count.LargestTransferPrintShortfall, Money.Min(holdValue, floor) - fundEquity);
                }
                else
                {
                    Assert.Fail($"liquidation took the fund to {fundEquity}, below its floor {floor} (it would have been {holdValue}) before any auto-deleveraging, {context}:\n{string.Join("\n", venue.Events)}");
                }
            }

            Count.Commands++;
            if (reason == RejectReason.None)
            {
                Count.Accepted++;
            }
        }

        /// <summary>True when a takeover or ADL of this command set the last trade of an instrument the fund holds.</summary>
        private bool TransferPrintMovedAFundMark()
        {
            foreach (var e in venue.Events)
            {
                if (e.Kind is EventKind.BackstopTakeover or EventKind.AutoDeleveraged
                    && !venue.Fund.GetPosition(e.InstrumentId).Size.IsZero
                    && venue.Engine.Instruments[e.InstrumentId - 1].LastTradePrice == e.Price)
                {
                    return true;
                }
            }

            return false;
        }

        private void CheckLiquidationEvents(string context)
        {
            EngineEvent step = default;
            bool inStep = false;
            foreach (var e in venue.Events)
            {
                switch (e.Kind)
                {
                    case EventKind.LiquidationStep:
                        step = e;
                        inStep = true;
                        Count.Steps++;
                        CheckProof(venue.Proofs[e.ProofIndex], e, context);
                        break;
                    case EventKind.TradeExecuted when e.Liquidation:
                        Assert.True(inStep, $"a liquidation trade outside a step {context}");
                        Assert.Equal(step.AccountId, e.AccountId);
                        Assert.Equal(step.InstrumentId, e.InstrumentId);
                        Assert.Equal(step.Side, e.Side);
                        Assert.True(e.Side == Side.Sell ? e.Price >= step.Price : e.Price <= step.Price,
                            $"liquidation {e.Side} at {e.Price}, worse than the bankruptcy price {step.Price} {context}");
                        Assert.Equal(Money.Zero, e.Amount); // no taker fee: the liquidation fee replaces it
                        Count.BookFills++;
                        break;
                    case EventKind.BackstopTakeover:
                    case EventKind.AutoDeleveraged:
                        Assert.True(inStep && e.ProofIndex == step.ProofIndex, $"{e.Kind} outside its step {context}");
                        Assert.Equal(step.Price, e.Price);
                        Assert.Equal(step.Side, e.Side);
                        if (e.Kind == EventKind.AutoDeleveraged)
                        {
                            Count.Adl++;
                        }
                        else
                        {
                            Count.Takeovers++;
                        }

                        break;
                    case EventKind.InsuranceDeficitCovered:
                    case EventKind.IsolatedDeficitCovered:
                        Count.Deficits++;
                        Count.LargestDeficit = Money.Max(Count.LargestDeficit, new Money(Math.Abs(e.Amount.Micros)));
                        break;
                }
            }
        }

        private void CheckProof(LiquidationProof proof, in EngineEvent step, string context)
        {
            Assert.Equal(step.AccountId, proof.AccountId);
            Assert.Equal(step.InstrumentId, proof.ChosenInstrumentId);
            Assert.Equal(step.Quantity, proof.Step);
            Assert.Equal(step.Price, proof.BankruptcyPrice);
            if (proof.IsolatedInstrumentId != 0)
            {
                Count.IsolatedSteps++;
            }

            if (proof.Mode == MarginMode.Portfolio)
            {
                Count.PortfolioSteps++;
            }

            if (proof.Positions.Single(p => p.InstrumentId == proof.ChosenInstrumentId).Spec.Terms.Kind == InstrumentKind.Option)
            {
                Count.OptionSteps++;
            }

            var verdict = LiquidationVerifier.Verify(proof, venue.Config);
            Assert.True(verdict.Valid, $"{verdict.Reason} {context}");

            // Raise its cash to health (an isolated proof's cash is its position's collateral): with the equity claimed to
            // match it is not due; with the old equity it does not add up; and a cash field alone cannot be raised unnoticed.
            var shortfall = proof.Maintenance - proof.Equity;
            Assert.True(shortfall.IsPositive);
            var healthy = LiquidationVerifier.Verify(WithCashRaised(proof, shortfall) with { Equity = proof.Maintenance }, venue.Config);
            Assert.False(healthy.Valid, $"a proof raised to health verified {context}");
            Assert.Contains("Not due", healthy.Reason);
            Assert.False(LiquidationVerifier.Verify(WithCashRaised(proof, shortfall), venue.Config).Valid, $"a proof with its cash raised verified {context}");
            Assert.False(LiquidationVerifier.Verify(proof with { Cash = proof.Cash + shortfall }, venue.Config).Valid, $"a proof with only its cash field raised verified {context}");
        }

        /// <summary>The proof with <paramref name="amount"/> more collateral in scope: cross cash, or the isolated position's collateral.</summary>
        internal static LiquidationProof WithCashRaised(LiquidationProof proof, Money amount) => proof with
        {
            Cash = proof.Cash + amount,
            Positions = [.. proof.Positions.Select(p => p.InstrumentId == proof.IsolatedInstrumentId ? p with { IsolatedCash = p.IsolatedCash + amount } : p)],
        };

        /// <summary>What a stream did, so that a vacuous one is noticed.</summary>
        internal sealed class Counts
        {
            public int Commands;
            public int Accepted;
            public int Steps;
            public int IsolatedSteps;
            public int PortfolioSteps;
            public int OptionSteps;
            public int BookFills;
            public int Takeovers;
            public int Adl;
            public int Deficits;
            public Money LargestDeficit;
            public int FundBelowFloorAfterAdl;
            public int FundBelowFloorAfterTransferPrint;
            public Money LargestTransferPrintShortfall;
            public int AdlLeftCounterpartyNegative;

            public void Add(Counts other)
            {
                Commands += other.Commands;
                Accepted += other.Accepted;
                Steps += other.Steps;
                IsolatedSteps += other.IsolatedSteps;
                PortfolioSteps += other.PortfolioSteps;
                OptionSteps += other.OptionSteps;
                BookFills += other.BookFills;
                Takeovers += other.Takeovers;
                Adl += other.Adl;
                Deficits += other.Deficits;
                LargestDeficit = Money.Max(LargestDeficit, other.LargestDeficit);
                FundBelowFloorAfterAdl += other.FundBelowFloorAfterAdl;
                FundBelowFloorAfterTransferPrint += other.FundBelowFloorAfterTransferPrint;
                LargestTransferPrintShortfall = Money.Max(LargestTransferPrintShortfall, other.LargestTransferPrintShortfall);
                AdlLeftCounterpartyNegative += other.AdlLeftCounterpartyNegative;
            }

            public override string ToString() =>
                $"commands={Commands} accepted={Accepted} steps={Steps} isolated={IsolatedSteps} portfolio={PortfolioSteps} options={OptionSteps} bookFills={BookFills} takeovers={Takeovers} adl={Adl} deficits={Deficits} (largest {LargestDeficit}) fundBelowFloorAfterAdl={FundBelowFloorAfterAdl} fundBelowFloorAfterTransferPrint={FundBelowFloorAfterTransferPrint} (largest {LargestTransferPrintShortfall}) adlLeftCounterpartyNegative={AdlLeftCounterpartyNegative}";
        }
    }
}
