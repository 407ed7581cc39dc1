using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;

namespace Clearhouse.Benchmarks.Throughput;

/// <summary>What a generated command is, for per-type statistics.</summary>
public enum OpKind : byte
{
    PlaceGtc = 0,
    PlaceIoc = 1,
    Cancel = 2,
    Move = 3,
}

/// <summary>Parameters of the generated stream; defaults follow exchange-core's SinglePairMargin test.</summary>
public sealed record WorkloadOptions
{
    /// <summary>Commands in the timed part.</summary>
    public int Commands { get; init; } = 3_000_000;

    /// <summary>Commands of the same mix applied, untimed, before the timed part (after the book is filled).</summary>
    public int WarmupCommands { get; init; } = 1_000_000;

    public int Accounts { get; init; } = 2_000;

    /// <summary>Resting orders the generator steers the book toward (half a side).</summary>
    public int TargetOrders { get; init; } = 1_000;

    public int Seed { get; init; } = 1;

    /// <summary>GTC prices spread up to this many ticks from the mark (exchange-core's price deviation).</summary>
    public int PriceDeviationTicks { get; init; } = 400;
}

/// <summary>
/// The generated stream: every command from genesis on, stamped, and the indexes where the
/// warm-up and the timed part begin. Produced by <see cref="WorkloadGenerator"/> against a real
/// engine, so the stream is known to be valid; replaying it into a fresh engine reproduces the
/// same states (the final state hash is checked).
/// </summary>
public sealed class Workload
{
    public required Command[] Commands { get; init; }

    /// <summary>Kind of each command from <see cref="TimedStart"/> on (index 0 is the first timed command).</summary>
    public required OpKind[] TimedKinds { get; init; }

    public required int WarmupStart { get; init; }

    public required int TimedStart { get; init; }

    public required string FinalStateHash { get; init; }

    public required int FinalRestingOrders { get; init; }

    public required GenerationStats Stats { get; init; }
}

/// <summary>What happened while generating the timed part (from the generator's own engine).</summary>
public sealed class GenerationStats
{
    public long[] CountByKind { get; } = new long[4];

    /// <summary>Commands of each kind that produced at least one trade.</summary>
    public long[] TradedByKind { get; } = new long[4];

    public long Trades { get; set; }

    public long[] RejectsByReason { get; } = new long[1024];

    public int MinBookOrders { get; set; } = int.MaxValue;

    public int MaxBookOrders { get; set; }

    public double MeanBookOrders { get; set; }

    /// <summary>Mean number of price levels per side (bids and asks averaged), sampled with the order count.</summary>
    public double MeanLevelsPerSide { get; set; }

    public double MeanSpreadTicks { get; set; }

    public long FillCommands { get; set; }
}

/// <summary>
/// Generates an exchange-core-style stream ("SinglePairMargin") against a live engine, reading the
/// engine's events to know which orders exist, so every cancel and move targets a live order.
/// <list type="bullet">
/// <item>Fill: GTC orders only, until each side holds half of <see cref="WorkloadOptions.TargetOrders"/>.</item>
/// <item>Then each command picks a side at random; if that side is short of its target ("grow"),
/// the mix is 18% GTC / 6% cancel / 76% move, otherwise 6% IOC / 6% cancel / 88% move. The book
/// hovers at the target, so the realized mix is about 9% GTC, 3% IOC, 6% cancel, 82% move
/// (exchange-core regulates its book the same way, with its own percentages).</item>
/// <item>GTC: random account, price up to <see cref="WorkloadOptions.PriceDeviationTicks"/> from the mark on
/// its passive side (exchange-core's formula: a random deviation d = 1 + u²·max, then the mean of four
/// uniform draws in 0..d, doubled, minus d, folded to the passive side), so most orders rest near the mark.</item>
/// <item>IOC: random account, limit at the best opposite price, so it takes at most one level.</item>
/// <item>Cancel and move: a uniformly chosen order among the oldest 512 live ones (by order id).
/// A move keeps the amount and steps the price toward the mark by 1% of its distance (at least one
/// tick), or one tick up or down when it is at the mark, as exchange-core does; orders drifting to
/// the mark make moves trade now and then.</item>
/// <item>Sizes: 1 + r1·r2·r3 lots, each r an independent integer uniform in 0..5 (1 to 126 lots of 0.001 BTC).</item>
/// </list>
/// </summary>
public sealed class WorkloadGenerator
{
    private const int OldestWindow = 512;
    private const int StatEvery = 512;

