using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Pricing;
using CsCheck;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Engine;

/// <summary>
/// Property tests over random command streams: several accounts and instruments (perpetuals, a
/// dated future and ETH options marked from a signed volatility surface), every order type, amends
/// and cancels of live and unknown orders, bad input, violent index moves (up to ±40% in one
/// step), new surfaces, and margin commands (standard/portfolio mode, isolated positions and
/// transfers to and from them). Each stream runs through an engine with the fast book and one with
/// the reference book side by side; after every command the invariants of DESIGN.md §2 and the
/// margin invariants are checked. 50 streams × 2,000 commands = 100,000 commands per run.
/// </summary>
public class EngineProperties
{
    private const int Accounts = 6;
    private const int StreamLength = 2_000;
    private const int Streams = 50;

    /// <summary>One abstract step; <see cref="Driver"/> turns it into a concrete command against the current state.</summary>
    public readonly record struct Step(int Kind, int Account, int Instrument, int Side, int PriceOffset, int Lots, int Pick, int Variant);

    private static readonly Gen<Step> StepGen =
        Gen.Select(Gen.Int[0, 109], Gen.Int[1, Accounts], Gen.Int[0, 5], Gen.Int[0, 1], Gen.Int[-25, 25], Gen.Int[1, 40], Gen.Int[0, 1_000], Gen.Int[0, 99])
            .Select(t => new Step(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8));

    internal static readonly Gen<Step[]> StreamGen = StepGen.Array[StreamLength];

    [Fact]
    public void Value_open_interest_book_and_rejections_hold_over_random_command_streams_and_both_books_agree() =>
        StreamGen.Sample(steps => new Driver().Run(steps), iter: Streams, threads: 1);

    [Fact]
    public void Two_engines_fed_the_same_commands_end_in_the_same_state()
    {
        StreamGen.Sample(steps =>
        {
            var first = new Driver();
            first.Run(steps, checkEveryCommand: false);
            var replay = new CoreEngine(first.Fast.Config);
            foreach (var command in first.Applied)
            {
                replay.Apply(command);
            }

            Assert.Equal(first.Fast.ComputeStateHashHex(), replay.ComputeStateHashHex());
        }, iter: 10, threads: 1);
    }

    /// <summary>
    /// The pricing path is not a venue rule: an engine pricing option scenario grids with the scalar
    /// Black-76 kernel and one with the vector kernel (Vector512/256 where the machine has them) must
    /// agree after every command, on the state hash and on every account's margin figures.
    /// </summary>
    [Fact]
    public void Scalar_and_vectorized_pricing_paths_agree_on_state_and_every_accounts_margin_after_every_command() =>
        StreamGen.Sample(steps =>
        {
            var driver = new Driver(new EngineConfig { MaxOpenOrdersPerAccount = 40, PricingPath = PricingPath.Scalar }) { CompareEveryCommand = true };
            driver.Run(steps, checkEveryCommand: false);
            // Enough option trading that the grids matter (fewer since accounts in liquidation cannot trade).
            Assert.True(driver.OptionTrades >= 3, $"only {driver.OptionTrades} option trades");
        }, iter: 6, threads: 1);

    /// <summary>An account's margin before a command: cross figures and, for an isolated position, its own.</summary>
    internal readonly record struct MarginProbe(int AccountId, int InstrumentId, MarginSummary Cross, MarginSummary? Isolated, Price[]? Marks);

    /// <summary>Turns steps into commands against two engines and checks the invariants.</summary>
    internal sealed class Driver
    {
        /// <summary><c>Assert.True</c> with a message built only on failure: formatting the command for every check costs more than the checks.</summary>
        private static void Ensure(bool condition, Func<string> message)
        {
            if (!condition)
            {
                Assert.Fail(message());
            }
        }

