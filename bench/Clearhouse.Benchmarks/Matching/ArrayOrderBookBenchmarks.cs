using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Benchmarks.Matching;

/// <summary>
/// <see cref="ArrayOrderBook"/> alone, without the engine around it (no validation, margin,
/// clearing or events), on a book of 1,000 resting orders spread over 200 levels a side. Each
/// iteration runs <see cref="Batch"/> operations prepared, and afterwards undone, outside the timing:
/// <list type="bullet">
/// <item><c>Add</c>: rest an order at a random existing-or-new level (book grows 1,000 → 1,512).</item>
/// <item><c>Remove</c>: remove one of 512 orders rested before the iteration, in random order.</item>
/// <item><c>MatchOneLevel</c>: an incoming order takes exactly one level holding one order of its size.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 5, iterationCount: 30, invocationCount: Batch)]
public class ArrayOrderBookBenchmarks
{
    public const int Batch = 512;

    private const int BaseOrders = 1_000;
    private const long Center = Venue.CenterTicks;

    private readonly CountingListener listener = new();
    private ArrayOrderBook book = null!;
    private Random random = null!;
    private long nextOrderId = 1;
    private RestingOrder[] orders = [];
    private long[] removals = [];
    private (Side Side, Price Limit, Quantity Quantity)[] incoming = [];
    private int next;

    [GlobalSetup]
    public void GlobalSetup()
    {
        random = new Random(20_260_101);
        book = new ArrayOrderBook();
        for (int i = 0; i < BaseOrders; i++)
        {
            book.Add(NewOrder((i & 1) == 0 ? Side.Buy : Side.Sell, random.Next(1_025, 1_225)));
        }

        // Iterations are far shorter than tiered compilation's ~100 ms delay: warm every operation
        // for a while first so that optimized code is measured (see EngineBatchBenchmark).
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.Elapsed < Apply.EngineBatchBenchmark.WarmUpTime)
        {
            SetupAdd();
            for (int i = 0; i < Batch; i++)
            {
                Add();
            }

            SetupRemove();
            for (int i = 0; i < Batch; i++)
            {
                Remove();
            }

            SetupMatch();
            for (int i = 0; i < Batch; i++)
            {
                MatchOneLevel();
            }
        }
    }

    [IterationSetup(Target = nameof(Add))]
    public void SetupAdd()
    {
        RemoveLeftovers();
        orders = new RestingOrder[Batch];
        for (int i = 0; i < Batch; i++)
        {
            orders[i] = NewOrder(random.Next(2) == 0 ? Side.Buy : Side.Sell, random.Next(1_025, 1_225));
        }

        next = 0;
    }

    [Benchmark(Description = "ArrayOrderBook.Add (rests)")]
    public void Add() => book.Add(orders[next++]);

    [IterationSetup(Target = nameof(Remove))]
    public void SetupRemove()
    {
        RemoveLeftovers();
        orders = new RestingOrder[Batch];
        removals = new long[Batch];
        for (int i = 0; i < Batch; i++)
        {
            orders[i] = NewOrder(random.Next(2) == 0 ? Side.Buy : Side.Sell, random.Next(1_025, 1_225));
            book.Add(orders[i]);
            removals[i] = orders[i].OrderId;
        }

        random.Shuffle(removals);
        next = 0;
    }

    [Benchmark(Description = "ArrayOrderBook.Remove")]
    public bool Remove() => book.Remove(removals[next++], out _);

    [IterationSetup(Target = nameof(MatchOneLevel))]
    public void SetupMatch()
    {
        RemoveLeftovers();
        orders = new RestingOrder[Batch];
        incoming = new (Side, Price, Quantity)[Batch];
        int bidLevels = 0;
        int askLevels = 0;
        for (int i = 0; i < Batch; i++)
        {
            var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
            int distance = side == Side.Buy ? ++askLevels : ++bidLevels;
            orders[i] = NewOrder(side.Opposite(), distance);
            book.Add(orders[i]);
            incoming[i] = (side, orders[i].Price, orders[i].Remaining);
        }

        next = 0;
    }

    [Benchmark(Description = "ArrayOrderBook.Match (takes one level)")]
    public MatchOutcome MatchOneLevel()
    {
        var (side, limit, quantity) = incoming[next++];
        return book.Match(side, limit, quantity, accountId: 0, SelfTradePrevention.CancelResting, listener);
    }

    /// <summary>Puts the book back to its 1,000 base orders, whatever the last iteration did.</summary>
    private void RemoveLeftovers()
    {
        foreach (var order in orders)
        {
            book.Remove(order.OrderId, out _);
        }

        if (book.OrderCount != BaseOrders)
        {
            throw new InvalidOperationException($"Expected {BaseOrders} resting orders, found {book.OrderCount}.");
        }
    }

    private RestingOrder NewOrder(Side side, long distanceTicks)
    {
        var amount = Venue.Lots(Venue.RandomLots(random));
        return new RestingOrder
        {
            OrderId = nextOrderId++,
            AccountId = random.Next(1, 2_001),
            Side = side,
            Price = Venue.PriceOf(Venue.PassivePrice(side, distanceTicks)),
            Amount = amount,
            Remaining = amount,
        };
    }

    private sealed class CountingListener : IMatchListener
    {
        public long Fills;

        public void OnMakerFill(in RestingOrder maker, Quantity quantity) => Fills++;

        public void OnSelfTradeCancel(in RestingOrder resting)
        {
        }
    }
}