    private readonly WorkloadOptions options;
    private readonly Random random;
    private readonly Venue venue;
    private readonly List<Command> journal;

    // Live orders: ids ascending (so the oldest come first) and each one's side.
    private readonly List<long> liveIds = [];
    private readonly Dictionary<long, Side> liveSide = [];
    private int bids;
    private int asks;

    public WorkloadGenerator(WorkloadOptions options)
    {
        this.options = options;
        random = new Random(options.Seed);
        journal = new List<Command>(options.Commands + options.WarmupCommands + 2 * options.Accounts + 100_000);
        venue = new Venue(options.Accounts, journal);
    }

    public Workload Generate()
    {
        var stats = new GenerationStats();
        int half = options.TargetOrders / 2;

        // 1. Fill the book with GTC orders only.
        long fill = 0;
        while (bids < half || asks < half)
        {
            var side = bids < half && (asks >= half || random.Next(2) == 0) ? Side.Buy : Side.Sell;
            Step(NewGtc(side), OpKind.PlaceGtc, null);
            fill++;
        }

        stats.FillCommands = fill;
        int warmupStart = journal.Count;

        // 2. Warm-up, then 3. the timed part: the same mix.
        for (int i = 0; i < options.WarmupCommands; i++)
        {
            Next(null);
        }

        int timedStart = journal.Count;
        var kinds = new OpKind[options.Commands];
        long bookSum = 0;
        long levelSum = 0;
        long spreadSum = 0;
        long spreadSamples = 0;
        long samples = 0;
        var levels = new BookLevel[100_000];
        for (int i = 0; i < options.Commands; i++)
        {
            kinds[i] = Next(stats);
            if (i % StatEvery == 0)
            {
                int count = venue.Book.OrderCount;
                stats.MinBookOrders = Math.Min(stats.MinBookOrders, count);
                stats.MaxBookOrders = Math.Max(stats.MaxBookOrders, count);
                bookSum += count;
                levelSum += venue.Book.CopyLevels(Side.Buy, levels) + venue.Book.CopyLevels(Side.Sell, levels);
                if (venue.Book.TryGetBestBid(out var bid) && venue.Book.TryGetBestAsk(out var ask))
                {
                    spreadSum += Venue.TicksOf(ask) - Venue.TicksOf(bid);
                    spreadSamples++;
                }

                samples++;
            }
        }

        stats.MeanBookOrders = samples == 0 ? 0 : (double)bookSum / samples;
        stats.MeanLevelsPerSide = samples == 0 ? 0 : levelSum / 2.0 / samples;
        stats.MeanSpreadTicks = spreadSamples == 0 ? 0 : (double)spreadSum / spreadSamples;
        return new Workload
        {
            Commands = [.. journal],
            TimedKinds = kinds,
            WarmupStart = warmupStart,
            TimedStart = timedStart,
            FinalStateHash = venue.Engine.ComputeStateHashHex(),
            FinalRestingOrders = venue.Book.OrderCount,
            Stats = stats,
        };
    }

