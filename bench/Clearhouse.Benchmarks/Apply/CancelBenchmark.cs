using BenchmarkDotNet.Attributes;
using Clearhouse.Core.Engine;

namespace Clearhouse.Benchmarks.Apply;

/// <summary>
/// Cancel: a resting order, chosen in random order among 512 orders placed (untimed) before the
/// iteration on top of the 1,000-order base book, so the book shrinks from 1,512 to 1,000 orders
/// during an iteration. Includes the order lookup, unlinking from its level (and removing the
/// level when it empties), the account's order aggregates and the event.
/// </summary>
public class CancelBenchmark : EngineBatchBenchmark
{
    private readonly List<(int AccountId, long OrderId)> open = [];

    [Benchmark(Description = "Engine.Apply(CancelOrder)")]
    public RejectReason CancelResting() => ApplyNext();

    protected override Command[] BuildBatch(int appliedFromPrevious)
    {
        // Untimed: cancel what the previous batch did not (iterations that ran nothing), then rest 512 new orders.
        foreach (var (accountId, orderId) in open)
        {
            if (Venue.Engine.TryGetOpenOrder(orderId, out _, out _))
            {
                Venue.ApplyOrThrow(Venue.Cancel(accountId, orderId));
            }
        }

        if (Venue.Book.OrderCount != BaseOrders)
        {
            throw new InvalidOperationException($"Expected {BaseOrders} resting orders, found {Venue.Book.OrderCount}.");
        }

        open.Clear();
        long[] ids = Venue.RestPassive(Random, Batch, BookBand.Near, BookBand.Far);
        foreach (long id in ids)
        {
            Venue.Engine.TryGetOpenOrder(id, out var order, out _);
            open.Add((order.AccountId, id));
        }

        var cancels = new Command[Batch];
        var shuffled = Enumerable.Range(0, Batch).ToArray();
        Random.Shuffle(shuffled);
        for (int i = 0; i < Batch; i++)
        {
            var (accountId, orderId) = open[shuffled[i]];
            cancels[i] = Venue.Cancel(accountId, orderId);
        }

        return cancels;
    }
}
