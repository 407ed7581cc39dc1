using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Engine;

/// <summary>
/// A small scenario builder: it stamps commands the way the sequencer does (sequence + 1, time
/// + 1 ms) and reads like the story a test tells.
/// </summary>
internal sealed class Venue
{
    public const long GenesisMicros = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

    private long sequence;
    private long time = GenesisMicros;

    public Venue(EngineConfig? config = null)
    {
        Engine = new CoreEngine(config);
    }

    public CoreEngine Engine { get; }

    public EngineEvent[] Events { get; private set; } = [];

    public RejectReason Apply(Command command)
    {
        sequence++;
        time += 1_000;
        var reason = Engine.Apply(command with { Sequence = sequence, TimestampMicros = time });
        Events = Engine.Events.ToArray();
        return reason;
    }

    public void Accept(Command command)
    {
        var reason = Apply(command);
        Assert.True(reason == RejectReason.None, $"{command.GetType().Name} was rejected: {reason} ({RejectReasons.Describe(reason)})");
    }

    /// <summary>BTC_USDC-PERPETUAL: tick 0.5, lot 0.001, maker 0, taker 0.05%, large-cap tiers (2% initial below 1M notional).</summary>
    public int ListBtcPerpetual(int makerFeePpm = 0, int takerFeePpm = 500, decimal index = 100_000m)
    {
        Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), makerFeePpm, takerFeePpm)));
        int id = Events[0].InstrumentId;
        SetIndex("BTC", index);
        return id;
    }

    public int ListFuture(string underlying, DateOnly expiry, decimal tick = 0.5m, decimal lot = 0.001m)
    {
        Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Future(underlying, expiry), Price.FromDecimal(tick), Quantity.FromDecimal(lot))));
        return Events[0].InstrumentId;
    }

    public void SetIndex(string underlying, decimal price) => Accept(new SetIndexPrice(underlying, Price.FromDecimal(price)));

    public int NewAccount(decimal deposit = 0)
    {
        Accept(new CreateAccount());
        int id = Events[0].AccountId;
        if (deposit > 0)
        {
            Accept(new Deposit(id, Money.FromDecimal(deposit)));
        }

        return id;
    }

    public RejectReason TryPlace(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled, OrderFlags flags = OrderFlags.None, string? clientOrderId = null, OrderType type = OrderType.Limit, SelfTradePrevention stp = SelfTradePrevention.CancelResting) =>
        Apply(new PlaceOrder(account, instrument, side, type, tif, Price.FromDecimal(price), Quantity.FromDecimal(amount), flags, clientOrderId, stp));

    /// <summary>Places an order that must be accepted and returns its id.</summary>
    public long Place(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled, OrderFlags flags = OrderFlags.None, string? clientOrderId = null, OrderType type = OrderType.Limit, SelfTradePrevention stp = SelfTradePrevention.CancelResting)
    {
        var reason = TryPlace(account, instrument, side, price, amount, tif, flags, clientOrderId, type, stp);
        Assert.True(reason == RejectReason.None, $"order rejected: {reason}");
        return Events[0].OrderId;
    }

    public long Buy(int account, int instrument, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled, OrderFlags flags = OrderFlags.None) =>
        Place(account, instrument, Side.Buy, price, amount, tif, flags);

    public long Sell(int account, int instrument, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled, OrderFlags flags = OrderFlags.None) =>
        Place(account, instrument, Side.Sell, price, amount, tif, flags);

    public Accounts.Position Position(int account, int instrument)
    {
        Assert.True(Engine.TryGetAccount(account, out var a));
        return a.GetPosition(instrument);
    }

    public Money Cash(int account)
    {
        Assert.True(Engine.TryGetAccount(account, out var a));
        return a.Cash;
    }

    public IEnumerable<EngineEvent> Trades => Events.Where(e => e.Kind == EventKind.TradeExecuted);

    /// <summary>Σ trader cash + fee account + insurance fund; must always equal deposits − withdrawals.</summary>
    public Money TotalHeld()
    {
        var total = Engine.Ledger.FeeAccount + Engine.Ledger.InsuranceFund;
        for (int id = 1; id <= Engine.AccountCount; id++)
        {
            total += Cash(id);
        }

        return total;
    }
}
