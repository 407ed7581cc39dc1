using BenchmarkDotNet.Attributes;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;

namespace Clearhouse.Benchmarks.Apply;

/// <summary>
/// Place: a GTC limit order that rests (never crosses), from a random funded account, at a random
/// level 1–200 ticks from the mark on its own side, into a book of about 1,000 orders (1,000 to
/// 1,512 during an iteration). Includes validation, the margin check (the account's initial
/// requirement before and after, and its equity), acceptance, the empty match, and resting.
/// </summary>
public class PlaceBenchmark : EngineBatchBenchmark
{
    private PlaceOrder[] placed = [];
    private long firstOrderId;

    [Benchmark(Description = "Engine.Apply(PlaceOrder GTC, rests)")]
    public RejectReason PlaceRestingGtc() => ApplyNext();

    protected override Command[] BuildBatch(int appliedFromPrevious)
    {
        // Untimed: cancel what the previous batch rested, so the book is back to its base size.
        for (int i = 0; i < appliedFromPrevious; i++)
        {
            Venue.ApplyOrThrow(Venue.Cancel(placed[i].AccountId, firstOrderId + i));
        }

        if (Venue.Book.OrderCount != BaseOrders)
        {
            throw new InvalidOperationException($"Expected {BaseOrders} resting orders, found {Venue.Book.OrderCount}.");
        }

        firstOrderId = Venue.Engine.NextOrderId;
        placed = new PlaceOrder[Batch];
        for (int i = 0; i < Batch; i++)
        {
            var side = Random.Next(2) == 0 ? Side.Buy : Side.Sell;
            long price = Venue.PassivePrice(side, Random.Next(BookBand.Near, BookBand.Far + 1));
            placed[i] = Venue.Place(Venue.RandomAccount(Random), side, TimeInForce.GoodTilCancelled, price, Venue.RandomLots(Random));
        }

        return placed;
    }
}
