using BenchmarkDotNet.Attributes;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;

namespace Clearhouse.Benchmarks.Apply;

/// <summary>
/// Match: an IOC limit order that takes exactly one price level, holding one resting order of the
/// same size, so it fills in full against it: one fill, cleared (cash, fees, positions, open
/// interest for both accounts), the maker leaves the book and its level is removed. Before each
/// iteration, 512 such makers are rested (untimed) on the best levels, 1–512 ticks from the mark,
/// in front of a 1,000-order base book kept 1,025–1,224 ticks away; the IOCs (random side, random
/// taker account other than the maker's) take them best first.
/// </summary>
public class MatchBenchmark : EngineBatchBenchmark
{
    private readonly List<(int AccountId, long OrderId)> makers = [];

    protected override (int Near, int Far) BookBand => (1_025, 1_224);

    [Benchmark(Description = "Engine.Apply(PlaceOrder IOC, takes one level)")]
    public RejectReason MatchOneLevel() => ApplyNext();

    protected override Command[] BuildBatch(int appliedFromPrevious)
    {
        // Untimed: cancel makers that the previous batch did not take, then rest 512 new ones.
        foreach (var (accountId, orderId) in makers)
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

        makers.Clear();
        var takers = new (Side Side, int AccountId, long PriceTicks, long Lots)[Batch];
        int bidLevels = 0;
        int askLevels = 0;
        for (int i = 0; i < Batch; i++)
        {
            var takerSide = Random.Next(2) == 0 ? Side.Buy : Side.Sell;
            int distance = takerSide == Side.Buy ? ++askLevels : ++bidLevels;
            long price = Venue.PassivePrice(takerSide.Opposite(), distance);
            long lots = Venue.RandomLots(Random);
            int maker = Venue.RandomAccount(Random);
            int taker;
            do
            {
                taker = Venue.RandomAccount(Random);
            }
            while (taker == maker);

            long makerId = Venue.Engine.NextOrderId;
            Venue.ApplyOrThrow(Venue.Place(maker, takerSide.Opposite(), TimeInForce.GoodTilCancelled, price, lots));
            makers.Add((maker, makerId));
            takers[i] = (takerSide, taker, price, lots);
        }

        // The k-th buy takes the k-th best ask, which is the one rested for it (likewise for sells).
        var iocs = new Command[Batch];
        for (int i = 0; i < Batch; i++)
        {
            var (side, account, price, lots) = takers[i];
            iocs[i] = Venue.Place(account, side, TimeInForce.ImmediateOrCancel, price, lots);
        }

        return iocs;
    }
}
