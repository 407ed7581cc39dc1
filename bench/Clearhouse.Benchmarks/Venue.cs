using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Benchmarks;

/// <summary>
/// The venue every benchmark runs on: one engine, one perpetual (<c>BTC_USDC-PERPETUAL</c>,
/// tick 0.5 USDC, lot 0.001 BTC, default fees and tiers), its index set once at 100,000 USDC, and
/// a number of accounts each funded with 1,000,000 USDC, so that every margin check is performed
/// and passes. Prices are handled in ticks; <see cref="CenterTicks"/> is the mark.
/// Commands are stamped here with increasing sequence numbers and timestamps, as the sequencer would.
/// </summary>
public sealed class Venue
{
    public const int InstrumentId = 1;

    /// <summary>The mark, 100,000 USDC, in ticks of 0.5 USDC.</summary>
    public const long CenterTicks = 200_000;

    public static readonly Price Tick = Price.FromDecimal(0.5m);

    public static readonly Quantity Lot = Quantity.FromDecimal(0.001m);

    public static readonly Money FundingPerAccount = Money.FromWhole(1_000_000);

    private const long GenesisMicros = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

    private long sequence;
    private long timestamp = GenesisMicros;

    /// <param name="accounts">How many funded accounts to open.</param>
    /// <param name="journal">When given, every command applied through this venue is appended to it, genesis included.</param>
    public Venue(int accounts, List<Command>? journal = null)
    {
        Engine = new Engine();
        Accounts = accounts;
        Journal = journal;
        var spec = InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Tick, Lot);
        foreach (var command in GenesisCommands(accounts, spec))
        {
            ApplyOrThrow(Stamp(command));
        }
    }

    public Engine Engine { get; }

    public List<Command>? Journal { get; }

    public int Accounts { get; }

    public IOrderBook Book => Engine.Instruments[InstrumentId - 1].Book;

    /// <summary>The unstamped genesis: list the perpetual, set the index once, open and fund the accounts.</summary>
    public static IEnumerable<Command> GenesisCommands(int accounts, InstrumentSpec spec)
    {
        yield return new ListInstrument(spec);
        yield return new SetIndexPrice("BTC", PriceOf(CenterTicks));
        for (int i = 1; i <= accounts; i++)
        {
            yield return new CreateAccount();
            yield return new Deposit(i, FundingPerAccount);
        }
    }

    public static Price PriceOf(long ticks) => new(ticks * Tick.Micros);

    public static long TicksOf(Price price) => price.Micros / Tick.Micros;

    public static Quantity Lots(long lots) => new(lots * Lot.Units);

    /// <summary>Copies a command with the next sequence number and a timestamp one microsecond later.</summary>
    public Command Stamp(Command command) => command with { Sequence = ++sequence, TimestampMicros = ++timestamp };

    public PlaceOrder Place(int accountId, Side side, TimeInForce timeInForce, long priceTicks, long lots) =>
        new(accountId, InstrumentId, side, OrderType.Limit, timeInForce, PriceOf(priceTicks), Lots(lots))
        {
            Sequence = ++sequence,
            TimestampMicros = ++timestamp,
        };

    public CancelOrder Cancel(int accountId, long orderId) =>
        new(accountId, orderId) { Sequence = ++sequence, TimestampMicros = ++timestamp };

    public AmendOrder Move(int accountId, long orderId, long newPriceTicks, Quantity amount) =>
        new(accountId, orderId, PriceOf(newPriceTicks), amount) { Sequence = ++sequence, TimestampMicros = ++timestamp };

    /// <summary>Applies a command (and journals it when this venue keeps a journal).</summary>
    public RejectReason Apply(Command command)
    {
        Journal?.Add(command);
        return Engine.Apply(command);
    }

    public void ApplyOrThrow(Command command)
    {
        var reason = Apply(command);
        if (reason != RejectReason.None)
        {
            throw new InvalidOperationException($"Setup command {command} was rejected: {reason}.");
        }
    }

    /// <summary>
    /// Rests <paramref name="count"/> GTC orders, half bids and half asks, at random levels between
    /// <paramref name="nearTicks"/> and <paramref name="farTicks"/> from the mark on their own side
    /// (so none trades), from random accounts, sized 1 + r·r·r lots. Returns their ids.
    /// </summary>
    public long[] RestPassive(Random random, int count, int nearTicks, int farTicks)
    {
        var ids = new long[count];
        for (int i = 0; i < count; i++)
        {
            var side = (i & 1) == 0 ? Side.Buy : Side.Sell;
            long ticks = PassivePrice(side, random.Next(nearTicks, farTicks + 1));
            ids[i] = Engine.NextOrderId;
            ApplyOrThrow(Place(RandomAccount(random), side, TimeInForce.GoodTilCancelled, ticks, RandomLots(random)));
        }

        return ids;
    }

    public int RandomAccount(Random random) => random.Next(1, Accounts + 1);

    /// <summary>A price <paramref name="distanceTicks"/> away from the mark on the passive side of <paramref name="side"/>.</summary>
    public static long PassivePrice(Side side, long distanceTicks) => side == Side.Buy ? CenterTicks - distanceTicks : CenterTicks + distanceTicks;

    /// <summary>exchange-core's order size: 1 + r1·r2·r3 lots, each r an independent integer uniform in 0..5 (so 1 to 126 lots).</summary>
    public static long RandomLots(Random random) => 1 + random.Next(6) * random.Next(6) * random.Next(6);
}
