using BenchmarkDotNet.Attributes;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;

namespace Clearhouse.Benchmarks.Apply;

/// <summary>
/// Move (amend price): a random one of the 1,000 resting orders gets a new random price 1–200 ticks
/// from the mark on its own side (never crossing), same amount, so it leaves its level and joins the
/// back of another. The book size does not change. Includes the lookup, validation, the margin
/// check with the old order replaced by the new one, and the remove/re-add in the book.
/// </summary>
public class MoveBenchmark : EngineBatchBenchmark
{
    [Benchmark(Description = "Engine.Apply(AmendOrder price)")]
    public RejectReason MovePrice() => ApplyNext();

    protected override Command[] BuildBatch(int appliedFromPrevious)
    {
        // Prices as they will be when each move is applied (an order may be moved twice in a batch).
        var priceAfter = new Dictionary<long, long>();
        var moves = new Command[Batch];
        for (int i = 0; i < Batch; i++)
        {
            long id = BaseOrderIds[Random.Next(BaseOrderIds.Length)];
            if (!Venue.Engine.TryGetOpenOrder(id, out var order, out _))
            {
                throw new InvalidOperationException($"Order {id} is not resting.");
            }

            long current = priceAfter.TryGetValue(id, out long p) ? p : Venue.TicksOf(order.Price);
            long target;
            do
            {
                target = Venue.PassivePrice(order.Side, Random.Next(BookBand.Near, BookBand.Far + 1));
            }
            while (target == current);

            priceAfter[id] = target;
            moves[i] = Venue.Move(order.AccountId, id, target, order.Amount);
        }

        return moves;
    }
}
