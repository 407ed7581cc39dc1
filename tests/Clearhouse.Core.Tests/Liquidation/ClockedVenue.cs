using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;
using Clearhouse.Core.Tests.Engine;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// A scenario builder for liquidation stories whose clock the test drives: each command is
/// stamped like the sequencer does (sequence + 1) at a time the test chooses (1 ms after the
/// previous command unless told otherwise), so that "a −15% move within 60 s of Ticks every
/// 250 ms" is written as such. It keeps every applied command (for replay) and checks the
/// venue-wide invariants on demand: value conserved exactly and open interest balanced, the
/// insurance fund's takeovers included.
/// </summary>
internal sealed class ClockedVenue
{
    private ClockedVenue(CoreEngine engine, long sequence, long time, List<Command> applied)
    {
        Engine = engine;
        Sequence = sequence;
        Now = time;
        Applied = applied;
    }

    public ClockedVenue(EngineConfig? config = null)
        : this(new CoreEngine(config), 0, Venue.GenesisMicros, [])
    {
    }

    public CoreEngine Engine { get; }

    public EngineConfig Config => Engine.Config;

    public long Sequence { get; private set; }

    public long Now { get; private set; }

    public List<Command> Applied { get; }

    public EngineEvent[] Events { get; private set; } = [];

    /// <summary>Every proof of the last command, by index.</summary>
    public IReadOnlyList<LiquidationProof> Proofs => Engine.Liquidations;

    public RejectReason Apply(Command command, long advanceMicros = 1_000)
    {
        Now += advanceMicros;
        var stamped = command with { Sequence = ++Sequence, TimestampMicros = Now };
        var reason = Engine.Apply(stamped);
        Events = Engine.Events.ToArray();
        Applied.Add(stamped);
        return reason;
    }

    public void Accept(Command command, long advanceMicros = 1_000)
    {
        var reason = Apply(command, advanceMicros);
        Assert.True(reason == RejectReason.None, $"{command} was rejected: {reason} ({RejectReasons.Describe(reason)})");
    }

    /// <summary>A second engine restored from a snapshot of this one, as after a crash; it continues from the same sequence and time.</summary>
    public ClockedVenue Restore() =>
        new(EngineSnapshot.Read(EngineSnapshot.Write(Engine), Engine.Config), Sequence, Now, [.. Applied]);

