using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Journal.Tests;

/// <summary>
/// A small random venue stream, stamped like the sequencer (sequence + 1, time + 0..40 ms): one BTC
/// perpetual, funded accounts, limit and IOC orders, cancels, index moves and clock ticks. Some
/// commands are rejected (e.g. cancels of filled orders); they belong to the stream all the same.
/// Shared with Clearhouse.Cli.Tests (linked), which builds venue data directories from it.
/// </summary>
internal static class SampleStream
{
    public const long GenesisMicros = 1_767_225_600_000_000;

    public static List<Command> Generate(int seed, int count, int accounts = 20)
    {
        var random = new Random(seed);
        var commands = new List<Command>(count);
        long sequence = 0;
        long time = GenesisMicros;
        void Add(Command command)
        {
            time += random.Next(40_000);
            commands.Add(command with { Sequence = ++sequence, TimestampMicros = time });
        }

        Add(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), 0, 500)));
        Add(new SetIndexPrice("BTC", Price.FromDecimal(100_000m)));
        for (var i = 0; i < accounts; i++)
        {
            Add(new CreateAccount());
            Add(new Deposit(i + 1, Money.FromDecimal(1_000_000m)));
        }

        long orders = 0;
        while (commands.Count < count)
        {
            var roll = random.Next(100);
            var account = 1 + random.Next(accounts);
            if (roll < 60)
            {
                var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
                var ticks = random.Next(-40, 41);
                var price = 100_000m + (ticks * 0.5m);
                var ioc = roll < 10;
                Add(new PlaceOrder(account, 1, side, OrderType.Limit, ioc ? TimeInForce.ImmediateOrCancel : TimeInForce.GoodTilCancelled,
                    Price.FromDecimal(price), Quantity.FromDecimal(0.001m * (1 + random.Next(20)))));
                orders++;
            }
            else if (roll < 85)
            {
                Add(new CancelOrder(account, 1 + random.NextInt64(Math.Max(1, orders))));
            }
            else if (roll < 92)
            {
                Add(new SetIndexPrice("BTC", Price.FromDecimal(100_000m + (random.Next(-20, 21) * 0.5m))));
            }
            else if (roll < 96)
            {
                Add(new Tick());
            }
            else
            {
                Add(new Deposit(account, Money.FromDecimal(random.Next(1, 1000))));
            }
        }
        return commands;
    }
}