    private OpKind Next(GenerationStats? stats)
    {
        var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
        bool grow = (side == Side.Buy ? bids : asks) < options.TargetOrders / 2;
        int q = random.Next(100);
        var kind = grow
            ? (q < 18 ? OpKind.PlaceGtc : q < 24 ? OpKind.Cancel : OpKind.Move)
            : (q < 6 ? OpKind.PlaceIoc : q < 12 ? OpKind.Cancel : OpKind.Move);
        if (kind == OpKind.PlaceIoc && NewIoc(side) is { } ioc)
        {
            return Step(ioc, OpKind.PlaceIoc, stats);
        }

        if (kind is OpKind.PlaceGtc or OpKind.PlaceIoc || liveIds.Count == 0)
        {
            return Step(NewGtc(side), OpKind.PlaceGtc, stats);
        }

        long orderId = liveIds[random.Next(Math.Min(liveIds.Count, OldestWindow))];
        if (!venue.Engine.TryGetOpenOrder(orderId, out var order, out _))
        {
            throw new InvalidOperationException($"The generator thinks order {orderId} is live but the engine does not.");
        }

        if (kind == OpKind.Cancel)
        {
            return Step(venue.Cancel(order.AccountId, orderId), OpKind.Cancel, stats);
        }

        long price = Venue.TicksOf(order.Price);
        long distance = Venue.CenterTicks - price;
        long step = distance == 0 ? (random.Next(2) == 0 ? -1 : 1)
            : distance > 0 ? Math.Max(1, distance / 100)
            : Math.Min(-1, distance / 100);
        return Step(venue.Move(order.AccountId, orderId, price + step, order.Amount), OpKind.Move, stats);
    }

    private PlaceOrder NewGtc(Side side)
    {
        int deviation = 1 + (int)(Math.Pow(random.NextDouble(), 2) * options.PriceDeviationTicks);
        long p = 0;
        for (int i = 0; i < 4; i++)
        {
            p += random.Next(deviation);
        }

        p = Math.Abs(p / 4 * 2 - deviation);
        return venue.Place(venue.RandomAccount(random), side, TimeInForce.GoodTilCancelled, Venue.PassivePrice(side, p), Venue.RandomLots(random));
    }

    private PlaceOrder? NewIoc(Side side)
    {
        var book = venue.Book;
        bool any = side == Side.Buy ? book.TryGetBestAsk(out var best) : book.TryGetBestBid(out best);
        return any
            ? venue.Place(venue.RandomAccount(random), side, TimeInForce.ImmediateOrCancel, Venue.TicksOf(best), Venue.RandomLots(random))
            : null;
    }

    private OpKind Step(Command command, OpKind kind, GenerationStats? stats)
    {
        var reason = venue.Apply(command);
        bool traded = false;
        foreach (ref readonly var e in venue.Engine.Events)
        {
            switch (e.Kind)
            {
                case EventKind.OrderAccepted:
                case EventKind.OrderAmended:
                case EventKind.OrderCancelled:
                    Sync(e.OrderId);
                    break;
                case EventKind.TradeExecuted:
                    traded = true;
                    if (stats is not null)
                    {
                        stats.Trades++;
                    }

                    Sync(e.OrderId);
                    Sync(e.MakerOrderId);
                    break;
            }
        }

        if (stats is not null)
        {
            stats.CountByKind[(int)kind]++;
            stats.RejectsByReason[(int)reason]++;
            if (traded)
            {
                stats.TradedByKind[(int)kind]++;
            }
        }

        return kind;
    }

    /// <summary>Makes the live-order list agree with the engine about one order.</summary>
    private void Sync(long orderId)
    {
        bool open = venue.Engine.TryGetOpenOrder(orderId, out var order, out _);
        bool known = liveSide.TryGetValue(orderId, out var side);
        if (open && !known)
        {
            int at = liveIds.BinarySearch(orderId);
            liveIds.Insert(~at, orderId);
            liveSide.Add(orderId, order.Side);
            if (order.Side == Side.Buy)
            {
                bids++;
            }
            else
            {
                asks++;
            }
        }
        else if (!open && known)
        {
            liveIds.RemoveAt(liveIds.BinarySearch(orderId));
            liveSide.Remove(orderId);
            if (side == Side.Buy)
            {
                bids--;
            }
            else
            {
                asks--;
            }
        }
    }
}
