using System.Collections.Immutable;
using Clearhouse.Core.Accounts;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Pricing;
using NSec.Cryptography;

namespace Clearhouse.Benchmarks.Margin;

/// <summary>
/// An options venue on one underlying, built through <see cref="Engine.Apply"/> as the sequencer
/// would (sequence + 1 per command, time + 1 µs unless told otherwise), for the margin benchmarks:
/// <c>BTC_USDC-PERPETUAL</c> (tick 0.5, lot 0.001), a dated future per expiry (same tick and lot),
/// options (tick 5 USDC, lot 0.01), an oracle with one registered reporter (quorum 1, a 30-day
/// staleness limit so that setup time never makes the index stale) reporting the index at
/// 100,000 USDC, and a signed SVI volatility surface with a slice per listed expiry (Demo oracle's
/// shape: ATM volatility 60%, ρ = −0.3, σ = 0.2, b = 0.1·T). Positions are made by trades: a maker
/// rests a GTC order at the instrument's mark rounded to its tick, and the taker takes it with an
/// IOC at the same price.
/// </summary>
public sealed class OptionMarket : IDisposable
{
    public const string Underlying = "BTC";

    /// <summary>2026-01-01T00:00:00Z, as the other benchmark venues.</summary>
    public const long GenesisMicros = 1_767_225_600_000_000;

    public const double AtmVolatility = 0.60;

    public static readonly Price Index = Price.FromWhole(100_000);

    public static readonly Price FutureTick = Price.FromDecimal(0.5m);

    public static readonly Quantity FutureLot = Quantity.FromDecimal(0.001m);

    public static readonly Price OptionTick = Price.FromWhole(5);

    public static readonly Quantity OptionLot = Quantity.FromDecimal(0.01m);