        /// <summary>What <see cref="Step.Instrument"/> 0..5 stands for: BTC perpetual, BTC future, ETH perpetual, ETH call, ETH put, BTC perpetual.</summary>
        private static readonly int[] InstrumentIds = [1, 2, 3, 5, 6, 1];
        private static readonly string[] Underlyings = ["BTC", "BTC", "ETH", "ETH", "ETH", "BTC"];
        private static readonly long EthExpiryMicros = InstrumentTerms.Future("ETH", new DateOnly(2026, 3, 27)).ExpiryMicros;
        private readonly CoreEngine reference;
        private readonly List<long> liveOrders = [];
        private readonly Dictionary<string, long> index = new() { ["BTC"] = 100_000_000_000, ["ETH"] = 3_000_000_000 };
        private readonly NSec.Cryptography.Key[] ethReporters = [.. Enumerable.Range(11, 3).Select(i => PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)i, 32).ToArray()))];
        private readonly long[] lastPublish = new long[3];
        private long sequence;
        private long time = Venue.GenesisMicros;
        private long lastSurfacePublished;
        private AccountMargin? marginChecker;

        /// <summary>A driver whose second engine has the reference book, or <paramref name="referenceConfig"/>.</summary>
        public Driver(EngineConfig? referenceConfig = null)
        {
            reference = new CoreEngine(referenceConfig ?? new EngineConfig { BookFactory = () => new ReferenceOrderBook(), MaxOpenOrdersPerAccount = 40 });
            Fast = new CoreEngine(new EngineConfig { MaxOpenOrdersPerAccount = 40 });
            Genesis();
        }

        /// <summary>Compare the two engines' state hashes and every account's margin figures after every command (not only every 250).</summary>
        public bool CompareEveryCommand { get; init; }

        public int OptionTrades { get; private set; }

        /// <summary>How many events of each margin kind the stream produced (mode changes, isolation, transfers, covered deficits).</summary>
        public Dictionary<EventKind, int> MarginEvents { get; } = [];

        public CoreEngine Fast { get; }

        public List<Command> Applied { get; } = [];

        public Dictionary<RejectReason, int> Outcomes { get; } = [];

        public int Trades { get; private set; }

        public int FundingPayments { get; private set; }

        public void Run(Step[] steps, bool checkEveryCommand = true, bool requireActivity = true)
        {
            string hash = Fast.ComputeStateHashHex();
            foreach (var step in steps)
            {
                var command = ToCommand(step);
                var probe = checkEveryCommand ? ProbeMargin(command) : default;
                var reason = Apply(command, out var events);
                if (CompareEveryCommand)
                {
                    CompareEngines(command);
                }

                if (!checkEveryCommand)
                {
                    continue;
                }

                string after = Fast.ComputeStateHashHex();
                if (reason != RejectReason.None)
                {
                    Ensure(hash == after, () => $"rejected {command} ({reason}) changed the state");
                    Assert.Single(events);
                }

                hash = after;
                CheckInvariants(command);
                // The pre-trade promise is about the command itself: when the liquidation work that ran
                // after it traded against this account (an ADL counterparty, a maker hit by a liquidation
                // order, or a step of its own), its figures moved for that reason, judged elsewhere.
                if (reason == RejectReason.None && !events.Any(e => LiquidationTouched(e, probe.AccountId)))
                {
                    CheckMarginAfterAccepted(command, probe);
                }

                if (command.Sequence % 250 == 0)
                {
                    Assert.Equal(after, reference.ComputeStateHashHex());
                }
            }

            Assert.Equal(Fast.ComputeStateHashHex(), reference.ComputeStateHashHex());

            if (!requireActivity)
            {
                return;
            }

            // Guard against a vacuous stream: most commands must be accepted and trading must happen.
            Assert.True(Trades > 50, $"only {Trades} trades in the stream");
            Assert.True(Outcomes[RejectReason.None] > steps.Length / 2, string.Join(", ", Outcomes.Select(o => $"{o.Key}={o.Value}")));
            if (Environment.GetEnvironmentVariable("CLEARHOUSE_PROPERTY_STATS") is not null)
            {
                Console.WriteLine($"trades={Trades} options={OptionTrades} funding={FundingPayments} " + string.Join(", ", MarginEvents.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}")) + " | " + string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}")));
            }
        }

        private RejectReason Apply(Command command, out EngineEvent[] events)
        {
            var stamped = command with { Sequence = ++sequence, TimestampMicros = time += 1_000 };
            var reason = Fast.Apply(stamped);
            events = Fast.Events.ToArray();
            if (reason == RejectReason.None && stamped is SubmitPriceReport accepted)
            {
                lastPublish[accepted.Report.ReporterId - 1] = accepted.Report.PublishMicros;
            }

            if (reason == RejectReason.None && stamped is SetVolatilitySurface surface)
            {
                lastSurfacePublished = surface.Update.Parameters.PublishedMicros;
            }

            var referenceReason = reference.Apply(stamped);
            Assert.Equal(reason, referenceReason);
            Assert.Equal(events, reference.Events.ToArray());
            Applied.Add(stamped);
            Outcomes[reason] = Outcomes.GetValueOrDefault(reason) + 1;
            Trades += events.Count(e => e.Kind == EventKind.TradeExecuted);
            OptionTrades += events.Count(e => e.Kind == EventKind.TradeExecuted && e.InstrumentId > 4);
            foreach (var e in events)
            {
                if (e.Kind is EventKind.MarginModeSet or EventKind.IsolatedMarginSet or EventKind.IsolatedMarginTransferred or EventKind.IsolatedDeficitCovered)
                {
                    MarginEvents[e.Kind] = MarginEvents.GetValueOrDefault(e.Kind) + 1;
                }
            }

            FundingPayments += events.Count(e => e.Kind == EventKind.FundingPaid);
            Track(events);
            return reason;
        }

        private void Genesis()
        {
            var expiry = new DateOnly(2026, 3, 27);
            Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), makerFeePpm: -100, takerFeePpm: 500)), out _);
            Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Future("BTC", expiry), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), makerFeePpm: 200, takerFeePpm: 700)), out _);
            Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("ETH"), Price.FromDecimal(0.05m), Quantity.FromDecimal(0.01m))), out _);
            Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", expiry, Price.FromWhole(100_000), OptionRight.Call), Price.FromWhole(5), Quantity.FromDecimal(0.01m))), out _);
            // ETH options (ids 5 and 6), marked from a surface signed by an ETH reporter; the BTC call (id 4) never gets a mark.
            Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("ETH", expiry, Price.FromWhole(3_000), OptionRight.Call), Price.FromDecimal(0.1m), Quantity.FromDecimal(0.1m), makerFeePpm: 0, takerFeePpm: 300)), out _);
            Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("ETH", expiry, Price.FromWhole(2_800), OptionRight.Put), Price.FromDecimal(0.1m), Quantity.FromDecimal(0.1m), makerFeePpm: -100, takerFeePpm: 300)), out _);
            Apply(new SetIndexPrice("BTC", new Price(index["BTC"])), out _);
            Apply(new SetIndexPrice("ETH", new Price(index["ETH"])), out _);
            // ETH's index comes from three signed reporters (quorum 2); BTC's from the trusted command.
            Apply(new ConfigureOracle("ETH", new OracleParameters(2, 120_000_000, 1_000_000, 100_000)), out _);
            foreach (var key in ethReporters)
            {
                Apply(new RegisterReporter("ETH", PriceReport.PublicKeyOf(key)), out _);
            }

            for (int r = 0; r < ethReporters.Length; r++)
            {
                Apply(Report(r, index["ETH"], time + 1_000), out _);
            }

            Apply(Surface(new Step(0, 1, 3, 0, 0, 10, 0, 55)), out _);
            Assert.True(Fast.Instruments[4].MarkPrice.IsPositive && Fast.Instruments[5].MarkPrice.IsPositive, "the ETH options were not marked");
            Apply(new Tick(), out _);
            for (int a = 1; a <= Accounts; a++)
            {
                Apply(new CreateAccount(), out _);
                Apply(new Deposit(a, Money.FromWhole(a % 3 == 0 ? 5_000 : 200_000)), out _);
            }

            // Some margin arrangements from the start (the margin commands in the stream change them later):
            // account 2 isolated in the BTC perpetual, account 5 in the BTC future and the ETH perpetual,
            // account 4 on portfolio margin.
            Apply(new SetIsolatedMargin(2, 1, true), out _);
            Apply(new SetIsolatedMargin(5, 2, true), out _);
            Apply(new SetIsolatedMargin(5, 3, true), out _);
            Apply(new SetMarginMode(4, MarginMode.Portfolio), out _);
        }

        private Command ToCommand(Step s)
        {
            int instrument = InstrumentIds[s.Instrument];
            string underlying = Underlyings[s.Instrument];
            var listed = Fast.Instruments[instrument - 1];
            var spec = listed.Spec;
            var side = s.Side == 0 ? Side.Buy : Side.Sell;
            long mark = listed.Kind != InstrumentKind.Option ? index[underlying]
                : listed.MarkPrice.IsPositive ? listed.MarkPrice.Micros
                : 100_000_000;
            long step = Math.Max(spec.TickSize.Micros, mark / 400 / spec.TickSize.Micros * spec.TickSize.Micros);
            long markOnTick = mark / spec.TickSize.Micros * spec.TickSize.Micros;
            var price = new Price(Math.Max(spec.TickSize.Micros, markOnTick + (s.PriceOffset * step)));
            var amount = new Quantity(s.Lots * spec.MinAmount.Units * (s.Variant < 10 ? 10 : 1));
            long pick = liveOrders.Count > 0 ? liveOrders[s.Pick % liveOrders.Count] : s.Pick;

            return s.Kind switch
            {
                < 40 => new PlaceOrder(s.Account, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled, price, amount,
                    s.Variant switch { < 10 => OrderFlags.PostOnly, < 20 => OrderFlags.ReduceOnly, _ => OrderFlags.None },
                    s.Variant % 7 == 0 ? "c" + (s.Pick % 5) : null,
                    s.Variant % 11 == 0 ? SelfTradePrevention.CancelIncoming : SelfTradePrevention.CancelResting),
                < 46 => new PlaceOrder(s.Account, instrument, side, OrderType.Limit, s.Variant < 50 ? TimeInForce.ImmediateOrCancel : TimeInForce.FillOrKill, price, amount,
                    s.Variant < 15 ? OrderFlags.ReduceOnly : OrderFlags.None),
                < 50 => new PlaceOrder(s.Account, instrument, side, OrderType.Market, TimeInForce.ImmediateOrCancel, Price.Zero, amount,
                    s.Variant < 20 ? OrderFlags.ReduceOnly : OrderFlags.None),
                < 65 => new AmendOrder(s.Variant < 90 ? OwnerOf(pick) : s.Account, pick, price, s.Variant < 50 ? amount : new Quantity(amount.Units * 3)),
                < 78 => new CancelOrder(s.Variant < 90 ? OwnerOf(pick) : s.Account, pick),
                < 80 => new CancelAllOrders(s.Account, s.Variant < 50 ? instrument : 0),
                < 88 => MoveIndex(s),
                < 92 => new Deposit(s.Account, Money.FromWhole(s.Variant < 5 ? -1 : s.Lots * 1_000)),
                < 94 => new Withdraw(s.Account, Money.FromWhole(s.Lots * (s.Variant < 50 ? 100 : 10_000))),
                < 96 => TickAfter(s),
                < 98 => EthReport(s),
                < 100 => BadInput(s, instrument, side, price, amount),
                < 103 => new SetMarginMode(s.Account, s.Variant < 3 ? (MarginMode)9 : s.Variant < 55 ? MarginMode.Portfolio : MarginMode.Standard),
                < 105 => new SetIsolatedMargin(s.Variant < 3 ? s.Account + 100 : s.Account, instrument, s.Variant < 70),
                < 107 => new TransferIsolatedMargin(s.Account, instrument, s.Variant switch
                {
                    < 4 => Money.Zero,
                    < 60 => Money.FromWhole(s.Lots * 200),
                    _ => Money.FromWhole(-s.Lots * 40),
                }),
                < 108 => Surface(s),
                _ => EthReport(s),
            };
        }

        /// <summary>A signed ETH volatility surface (SVI, one slice): mostly fresh and valid, sometimes replayed, forged or arbitrageable.</summary>
        private Command Surface(Step s)
        {
            long published = (s.Variant % 10) == 0 ? lastSurfacePublished : time + 1_000;
            var slice = (s.Variant % 10) == 1
                ? new SviSliceParameters(EthExpiryMicros, -41_000_000, 133_100_000, 306_000_000, 358_600_000, 415_300_000) // butterfly arbitrage
                : new SviSliceParameters(EthExpiryMicros, 20_000_000 + (s.Lots * 4_000_000), 100_000_000, -300_000_000 + (s.PriceOffset * 10_000_000), 0, 200_000_000);
            var parameters = new VolSurfaceParameters("ETH", published, [slice]);
            var key = ethReporters[(s.Variant % 10) == 2 ? 1 : 0]; // 2: signed by reporter 2, claimed by reporter 1
            return new SetVolatilitySurface(VolSurfaceUpdate.Sign(key, parameters, 1));
        }

        /// <summary>Lets time pass (up to ~100 minutes) so that samples, staleness and funding happen.</summary>
        private Tick TickAfter(Step s)
        {
            time += s.Variant < 70 ? s.Variant * 1_000_000L : s.Variant * 60_000_000L;
            return new Tick();
        }

        /// <summary>A signed ETH report: mostly honest near the index, sometimes wild, forged, replayed or stale.</summary>
        private Command EthReport(Step s)
        {
            int reporter = s.Pick % ethReporters.Length;
            long price = index["ETH"] + (index["ETH"] / 1_000 * s.PriceOffset);
            long publish = time + 1_000;
            return (s.Variant % 10) switch
            {
                0 => Report(reporter, price * 50, publish),                                        // a wild outlier
                1 => new SubmitPriceReport(PriceReport.Sign(ethReporters[(reporter + 1) % 3], "ETH", new Price(price), publish, reporter + 100)), // unknown id
                2 => Report(reporter, price, lastPublish[reporter]),                               // duplicate / replay
                3 => Report(reporter, price, publish - 200_000_000),                               // too old
                _ => Report(reporter, price, publish),
            };
        }

        private SubmitPriceReport Report(int reporter, long price, long publish)
        {
            // Reporter ids are 1..3 in registration order.
            var report = PriceReport.Sign(ethReporters[reporter], "ETH", new Price(Math.Max(1, price)), publish, reporter + 1);
            return new SubmitPriceReport(report);
        }

        private Command MoveIndex(Step s)
        {
            string underlying = s.Instrument is 2 or 3 ? "ETH" : "BTC";
            // Violent moves: up to ±40% in one step, then back toward the start so prices stay sane.
            long start = underlying == "BTC" ? 100_000_000_000 : 3_000_000_000;
            long current = index[underlying];
            long ppm = s.Variant < 10 ? s.PriceOffset * 16_000L : s.PriceOffset * 800L;
            long moved = current + (current / 1_000_000 * ppm);
            moved = (moved + start) / 2 + (moved - start) / 4;
            index[underlying] = Math.Max(1_000_000, moved);
            return new SetIndexPrice(underlying, new Price(index[underlying]));
        }

        private static Command BadInput(Step s, int instrument, Side side, Price price, Quantity amount) => (s.Variant % 6) switch
        {
            0 => new PlaceOrder(s.Account, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled, new Price(price.Micros + 1), amount),
            1 => new PlaceOrder(s.Account, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled, price, new Quantity(amount.Units + 1)),
            2 => new PlaceOrder(s.Account, 4, side, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromWhole(500), Quantity.FromWhole(1)),
            3 => new PlaceOrder(s.Account + 100, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled, price, amount),
            4 => new SetIndexPrice("BTC", Price.Zero),
            _ => new PlaceOrder(s.Account, instrument, side, OrderType.Limit, TimeInForce.FillOrKill, price, amount, OrderFlags.PostOnly),
        };

        private int OwnerOf(long orderId) => Fast.TryGetOpenOrder(orderId, out var order, out _) ? order.AccountId : 1;

        private void Track(EngineEvent[] events)
        {
            foreach (var e in events)
            {
                switch (e.Kind)
                {
                    case EventKind.OrderAccepted:
                        liveOrders.Add(e.OrderId);
                        break;
                    case EventKind.OrderCancelled:
                        liveOrders.Remove(e.OrderId);
                        break;
                    case EventKind.TradeExecuted:
                        if (e.MakerRemaining.IsZero)
                        {
                            liveOrders.Remove(e.MakerOrderId);
                        }

                        if (e.Remaining.IsZero)
                        {
                            liveOrders.Remove(e.OrderId);
                        }

                        break;
                }
            }
        }

        /// <summary>The margin of the account a command acts for, before it is applied: cross figures and, if isolated, the position's own.</summary>
        private MarginProbe ProbeMargin(Command command)
        {
            int instrumentId = 0;
            int accountId = command switch
            {
                PlaceOrder p => p.AccountId,
                AmendOrder a => a.AccountId,
                Withdraw w => w.AccountId,
                TransferIsolatedMargin t => t.AccountId,
                SetMarginMode m => m.AccountId,
                _ => 0,
            };
            switch (command)
            {
                case PlaceOrder p:
                    instrumentId = p.InstrumentId;
                    break;
                case AmendOrder a when Fast.TryGetOpenOrder(a.OrderId, out _, out var amended):
                    instrumentId = amended.Id;
                    break;
                case TransferIsolatedMargin t:
                    instrumentId = t.InstrumentId;
                    break;
            }

            if (accountId == 0 || !Fast.TryGetAccount(accountId, out _))
            {
                return default;
            }

            var marks = new Price[Fast.Instruments.Count + 1];
            foreach (var instrument in Fast.Instruments)
            {
                marks[instrument.Id] = instrument.MarkPrice;
            }

            return new MarginProbe(accountId, instrumentId, Fast.GetMarginSummary(accountId), IsolatedSummary(accountId, instrumentId), marks);
        }

        /// <summary>The engine's margin code, on its instruments, for evaluating figures at chosen marks.</summary>
        private AccountMargin MarginAt(Price[] marks)
        {
            if (marginChecker is null)
            {
                marginChecker = new AccountMargin(Fast.Instruments, Fast.Underlyings, Fast.Config.OptionMargin, Fast.Config.PortfolioMargin);
                foreach (var instrument in Fast.Instruments)
                {
                    if (instrument.Kind == InstrumentKind.Option)
                    {
                        marginChecker.RegisterGroup(instrument.StrikeGroup, instrument.Underlying.Id);
                    }
                }
            }

            marginChecker.UseMarks(marks);
            return marginChecker;
        }

        private MarginSummary? IsolatedSummary(int accountId, int instrumentId)
        {
            if (instrumentId == 0 || !Fast.TryGetAccount(accountId, out var account) || !account.GetPosition(instrumentId).Isolated)
            {
                return null;
            }

            foreach (var isolated in Fast.GetMarginReport(accountId)!.Isolated)
            {
                if (isolated.InstrumentId == instrumentId)
                {
                    return isolated.Summary;
                }
            }

            return null;
        }

        /// <summary>
        /// What an accepted command may leave behind, valued at the marks the engine checked it at
        /// (those before the command: an order can move a future's mark by changing its book, by at
        /// most the mark's basis, which a pre-trade check does not foresee). Orders: initial ≤ equity (cross, and
        /// an isolated position's own), unless the order did not raise the requirement (an account
        /// may always reduce its risk). Withdrawals: initial ≤ min(equity, balance) after. Transfers:
        /// the side that gave collateral keeps initial ≤ min(equity, balance). Margin mode changes:
        /// as orders.
        /// </summary>
        private static bool LiquidationTouched(in EngineEvent e, int accountId) =>
            accountId != 0 && e.Kind switch
            {
                EventKind.LiquidationStep or EventKind.BackstopTakeover or EventKind.LiquidationFeeCharged or EventKind.InsuranceDeficitCovered => e.AccountId == accountId,
                EventKind.AutoDeleveraged => e.AccountId == accountId || e.MakerAccountId == accountId,
                EventKind.TradeExecuted => e.Liquidation && (e.AccountId == accountId || e.MakerAccountId == accountId),
                _ => false,
            };

        private void CheckMarginAfterAccepted(Command command, MarginProbe before)
        {
            if (before.AccountId == 0)
            {
                return;
            }

            var margin = MarginAt(before.Marks!);
            Fast.TryGetAccount(before.AccountId, out var account);
            var cross = margin.Cross(account);
            MarginSummary? IsolatedAfter(int instrumentId)
            {
                var position = account.GetPosition(instrumentId);
                return instrumentId != 0 && position.Isolated && !position.IsFlatAndIdle ? margin.Isolated(Fast.Instruments[instrumentId - 1], position) : null;
            }

            switch (command)
            {
                case PlaceOrder or AmendOrder:
                    Ensure(cross.Initial <= cross.Equity || cross.Initial <= before.Cross.Initial, () => $"after {command}: cross initial {cross.Initial} > equity {cross.Equity} (initial before {before.Cross.Initial})");
                    if (IsolatedAfter(before.InstrumentId) is { } isolated)
                    {
                        var initialBefore = before.Isolated?.Initial ?? Money.Zero;
                        Ensure(isolated.Initial <= isolated.Equity || isolated.Initial <= initialBefore, () => $"after {command}: isolated initial {isolated.Initial} > its equity {isolated.Equity} (before {initialBefore})");
                    }

                    break;
                case Withdraw:
                    Ensure(cross.Available >= Money.Zero, () => $"after {command}: available {cross.Available}");
                    break;
                case TransferIsolatedMargin t when t.Amount.IsPositive:
                    Ensure(cross.Available >= Money.Zero, () => $"after {command}: cross available {cross.Available}");
                    break;
                case TransferIsolatedMargin t:
                    var own = IsolatedAfter(t.InstrumentId);
                    Ensure(own is null || own.Value.Available >= Money.Zero, () => $"after {command}: isolated available {own?.Available}");
                    break;
                case SetMarginMode:
                    Ensure(cross.Initial <= cross.Equity || cross.Initial <= before.Cross.Initial, () => $"after {command}: initial {cross.Initial} > equity {cross.Equity}");
                    break;
            }

            margin.UseMarks(null);
        }

        /// <summary>Both engines: same state hash, and the same margin figures and report for every account.</summary>
        private void CompareEngines(Command command)
        {
            Ensure(Fast.ComputeStateHashHex() == reference.ComputeStateHashHex(), () => $"the engines diverged at {command}");
            for (int a = 1; a <= Fast.AccountCount; a++)
            {
                Assert.Equal(Fast.GetMarginSummary(a), reference.GetMarginSummary(a));
                var mine = Fast.GetMarginReport(a)!;
                var theirs = reference.GetMarginReport(a)!;
                Assert.Equal(mine.Positions, theirs.Positions);
                Assert.Equal(mine.Portfolio, theirs.Portfolio);
                Assert.Equal(mine.Isolated, theirs.Isolated);
            }

            for (int i = 0; i < Fast.Instruments.Count; i++)
            {
                Ensure(Fast.Instruments[i].RiskGrid.SequenceEqual(reference.Instruments[i].RiskGrid), () => $"scenario grid of {Fast.Instruments[i].Name} differs after {command}");
            }
        }

        private void CheckInvariants(Command command)
        {
            // Conservation: Σ cash + fee account + insurance fund = deposits − withdrawals, exactly.
            var ledger = Fast.Ledger;
            var held = ledger.FeeAccount + ledger.InsuranceFund;
            for (int a = 1; a <= Fast.AccountCount; a++)
            {
                Assert.True(Fast.TryGetAccount(a, out var account));
                held += account.Cash;
            }

            Ensure(held == ledger.TotalDeposited - ledger.TotalWithdrawn, () => $"value not conserved after {command}");
            Ensure(held + ledger.External == Money.Zero, () => $"the double-entry ledger does not sum to zero after {command}");
            Assert.True(ledger.FeeAccount >= Money.Zero, "the fee account paid out more than it took");
            Assert.Equal(Money.Zero, ledger.FundingInTransit);

            foreach (var instrument in Fast.Instruments)
            {
                // Long open interest = short open interest = Σ positive positions.
                // The insurance fund's takeovers count too.
                long fundSize = ledger.Insurance.GetPosition(instrument.Id).Size.Units;
                long longs = Math.Max(fundSize, 0);
                long shorts = Math.Max(-fundSize, 0);
                for (int a = 1; a <= Fast.AccountCount; a++)
                {
                    Fast.TryGetAccount(a, out var account);
                    long size = account.GetPosition(instrument.Id).Size.Units;
                    longs += Math.Max(size, 0);
                    shorts += Math.Max(-size, 0);
                }

                Ensure(instrument.LongOpenInterest == instrument.ShortOpenInterest && longs == instrument.LongOpenInterest.Units && shorts == instrument.ShortOpenInterest.Units,
                    () => $"open interest of {instrument.Name}: long {instrument.LongOpenInterest}, short {instrument.ShortOpenInterest}, positions {longs}/{shorts} after {command}");

                // Each account's open-order aggregates match what its orders in the book add up to
                // (one pass over the book, summed per account).
                int accountCount = Fast.AccountCount;
                var ownCount = new int[accountCount + 1];
                var ownBuys = new long[accountCount + 1];
                var ownSells = new long[accountCount + 1];
                var ownReduceOnly = new long[accountCount + 1];
                foreach (var o in instrument.Book.OrdersInPriority())
                {
                    ownCount[o.AccountId]++;
                    (o.Side == Side.Buy ? ownBuys : ownSells)[o.AccountId] += o.Remaining.Units;
                    if (o.IsReduceOnly)
                    {
                        ownReduceOnly[o.AccountId] += o.Remaining.Units;
                        Fast.TryGetAccount(o.AccountId, out var owner);
                        Ensure(Math.Sign(owner.GetPosition(instrument.Id).Size.Units) != o.Side.Sign(), () => $"reduce-only order {o.OrderId} would increase its position after {command}");
                    }
                }

                for (int a = 1; a <= accountCount; a++)
                {
                    Fast.TryGetAccount(a, out var account);
                    var p = account.GetPosition(instrument.Id);
                    Ensure(ownCount[a] == p.OpenOrderCount && ownBuys[a] == p.OpenBuyQuantity.Units && ownSells[a] == p.OpenSellQuantity.Units && ownReduceOnly[a] == p.ReduceOnlyOpenQuantity.Units,
                        () => $"account {a}'s order aggregates in {instrument.Name} do not match its orders after {command}");
                    Ensure(p.ReduceOnlyOpenQuantity.Units <= Math.Abs(p.Size.Units), () => $"reduce-only orders exceed the position after {command}");
                }

                // Collateral of its own only for an isolated position, and none once it is flat and idle (handed back).
                for (int a = 1; a <= Fast.AccountCount; a++)
                {
                    Fast.TryGetAccount(a, out var account);
                    var p = account.GetPosition(instrument.Id);
                    if (!p.Isolated || (p.Size.IsZero && p.OpenOrderCount == 0 && p.OpenCost.IsZero))
                    {
                        Ensure(p.IsolatedCash.IsZero, () => $"account {a} holds {p.IsolatedCash} of isolated collateral in {instrument.Name} after {command}");
                    }

                    Ensure(!(p.Isolated && instrument.Kind == InstrumentKind.Option), () => "an option position is isolated");
                }

                // The book is never crossed after a command.
                if (instrument.Book.TryGetBestBid(out var bid) && instrument.Book.TryGetBestAsk(out var ask))
                {
                    Ensure(bid < ask, () => $"book {instrument.Name} crossed after {command}: {bid} >= {ask}");
                }
            }

            if (sequence % 50 == 0)
            {
                CheckRemargin(command);
            }
        }

        /// <summary>The re-margin pass (marks cached once per pass) agrees with each account's own figures.</summary>
        private void CheckRemargin(Command command)
        {
            var health = new List<AccountHealth>();
            foreach (var underlying in Fast.Underlyings)
            {
                Fast.Remargin(underlying, health);
                foreach (var h in health)
                {
                    if (h.InstrumentId == 0)
                    {
                        var summary = Fast.GetMarginSummary(h.AccountId);
                        Ensure(summary.Equity == h.Equity && summary.Maintenance == h.Maintenance, () => $"Remargin disagrees for account {h.AccountId} after {command}");
                    }
                    else
                    {
                        var isolated = IsolatedSummary(h.AccountId, h.InstrumentId);
                        Ensure(isolated is { } i && i.Equity == h.Equity && i.Maintenance == h.Maintenance, () => $"Remargin disagrees for account {h.AccountId}'s isolated {h.InstrumentId} after {command}");
                    }
                }
            }
        }
    }
}

