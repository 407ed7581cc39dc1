using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using CsCheck;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Engine;

/// <summary>
/// Property tests over random command streams: several accounts and instruments, every order
/// type, amends and cancels of live and unknown orders, bad input, and violent index moves
/// (up to ±40% in one step). Each stream runs through an engine with the fast book and one with
/// the reference book side by side; after every command the invariants of DESIGN.md §2 are checked.
/// 50 streams × 2,000 commands = 100,000 commands per run.
/// </summary>
public class EngineProperties
{
    private const int Accounts = 6;
    private const int StreamLength = 2_000;
    private const int Streams = 50;

    /// <summary>One abstract step; <see cref="Driver"/> turns it into a concrete command against the current state.</summary>
    public readonly record struct Step(int Kind, int Account, int Instrument, int Side, int PriceOffset, int Lots, int Pick, int Variant);

    private static readonly Gen<Step> StepGen =
        Gen.Select(Gen.Int[0, 99], Gen.Int[1, Accounts], Gen.Int[0, 2], Gen.Int[0, 1], Gen.Int[-25, 25], Gen.Int[1, 40], Gen.Int[0, 1_000], Gen.Int[0, 99])
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

    /// <summary>Turns steps into commands against two engines and checks the invariants.</summary>
    internal sealed class Driver
    {
        private static readonly string[] Underlyings = ["BTC", "BTC", "ETH"];
        private readonly CoreEngine reference = new(new EngineConfig { BookFactory = () => new ReferenceOrderBook(), MaxOpenOrdersPerAccount = 40 });
        private readonly List<long> liveOrders = [];
        private readonly Dictionary<string, long> index = new() { ["BTC"] = 100_000_000_000, ["ETH"] = 3_000_000_000 };
        private readonly NSec.Cryptography.Key[] ethReporters = [.. Enumerable.Range(11, 3).Select(i => PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)i, 32).ToArray()))];
        private readonly long[] lastPublish = new long[3];
        private long sequence;
        private long time = Venue.GenesisMicros;

        public Driver()
        {
            Fast = new CoreEngine(new EngineConfig { MaxOpenOrdersPerAccount = 40 });
            Genesis();
        }

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
                var reason = Apply(command, out var events);
                if (!checkEveryCommand)
                {
                    continue;
                }

                string after = Fast.ComputeStateHashHex();
                if (reason != RejectReason.None)
                {
                    Assert.True(hash == after, $"rejected {command} ({reason}) changed the state");
                    Assert.Single(events);
                }

                hash = after;
                CheckInvariants(command);
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
                Console.WriteLine($"trades={Trades} funding={FundingPayments} " + string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}")));
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

            var referenceReason = reference.Apply(stamped);
            Assert.Equal(reason, referenceReason);
            Assert.Equal(events, reference.Events.ToArray());
            Applied.Add(stamped);
            Outcomes[reason] = Outcomes.GetValueOrDefault(reason) + 1;
            Trades += events.Count(e => e.Kind == EventKind.TradeExecuted);
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

            Apply(new Tick(), out _);
            for (int a = 1; a <= Accounts; a++)
            {
                Apply(new CreateAccount(), out _);
                Apply(new Deposit(a, Money.FromWhole(a % 3 == 0 ? 5_000 : 200_000)), out _);
            }
        }

        private Command ToCommand(Step s)
        {
            int instrument = s.Instrument + 1;
            string underlying = Underlyings[s.Instrument];
            var spec = Fast.Instruments[s.Instrument].Spec;
            var side = s.Side == 0 ? Side.Buy : Side.Sell;
            long mark = index[underlying];
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
                _ => BadInput(s, instrument, side, price, amount),
            };
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
            string underlying = s.Instrument == 2 ? "ETH" : "BTC";
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

            Assert.True(held == ledger.TotalDeposited - ledger.TotalWithdrawn, $"value not conserved after {command}");
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

                Assert.Equal(instrument.LongOpenInterest, instrument.ShortOpenInterest);
                Assert.Equal(longs, instrument.LongOpenInterest.Units);
                Assert.Equal(shorts, instrument.ShortOpenInterest.Units);

                // Each account's open-order aggregates match what its orders in the book add up to.
                var orders = instrument.Book.OrdersInPriority();
                for (int a = 1; a <= Fast.AccountCount; a++)
                {
                    Fast.TryGetAccount(a, out var account);
                    var p = account.GetPosition(instrument.Id);
                    var own = orders.Where(o => o.AccountId == a).ToList();
                    Assert.Equal(own.Count, p.OpenOrderCount);
                    Assert.Equal(own.Where(o => o.Side == Side.Buy).Sum(o => o.Remaining.Units), p.OpenBuyQuantity.Units);
                    Assert.Equal(own.Where(o => o.Side == Side.Sell).Sum(o => o.Remaining.Units), p.OpenSellQuantity.Units);
                    Assert.Equal(own.Where(o => o.IsReduceOnly).Sum(o => o.Remaining.Units), p.ReduceOnlyOpenQuantity.Units);
                    Assert.True(p.ReduceOnlyOpenQuantity.Units <= Math.Abs(p.Size.Units), $"reduce-only orders exceed the position after {command}");
                    Assert.All(own.Where(o => o.IsReduceOnly), o => Assert.NotEqual(Math.Sign(p.Size.Units), o.Side.Sign()));
                }

                // The book is never crossed after a command.
                if (instrument.Book.TryGetBestBid(out var bid) && instrument.Book.TryGetBestAsk(out var ask))
                {
                    Assert.True(bid < ask, $"book {instrument.Name} crossed after {command}: {bid} >= {ask}");
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
    private const string PinnedHash = "4f64f94a9084e726530386c1e233174edd658744a340e3a289e92ec725f5d77e";

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