    public int ListPerpetual(string underlying, decimal tick, decimal lot, decimal index, int takerFeePpm = 0, int makerFeePpm = 0, MarginTiers? tiers = null)
    {
        Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual(underlying), Price.FromDecimal(tick), Quantity.FromDecimal(lot), makerFeePpm, takerFeePpm, tiers)));
        int id = Events[0].InstrumentId;
        SetIndex(underlying, index);
        return id;
    }

    public void SetIndex(string underlying, decimal price, long advanceMicros = 1_000) =>
        Accept(new SetIndexPrice(underlying, Price.FromDecimal(price)), advanceMicros);

    public void Tick(long advanceMicros) => Accept(new Tick(), advanceMicros);

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

    public RejectReason TryPlace(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled, OrderFlags flags = OrderFlags.None) =>
        Apply(new PlaceOrder(account, instrument, side, OrderType.Limit, tif, Price.FromDecimal(price), Quantity.FromDecimal(amount), flags));

    public void Place(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled)
    {
        var reason = TryPlace(account, instrument, side, price, amount, tif);
        Assert.True(reason == RejectReason.None, $"order of account {account} rejected: {reason}");
    }

    /// <summary><paramref name="buyer"/> buys <paramref name="amount"/> from <paramref name="seller"/> at <paramref name="price"/>: a resting sell, then a crossing buy.</summary>
    public void Trade(int buyer, int seller, int instrument, decimal price, decimal amount)
    {
        Place(seller, instrument, Side.Sell, price, amount);
        Place(buyer, instrument, Side.Buy, price, amount, TimeInForce.ImmediateOrCancel);
        Assert.Contains(Events, e => e.Kind == EventKind.TradeExecuted && e.Quantity == Quantity.FromDecimal(amount));
    }

    public Accounts.Account Account(int id)
    {
        Assert.True(Engine.TryGetAccount(id, out var account));
        return account;
    }

    public Accounts.Position Position(int account, int instrument) => Account(account).GetPosition(instrument);

    public Accounts.Account Fund => Engine.Ledger.Insurance;

    /// <summary>The insurance fund's equity: its cash plus its takeover positions at the marks (valued rounding down, as the engine does).</summary>
    public Money FundEquity()
    {
        var fund = Fund;
        var equity = fund.Cash;
        foreach (int id in fund.ActiveInstruments)
        {
            equity += StandardMargin.PositionValue(Engine.Instruments[id - 1].MarkPrice, fund.GetPosition(id).Size);
        }

        return equity;
    }

    public IEnumerable<EngineEvent> EventsOf(EventKind kind) => Events.Where(e => e.Kind == kind);

    /// <summary>Σ trader cash + fee account + insurance fund + external = 0, and the venue holds exactly deposits − withdrawals.</summary>
    public void AssertValueConserved(string context = "")
    {
        var ledger = Engine.Ledger;
        var held = ledger.FeeAccount + ledger.InsuranceFund;
        for (int id = 1; id <= Engine.AccountCount; id++)
        {
            held += Account(id).Cash;
        }

        Assert.True(held + ledger.External == Money.Zero, $"Σ balances + external = {held + ledger.External}, not 0 {context}");
        Assert.True(held == ledger.TotalDeposited - ledger.TotalWithdrawn, $"the venue holds {held}, deposits − withdrawals are {ledger.TotalDeposited - ledger.TotalWithdrawn} {context}");
        Assert.True(ledger.FundingInTransit.IsZero, $"funding left in transit {context}");
    }

    /// <summary>Long open interest = short open interest = the sum of positions on each side, the insurance fund's takeovers included.</summary>
    public void AssertOpenInterestBalanced(string context = "")
    {
        foreach (var instrument in Engine.Instruments)
        {
            long fund = Fund.GetPosition(instrument.Id).Size.Units;
            long longs = Math.Max(fund, 0);
            long shorts = Math.Max(-fund, 0);
            for (int id = 1; id <= Engine.AccountCount; id++)
            {
                long size = Account(id).GetPosition(instrument.Id).Size.Units;
                longs += Math.Max(size, 0);
                shorts += Math.Max(-size, 0);
            }

            Assert.True(longs == shorts, $"{instrument.Name}: {longs} long units, {shorts} short {context}");
            Assert.True(longs == instrument.LongOpenInterest.Units && shorts == instrument.ShortOpenInterest.Units, $"{instrument.Name}: open interest counters disagree with positions {context}");
        }
    }

    /// <summary>Cross equity of every account and equity of every isolated position is at least zero.</summary>
    public void AssertNoNegativeEquity(string context = "")
    {
        for (int id = 1; id <= Engine.AccountCount; id++)
        {
            var report = Engine.GetMarginReport(id)!;
            Assert.True(report.Equity >= Money.Zero, $"account {id} ({Account(id).ActiveCount} instruments held or ordered) is left with equity {report.Equity} {context}");
            foreach (var isolated in report.Isolated)
            {
                var position = Position(id, isolated.InstrumentId);
                Assert.True(isolated.Summary.Equity >= Money.Zero, $"account {id}'s isolated position in {isolated.InstrumentId} (size {position.Size}, {position.OpenOrderCount} open orders) is left with equity {isolated.Summary.Equity} {context}");
            }
        }
    }

    /// <summary>Applies Ticks (each crossing a basis-sample second, so every exposed account is re-checked) until the liquidation queue is empty.</summary>
    public int DrainQueue(int maxTicks = 2_000)
    {
        int ticks = 0;
        while (Engine.LiquidationQueue.Count > 0)
        {
            Assert.True(ticks++ < maxTicks, $"the liquidation queue still holds {Engine.LiquidationQueue.Count} entries after {maxTicks} ticks");
            Tick(1_000_000);
        }

        return ticks;
    }
}