/// <summary>
/// A pinned state hash of a fixed scripted run (Lean's OrderListHash idea): any change in
/// matching, clearing, margin or hashing changes it. If you changed behaviour on purpose, update
/// the pin in the same commit and say why in its message.
/// </summary>
public class PinnedStateHashTests
{
    private const string PinnedHash = "e7f7f9621e748e19121282b7a1c18f4bcb273284d33ed9899a4c7d952b92b91d";

    [Fact]
    public void A_fixed_scripted_session_ends_in_the_pinned_state_hash()
    {
        var venue = new Venue();
        int btc = venue.ListBtcPerpetual(makerFeePpm: -100, takerFeePpm: 500);
        int future = venue.ListFuture("BTC", new DateOnly(2026, 3, 27));
        int[] traders = [venue.NewAccount(500_000m), venue.NewAccount(500_000m), venue.NewAccount(500_000m), venue.NewAccount(50_000m)];
        var random = new Random(20261125);
        for (int i = 0; i < 2_000; i++)
        {
            int trader = traders[random.Next(traders.Length)];
            int instrument = random.Next(2) == 0 ? btc : future;
            var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
            decimal price = 100_000m + (random.Next(-40, 41) * 12.5m);
            decimal amount = random.Next(1, 200) * 0.001m;
            switch (random.Next(10))
            {
                case 0:
                    venue.SetIndex("BTC", 100_000m + (random.Next(-200, 201) * 10m));
                    break;
                case 1:
                    venue.Apply(new CancelAllOrders(trader));
                    break;
                default:
                    venue.TryPlace(trader, instrument, side, price, amount, random.Next(5) == 0 ? TimeInForce.ImmediateOrCancel : TimeInForce.GoodTilCancelled);
                    break;
            }
        }

        // Sanity: the script really traded, so the pin covers matching and clearing.
        Assert.True(venue.Engine.Instruments[btc - 1].TradeCount > 100);
        string hash = venue.Engine.ComputeStateHashHex();
        Assert.True(hash == PinnedHash, $"state hash is {hash}");
    }
}
