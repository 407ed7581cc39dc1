using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Pricing;
using NSec.Cryptography;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Settlement;

/// <summary>
/// A BTC venue around one expiry, 2026-01-02 08:00 UTC, driven on synthetic sequencer time: the
/// test says when each command happens. The index comes from one signed reporter whose reports
/// are stale after 5 s, so the index is healthy exactly at the 6-second boundaries where the test
/// reports it; the volatility surface is flat (60%). Every command is kept, so a test can replay
/// the run on a fresh engine or continue it from a snapshot.
/// </summary>
internal sealed class ExpiryVenue
{
    public static readonly DateOnly Expiry = new(2026, 1, 2);

    public static readonly long ExpiryMicros = UnixMicros.AtHour(Expiry, InstrumentTerms.ExpiryHourUtc);

    public const long Step = 6_000_000;

    private readonly Key key = PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)7, 32).ToArray());
    private long sequence;

    public ExpiryVenue(long startMicros, decimal index = 100_000m, EngineConfig? config = null)
    {
        Config = config;
        Engine = new CoreEngine(config);
        Now = startMicros;
        Future = List(InstrumentTerms.Future("BTC", Expiry), tick: 0.5m);
        Accept(new ConfigureOracle("BTC", new OracleParameters(1, 5_000_000, 1_000_000, 500_000)));
        Accept(new RegisterReporter("BTC", PriceReport.PublicKeyOf(key)));
        ReporterId = Events[0].ReporterId;
        Report(Price.FromDecimal(index));
        Accept(new Tick());
        Remark();
        Bank = NewAccount(1_000_000_000m);
    }

    public EngineConfig? Config { get; }

    public CoreEngine Engine { get; }

    public List<Command> Journal { get; } = [];

    public EngineEvent[] Events { get; private set; } = [];

    /// <summary>Every event since the venue was built, in order.</summary>
    public List<EngineEvent> History { get; } = [];

    public long Now { get; private set; }

    public int Future { get; }

    public int Bank { get; }

    public int ReporterId { get; }

    /// <summary>The index reported at each boundary (the samples a healthy window is made of).</summary>
    public SortedDictionary<long, Price> Reported { get; } = [];

    public Instrument this[int id] => Engine.Instruments[id - 1];

    public Underlying Btc => Engine.TryGetUnderlying("BTC", out var u) ? u : throw new InvalidOperationException();

    public RejectReason Apply(Command command)
    {
        var stamped = command with { Sequence = ++sequence, TimestampMicros = Now };
        Journal.Add(stamped);
        var reason = Engine.Apply(stamped);
        Events = Engine.Events.ToArray();
        History.AddRange(Events);
        return reason;
    }

    public void Accept(Command command)
    {
        var reason = Apply(command);
        Assert.True(reason == RejectReason.None, $"{command.GetType().Name} was rejected: {reason}");
    }

    public void At(long micros)
    {
        Assert.True(micros >= Now, "time goes forward");
        Now = micros;
    }

    public void Report(Price index)
    {
        Accept(new SubmitPriceReport(PriceReport.Sign(key, "BTC", index, Now, ReporterId)));
        Reported[Now] = index;
    }

    /// <summary>
    /// Every 6-second boundary after now up to <paramref name="endMicros"/>: reports the index that
    /// <paramref name="index"/> gives (null: no report, the oracle goes stale), then ticks.
    /// </summary>
    public void RunUntil(long endMicros, Func<long, Price> index) => RunUntil(endMicros, t => (Price?)index(t));

    public void RunUntil(long endMicros, Func<long, Price?> index)
    {
        for (long t = ((Now / Step) + 1) * Step; t <= endMicros; t += Step)
        {
            At(t);
            if (index(t) is { } price)
            {
                Report(price);
            }

            Accept(new Tick());
        }
    }

    /// <summary>Publishes the flat 60% surface again, 1 ms later: every active option is re-marked.</summary>
    public void Remark()
    {
        At(Now + 1_000); // a surface must be newer than the one in force
        double years = YearFraction.Between(Now, ExpiryMicros);
        long a = (long)Math.Round(0.36 * years * 1e9);
        var parameters = new VolSurfaceParameters("BTC", Now, [new SviSliceParameters(ExpiryMicros, a, 0, 0, 0, 100_000_000)]);
        Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(key, parameters, ReporterId)));
    }

    public int List(InstrumentTerms terms, decimal tick = 5m, decimal lot = 0.001m)
    {
        Accept(new ListInstrument(InstrumentSpec.Create(terms, Price.FromDecimal(tick), Quantity.FromDecimal(lot), 0, 500)));
        return Events[0].InstrumentId;
    }

    public int ListOption(decimal strike, OptionRight right)
    {
        int id = List(InstrumentTerms.Option("BTC", Expiry, Price.FromDecimal(strike), right));
        Remark();
        Assert.True(this[id].MarkPrice.IsPositive, "the option was not marked");
        return id;
    }

    public int NewAccount(decimal deposit)
    {
        Accept(new CreateAccount());
        int id = Events[0].AccountId;
        Accept(new Deposit(id, Money.FromDecimal(deposit)));
        return id;
    }

    /// <summary>A price on the instrument's tick near its mark.</summary>
    public decimal NearMark(int instrument)
    {
        var i = this[instrument];
        return i.MarkPrice.RoundToTick(i.Spec.TickSize, Rounding.Ceiling).ToDecimal();
    }

    /// <summary><paramref name="buyer"/> buys <paramref name="amount"/> from <paramref name="seller"/> at <paramref name="price"/>.</summary>
    public void Trade(int buyer, int seller, int instrument, decimal amount, decimal price)
    {
        Accept(new PlaceOrder(seller, instrument, Side.Sell, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromDecimal(price), Quantity.FromDecimal(amount), OrderFlags.PostOnly));
        Accept(new PlaceOrder(buyer, instrument, Side.Buy, OrderType.Limit, TimeInForce.FillOrKill, Price.FromDecimal(price), Quantity.FromDecimal(amount)));
        Assert.Contains(Events, e => e.Kind == EventKind.TradeExecuted);
    }

    /// <summary>Places a resting order that must be accepted; returns its id.</summary>
    public long Rest(int account, int instrument, Side side, decimal price, decimal amount)
    {
        Accept(new PlaceOrder(account, instrument, side, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromDecimal(price), Quantity.FromDecimal(amount), OrderFlags.PostOnly));
        return Events[0].OrderId;
    }

    public Accounts.Account Account(int id) => Engine.TryGetAccount(id, out var a) ? a : throw new InvalidOperationException();

    /// <summary>Σ trader cash + fee account + insurance fund; must always equal deposits − withdrawals.</summary>
    public Money TotalHeld()
    {
        var total = Engine.Ledger.FeeAccount + Engine.Ledger.InsuranceFund;
        for (int id = 1; id <= Engine.AccountCount; id++)
        {
            total += Account(id).Cash;
        }

        return total;
    }

    /// <summary>
    /// A model of the settlement rule, from the reported samples alone: the mean (rounded down) of
    /// the samples in (end − 30 min, end], when there are at least 240 of them.
    /// </summary>
    public bool TryModelWindow(long endMicros, out Price average, out int samples)
    {
        long window = Step * 300;
        Int128 sum = 0;
        samples = 0;
        foreach (var (time, price) in Reported)
        {
            // The first tick only starts the schedule: no sample before the second boundary.
            if (time > endMicros - window && time <= endMicros && time > Journal[0].TimestampMicros)
            {
                sum += price.Micros;
                samples++;
            }
        }

        average = samples == 0 ? Price.Zero : new Price((long)(sum / samples));
        return samples >= 240;
    }
}
