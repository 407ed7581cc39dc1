using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Guards;

/// <summary>
/// A scenario builder for the guard tests: stamps commands as the sequencer does (sequence + 1,
/// time + 1 ms) and lets a story jump sequencer time forward (<see cref="Advance"/>), so that
/// minutes and days pass in a few commands.
/// </summary>
internal sealed class GuardVenue
{
    public const long GenesisMicros = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
    public const long Second = 1_000_000;
    public const long Minute = 60 * Second;
    public const long Day = 24 * 60 * Minute;

    private long sequence;

    public GuardVenue(EngineConfig? config = null)
    {
        Engine = new CoreEngine(config);
    }

    public CoreEngine Engine { get; }

    public long Now { get; private set; } = GenesisMicros;

    public EngineEvent[] Events { get; private set; } = [];

    public RejectReason Apply(Command command)
    {
        sequence++;
        Now += 1_000;
        var reason = Engine.Apply(command with { Sequence = sequence, TimestampMicros = Now });
        Events = Engine.Events.ToArray();
        return reason;
    }

    public void Accept(Command command)
    {
        var reason = Apply(command);
        Assert.True(reason == RejectReason.None, $"{command.GetType().Name} was rejected: {reason} ({RejectReasons.Describe(reason)})");
    }

    /// <summary>Asserts the command is rejected for <paramref name="expected"/> and that the state hash did not move.</summary>
    public void Reject(Command command, RejectReason expected)
    {
        string before = Engine.ComputeStateHashHex();
        Assert.Equal(expected, Apply(command));
        Assert.Equal(before, Engine.ComputeStateHashHex());
        var rejected = Assert.Single(Events);
        Assert.Equal(EventKind.CommandRejected, rejected.Kind);
    }

    /// <summary>Lets sequencer time pass without a command (the next command carries the later time).</summary>
    public void Advance(long micros) => Now += micros;

    /// <summary>Moves time forward and sends one tick.</summary>
    public void TickAfter(long micros)
    {
        Advance(micros);
        Accept(new Tick());
    }

    /// <summary>A perpetual: tick 0.5, lot 0.001, no fees, large-cap tiers (2% initial below 1M notional), 5% market protection.</summary>
    public int ListPerpetual(string underlying, decimal index, GuardParameters? guards = null, int takerFeePpm = 0)
    {
        Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual(underlying), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), 0, takerFeePpm)));
        int id = Events[0].InstrumentId;
        SetIndex(underlying, index);
        if (guards is not null)
        {
            Accept(new SetInstrumentGuards(id, guards));
        }

        return id;
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

    public static PlaceOrder Order(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled, OrderType type = OrderType.Limit) =>
        new(account, instrument, side, type, tif, Price.FromDecimal(price), Quantity.FromDecimal(amount));

    public RejectReason TryPlace(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled) =>
        Apply(Order(account, instrument, side, price, amount, tif));

    public long Place(int account, int instrument, Side side, decimal price, decimal amount, TimeInForce tif = TimeInForce.GoodTilCancelled)
    {
        Accept(Order(account, instrument, side, price, amount, tif));
        return Events[0].OrderId;
    }

    public Instrument Instrument(int id) => Engine.TryGetInstrument(id, out var i) ? i : throw new InvalidOperationException();

    public Quantity Size(int account, int instrument) =>
        Engine.TryGetAccount(account, out var a) ? a.GetPosition(instrument).Size : throw new InvalidOperationException();

    public Quantity OpenInterest(int instrument) => Instrument(instrument).LongOpenInterest;

    public static Quantity Q(decimal amount) => Quantity.FromDecimal(amount);
}