    private readonly Key reporterKey = PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)42, 32).ToArray());
    private readonly SortedSet<DateOnly> optionExpiries = [];
    private long sequence;
    private long timestamp = GenesisMicros;
    private int reporterId;

    public OptionMarket(EngineConfig? config = null)
    {
        Engine = new Engine(config);
    }

    public Engine Engine { get; }

    /// <summary>Time of the last command applied, in Unix microseconds.</summary>
    public long Now => timestamp;

    public int PerpetualId { get; private set; }

    public Dictionary<DateOnly, int> Futures { get; } = [];

    public List<int> Options { get; } = [];

    public Underlying Btc => Engine.TryGetUnderlying(Underlying, out var u) ? u : throw new InvalidOperationException("BTC is not listed.");

    /// <summary>Copies a command with the next sequence number and a timestamp <paramref name="stepMicros"/> later.</summary>
    public Command Stamp(Command command, long stepMicros = 1) => command with { Sequence = ++sequence, TimestampMicros = timestamp += stepMicros };

    public RejectReason Apply(Command command, long stepMicros = 1) => Engine.Apply(Stamp(command, stepMicros));

    public void ApplyOrThrow(Command command, long stepMicros = 1)
    {
        var reason = Apply(command, stepMicros);
        if (reason != RejectReason.None)
        {
            throw new InvalidOperationException($"Setup command {command.GetType().Name} was rejected: {reason} ({RejectReasons.Describe(reason)}).");
        }
    }

    /// <summary>Lists the perpetual and a future per expiry, configures the oracle, registers the reporter and reports the index.</summary>
    public void Open(IEnumerable<DateOnly> futureExpiries)
    {
        PerpetualId = List(InstrumentSpec.Create(InstrumentTerms.Perpetual(Underlying), FutureTick, FutureLot));
        foreach (var expiry in futureExpiries)
        {
            Futures[expiry] = List(InstrumentSpec.Create(InstrumentTerms.Future(Underlying, expiry), FutureTick, FutureLot));
        }

        ApplyOrThrow(new ConfigureOracle(Underlying, new OracleParameters(1, 30 * UnixMicros.PerDay, 1_000_000, 50_000)));
        ApplyOrThrow(new RegisterReporter(Underlying, PriceReport.PublicKeyOf(reporterKey)));
        reporterId = Engine.Events[0].ReporterId;
        ReportIndex(Index);
    }

    public int ListOption(DateOnly expiry, Price strike, OptionRight right)
    {
        optionExpiries.Add(expiry);
        int id = List(InstrumentSpec.Create(InstrumentTerms.Option(Underlying, expiry, strike, right), OptionTick, OptionLot));
        Options.Add(id);
        return id;
    }

    /// <summary>A signed report of the index from the reporter, published at the command's own time.</summary>
    public void ReportIndex(Price price) =>
        ApplyOrThrow(new SubmitPriceReport(PriceReport.Sign(reporterKey, Underlying, price, timestamp + 1, reporterId)));

    /// <summary>
    /// A signed surface with one slice per listed option expiry, published now: w(k) = σ²T + b·(ρk + √(k² + s²) − s)
    /// with b = 0.1·T, so every slice has the same shape and total variance grows with T (no calendar arbitrage).
    /// Re-marks every option (and recomputes its scenario grid).
    /// </summary>
    public void PublishSurface(double atmVolatility = AtmVolatility)
    {
        long published = timestamp + 1;
        const double curvature = 0.2;
        var slices = optionExpiries.Select(date =>
        {
            long expiry = UnixMicros.AtHour(date, InstrumentTerms.ExpiryHourUtc);
            double years = YearFraction.Between(published, expiry);
            double b = 0.1 * years;
            double a = (atmVolatility * atmVolatility * years) - (b * curvature);
            return new SviSliceParameters(expiry, (long)(a * 1e9), (long)(b * 1e9), -300_000_000, 0, (long)(curvature * 1e9));
        }).ToImmutableArray();
        ApplyOrThrow(new SetVolatilitySurface(VolSurfaceUpdate.Sign(reporterKey, new VolSurfaceParameters(Underlying, published, slices), reporterId)));
    }

    /// <summary>Opens an account, funds it and, when asked, switches it to portfolio margin (before it holds anything).</summary>
    public int NewAccount(Money deposit, Core.Margin.MarginMode mode = Core.Margin.MarginMode.Standard)
    {
        ApplyOrThrow(new CreateAccount());
        int id = Engine.Events[0].AccountId;
        ApplyOrThrow(new Deposit(id, deposit));
        if (mode != Core.Margin.MarginMode.Standard)
        {
            ApplyOrThrow(new SetMarginMode(id, mode));
        }

        return id;
    }

    /// <summary>The instrument's mark rounded down to its tick (at least one tick): a price both sides accept.</summary>
    public Price TradePrice(int instrumentId)
    {
        var instrument = Engine.Instruments[instrumentId - 1];
        var tick = instrument.Spec.TickSize;
        var price = instrument.MarkPrice.RoundToTick(tick, Rounding.Floor);
        return price.IsPositive ? price : tick;
    }

    /// <summary>
    /// <paramref name="taker"/> trades <paramref name="amount"/> on <paramref name="takerSide"/> against
    /// <paramref name="maker"/> at <see cref="TradePrice"/>; both orders must be accepted and fill completely.
    /// </summary>
    public void Trade(int taker, int maker, int instrumentId, Side takerSide, Quantity amount)
    {
        var price = TradePrice(instrumentId);
        var makerSide = takerSide == Side.Buy ? Side.Sell : Side.Buy;
        var before = PositionOf(taker, instrumentId).Size;
        ApplyOrThrow(new PlaceOrder(maker, instrumentId, makerSide, OrderType.Limit, TimeInForce.GoodTilCancelled, price, amount));
        ApplyOrThrow(new PlaceOrder(taker, instrumentId, takerSide, OrderType.Limit, TimeInForce.ImmediateOrCancel, price, amount));
        var after = PositionOf(taker, instrumentId).Size;
        long expected = before.Units + (takerSide == Side.Buy ? amount.Units : -amount.Units);
        if (after.Units != expected)
        {
            throw new InvalidOperationException($"Trade in instrument {instrumentId} between {taker} and {maker} did not fill completely.");
        }
    }

    public Position PositionOf(int accountId, int instrumentId) =>
        Engine.TryGetAccount(accountId, out var account) ? account.GetPosition(instrumentId) : throw new InvalidOperationException($"No account {accountId}.");

    public void Dispose() => reporterKey.Dispose();

    private int List(InstrumentSpec spec)
    {
        ApplyOrThrow(new ListInstrument(spec));
        return Engine.Events[0].InstrumentId;
    }
}
