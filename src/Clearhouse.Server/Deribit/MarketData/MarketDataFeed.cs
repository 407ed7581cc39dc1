using System.Buffers;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>
/// The public market data channels (docs/api.md) and the loop that publishes them:
/// <list type="bullet">
/// <item><c>book.{instrument}.{100ms|agg2|raw}</c>: a <c>snapshot</c> first, then <c>change</c>
/// messages whose <c>prev_change_id</c> is the <c>change_id</c> of the message before, with
/// entries <c>[new|change|delete, price, amount]</c> (up to <see cref="MaxBookLevels"/> per side).</item>
/// <item><c>book.{instrument}.none.{1|10|20}.{100ms|agg2}</c>: the top levels as
/// <c>[price, amount]</c>, whenever they changed.</item>
/// <item><c>ticker.{instrument}.{100ms|agg2|raw}</c>: <c>public/ticker</c>'s answer when anything
/// but its timestamp changed (and to a new subscriber on its first cycle).</item>
/// <item><c>trades.{instrument}.{100ms|agg2|raw}</c>: the trades since the last message, as an array.</item>
/// <item><c>trades.{future|option|any}.{currency|any}.{100ms|agg2|raw}</c>: the same for every
/// instrument of that kind on that underlying (<c>any</c>, or USDC: all).</item>
/// </list>
/// Every <see cref="Period"/> the loop takes, for the instruments someone is subscribed to, one
/// query on the engine thread (book levels, change counter, ticker, new trades), then — off that
/// thread — compares with what it published last, serializes each channel's message once and
/// queues the same bytes to every subscriber (<see cref="DeribitConnection.TrySend"/>). A
/// subscriber that does not read is cut off by its connection's bounded queue; the engine only
/// ever sees the one query. <c>raw</c> channels are published on the same 100 ms cycle.
/// </summary>
public sealed class MarketDataFeed(Sequencer sequencer, PublicTradeTape tape, TimeProvider clock, ILogger<MarketDataFeed> logger) : BackgroundService, IChannelProvider
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    /// <summary>Levels per side that the change-based book channels carry.</summary>
    public const int MaxBookLevels = 1_000;

    private readonly Lock gate = new();
    private readonly Dictionary<string, ChannelState> channels = new(StringComparer.Ordinal);
    private readonly BookLevel[] levelBuffer = new BookLevel[MaxBookLevels];

    private enum ChannelKind
    {
        Book,
        Depth,
        Ticker,
        Trades,

        /// <summary><c>trades.{kind}.{currency}.{interval}</c>: every instrument of a kind and underlying.</summary>
        TradesByCurrency,
    }

    public ChannelMatch Match(string channel, ApiPrincipal? principal)
    {
        if (!channel.StartsWith("book.", StringComparison.Ordinal) && !channel.StartsWith("ticker.", StringComparison.Ordinal) && !channel.StartsWith("trades.", StringComparison.Ordinal))
        {
            return ChannelMatch.NotMine;
        }

        return TryParse(channel, out _, out string? problem) ? ChannelMatch.Accepted : ChannelMatch.Refused(RpcError.InvalidParams("channels", problem!));
    }

    public void Subscribed(DeribitConnection connection, string channel)
    {
        if (!TryParse(channel, out var parsed, out _))
        {
            return;
        }

        lock (gate)
        {
            if (!channels.TryGetValue(channel, out var state))
            {
                state = parsed;
                channels.Add(channel, state);
            }

            state.Live.Remove(connection);
            if (!state.Pending.Contains(connection))
            {
                state.Pending.Add(connection);
            }
        }
    }

    /// <summary>Channels with at least one subscriber (for tests and metrics).</summary>
    public int ActiveChannels
    {
        get
        {
            lock (gate)
            {
                return channels.Count;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await PublishOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (SequencerStoppedException)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Publishing market data failed; trying again next cycle.");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>One cycle: prune, one engine query, then diff, serialize once and fan out per channel.</summary>
    internal async Task PublishOnceAsync(CancellationToken cancellationToken)
    {
        ChannelState[] states;
        lock (gate)
        {
            foreach (var (name, state) in channels.ToArray())
            {
                state.Live.RemoveAll(c => c.IsClosed || !c.IsSubscribed(name));
                state.Pending.RemoveAll(c => c.IsClosed || !c.IsSubscribed(name));
                if (state.Live.Count == 0 && state.Pending.Count == 0)
                {
                    channels.Remove(name);
                }
            }

            states = [.. channels.Values];
        }

        if (states.Length == 0)
        {
            return;
        }

        var wanted = new Dictionary<int, FrameRequest>();
        var byCurrency = new List<ChannelState>();
        foreach (var state in states)
        {
            if (state.Kind == ChannelKind.TradesByCurrency)
            {
                byCurrency.Add(state);
                continue;
            }

            wanted.TryGetValue(state.InstrumentId, out var request);
            request = state.Kind switch
            {
                ChannelKind.Book => request with { BookLevels = MaxBookLevels },
                ChannelKind.Depth => request with { BookLevels = Math.Max(request.BookLevels, state.Depth) },
                ChannelKind.Ticker => request with { Ticker = true },
                _ => request with { TradesAfter = state.LastTradeSeq < 0 ? request.TradesAfter : Math.Min(request.TradesAfter ?? long.MaxValue, state.LastTradeSeq) },
            };
            wanted[state.InstrumentId] = request;
        }

        var (frames, currencyTrades) = await sequencer.QueryAsync(engine => (Capture(engine, wanted), CaptureByCurrency(engine, byCurrency)), cancellationToken).ConfigureAwait(false);
        foreach (var state in states)
        {
            if (frames.TryGetValue(state.InstrumentId, out var frame))
            {
                Publish(state, frame);
            }
        }

        for (int i = 0; i < byCurrency.Count; i++)
        {
            PublishTradesByCurrency(byCurrency[i], currencyTrades[i]);
        }
    }

    /// <summary>
    /// On the engine thread: for each currency-wide trades channel, the new trades of every instrument
    /// it covers, oldest first per instrument. A new channel starts from each instrument's last trade;
    /// an instrument listed later starts from its first. Advances the channel's marks (the loop that
    /// owns them is waiting for this query).
    /// </summary>
    private List<TradeResult>?[] CaptureByCurrency(Core.Engine.Engine engine, List<ChannelState> states)
    {
        var result = new List<TradeResult>?[states.Count];
        for (int i = 0; i < states.Count; i++)
        {
            var state = states[i];
            bool fresh = state.LastSeqs is null;
            state.LastSeqs ??= [];
            List<TradeResult>? trades = null;
            foreach (var instrument in engine.Instruments)
            {
                if ((state.Currency is not null && instrument.Underlying.Name != state.Currency)
                    || (state.TradeKind is not null && MarketDataViews.KindWord(instrument.Kind) != state.TradeKind))
                {
                    continue;
                }

                long last = tape.LastTradeSeq(instrument.Id);
                long seen = fresh ? last : state.LastSeqs.GetValueOrDefault(instrument.Id);
                if (last > seen)
                {
                    trades ??= [];
                    foreach (var trade in tape.After(instrument.Id, seen))
                    {
                        trades.Add(TradeResult.From(trade, instrument.Name));
                    }
                }

                state.LastSeqs[instrument.Id] = last;
            }

            result[i] = trades;
        }

        return result;
    }

    private void PublishTradesByCurrency(ChannelState state, List<TradeResult>? trades)
    {
        DeribitConnection[] subscribers;
        lock (gate)
        {
            state.Live.AddRange(state.Pending);
            state.Pending.Clear();
            subscribers = [.. state.Live];
        }

        if (trades is { Count: > 0 })
        {
            Send(state.Channel, trades, subscribers);
        }
    }

    /// <summary>On the engine thread: copy what each instrument's channels need.</summary>
    private Dictionary<int, Frame> Capture(Core.Engine.Engine engine, Dictionary<int, FrameRequest> wanted)
    {
        var frames = new Dictionary<int, Frame>(wanted.Count);
        foreach (var (instrumentId, request) in wanted)
        {
            if (!engine.TryGetInstrument(instrumentId, out var instrument))
            {
                continue;
            }

            BookLevel[]? bids = null, asks = null;
            if (request.BookLevels > 0)
            {
                var buffer = levelBuffer.AsSpan(0, request.BookLevels);
                bids = buffer[..instrument.Book.CopyLevels(Side.Buy, buffer)].ToArray();
                asks = buffer[..instrument.Book.CopyLevels(Side.Sell, buffer)].ToArray();
            }

            frames[instrumentId] = new Frame(
                instrument.Name,
                engine.LastTimestampMicros / 1000,
                tape.ChangeId(instrumentId),
                bids,
                asks,
                request.Ticker ? MarketDataViews.Ticker(engine, instrument, tape) : null,
                tape.LastTradeSeq(instrumentId),
                request.TradesAfter is { } after ? tape.After(instrumentId, after) : null);
        }

        return frames;
    }

    private void Publish(ChannelState state, Frame frame)
    {
        DeribitConnection[] live, pending;
        lock (gate)
        {
            live = [.. state.Live];
            pending = [.. state.Pending];
            state.Live.AddRange(state.Pending);
            state.Pending.Clear();
        }

        switch (state.Kind)
        {
            case ChannelKind.Book:
                PublishBook(state, frame, live, pending);
                break;
            case ChannelKind.Depth:
                PublishDepth(state, frame, live, pending);
                break;
            case ChannelKind.Ticker:
                PublishTicker(state, frame, live, pending);
                break;
            case ChannelKind.Trades:
                PublishTrades(state, frame, live, pending);
                break;
        }
    }

    private void PublishBook(ChannelState state, Frame frame, DeribitConnection[] live, DeribitConnection[] pending)
    {
        var bids = ToMap(frame.Bids!);
        var asks = ToMap(frame.Asks!);
        if (state.Bids is null)
        {
            state.Bids = bids;
            state.Asks = asks;
            state.ChangeId = frame.ChangeId;
        }
        else
        {
            var bidChanges = Diff(state.Bids, bids, descending: true);
            var askChanges = Diff(state.Asks!, asks, descending: false);
            if (bidChanges.Length + askChanges.Length > 0)
            {
                long changeId = Math.Max(frame.ChangeId, state.ChangeId + 1);
                var change = new BookChange("change", frame.Timestamp, frame.InstrumentName, state.ChangeId, changeId, bidChanges, askChanges);
                state.Bids = bids;
                state.Asks = asks;
                state.ChangeId = changeId;
                Send(state.Channel, change, live);
            }
        }

        if (pending.Length > 0)
        {
            var snapshot = new BookChange("snapshot", frame.Timestamp, frame.InstrumentName, null, state.ChangeId, Entries(state.Bids, descending: true), Entries(state.Asks!, descending: false));
            Send(state.Channel, snapshot, pending);
        }
    }

    private static void PublishDepth(ChannelState state, Frame frame, DeribitConnection[] live, DeribitConnection[] pending)
    {
        var bids = Rows(frame.Bids!, state.Depth);
        var asks = Rows(frame.Asks!, state.Depth);
        var data = new BookDepth(frame.Timestamp, frame.InstrumentName, frame.ChangeId, bids, asks);
        bool changed = state.LastDepth is null || !SameRows(state.LastDepth.Bids, bids) || !SameRows(state.LastDepth.Asks, asks);
        state.LastDepth = data;
        Send(state.Channel, data, changed ? [.. live, .. pending] : pending);
    }

    private static void PublishTicker(ChannelState state, Frame frame, DeribitConnection[] live, DeribitConnection[] pending)
    {
        var ticker = frame.Ticker!;
        var comparable = ticker with { Timestamp = 0 };
        bool changed = state.LastTicker is null || state.LastTicker != comparable;
        state.LastTicker = comparable;
        Send(state.Channel, ticker, changed ? [.. live, .. pending] : pending);
    }

    private static void PublishTrades(ChannelState state, Frame frame, DeribitConnection[] live, DeribitConnection[] pending)
    {
        if (state.LastTradeSeq < 0)
        {
            state.LastTradeSeq = frame.LastTradeSeq;
            return;
        }

        var trades = new List<TradeResult>();
        foreach (var trade in frame.Trades ?? [])
        {
            if (trade.TradeSeq > state.LastTradeSeq)
            {
                trades.Add(TradeResult.From(trade, frame.InstrumentName));
            }
        }

        state.LastTradeSeq = frame.LastTradeSeq;
        if (trades.Count > 0)
        {
            Send(state.Channel, trades, [.. live, .. pending]);
        }
    }

    /// <summary>Serializes the notification once and queues the same bytes to every subscriber.</summary>
    private static void Send(string channel, object data, DeribitConnection[] subscribers)
    {
        if (subscribers.Length == 0)
        {
            return;
        }

        var output = new ArrayBufferWriter<byte>(512);
        RpcResponse.WriteNotification(output, channel, data);
        byte[] message = output.WrittenSpan.ToArray();
        foreach (var connection in subscribers)
        {
            if (!connection.IsClosed)
            {
                connection.TrySend(message);
            }
        }
    }

    private static SortedDictionary<long, BookLevel> ToMap(BookLevel[] levels)
    {
        var map = new SortedDictionary<long, BookLevel>();
        foreach (var level in levels)
        {
            map[level.Price.Micros] = level;
        }

        return map;
    }

    /// <summary>The entries that turn <paramref name="before"/> into <paramref name="after"/>, best price first.</summary>
    private static object[][] Diff(SortedDictionary<long, BookLevel> before, SortedDictionary<long, BookLevel> after, bool descending)
    {
        var changes = new List<(long Price, object[] Entry)>();
        foreach (var (price, level) in before)
        {
            if (!after.ContainsKey(price))
            {
                changes.Add((price, ["delete", level.Price.ToDecimal(), 0m]));
            }
        }

        foreach (var (price, level) in after)
        {
            if (!before.TryGetValue(price, out var old))
            {
                changes.Add((price, ["new", level.Price.ToDecimal(), level.Quantity.ToDecimal()]));
            }
            else if (old.Quantity != level.Quantity)
            {
                changes.Add((price, ["change", level.Price.ToDecimal(), level.Quantity.ToDecimal()]));
            }
        }

        changes.Sort((a, b) => descending ? b.Price.CompareTo(a.Price) : a.Price.CompareTo(b.Price));
        return [.. changes.Select(c => c.Entry)];
    }

    private static object[][] Entries(SortedDictionary<long, BookLevel> levels, bool descending)
    {
        var entries = levels.Values.Select(level => new object[] { "new", level.Price.ToDecimal(), level.Quantity.ToDecimal() });
        return descending ? [.. entries.Reverse()] : [.. entries];
    }

    private static decimal[][] Rows(BookLevel[] levels, int depth)
    {
        var rows = new decimal[Math.Min(depth, levels.Length)][];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = [levels[i].Price.ToDecimal(), levels[i].Quantity.ToDecimal()];
        }

        return rows;
    }

    private static bool SameRows(decimal[][] a, decimal[][] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (a[i][0] != b[i][0] || a[i][1] != b[i][1])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a channel name into a fresh state, or says what is wrong with it.</summary>
    private bool TryParse(string channel, out ChannelState state, out string? problem)
    {
        state = null!;
        problem = null;
        string[] parts = channel.Split('.');
        ChannelKind kind = parts[0] switch
        {
            "book" when parts.Length == 5 => ChannelKind.Depth,
            "book" => ChannelKind.Book,
            "ticker" => ChannelKind.Ticker,
            _ => ChannelKind.Trades,
        };
        if (parts.Length != 3 && !(kind == ChannelKind.Depth && parts.Length == 5) && !(kind == ChannelKind.Trades && parts.Length == 4))
        {
            problem = $"'{channel}' is not a channel: use {parts[0]}.{{instrument}}.100ms" + kind switch
            {
                ChannelKind.Book => " or book.{instrument}.none.{1|10|20}.100ms.",
                ChannelKind.Trades => " or trades.{future|option|any}.{currency|any}.100ms.",
                _ => ".",
            };
            return false;
        }

        string interval = parts[^1];
        if (interval is not ("100ms" or "agg2" or "raw") || (kind == ChannelKind.Depth && interval == "raw"))
        {
            problem = $"'{channel}': the interval must be 100ms, agg2 or raw{(kind == ChannelKind.Depth ? " (100ms or agg2 for a grouped book)" : string.Empty)}.";
            return false;
        }

        if (kind == ChannelKind.Trades && parts.Length == 4)
        {
            return TryParseTradesByCurrency(channel, parts, out state, out problem);
        }

        int depth = 0;
        if (kind == ChannelKind.Depth)
        {
            if (parts[2] != "none")
            {
                problem = $"'{channel}': price grouping is not supported; use book.{parts[1]}.none.{{1|10|20}}.100ms.";
                return false;
            }

            depth = parts[3] switch { "1" => 1, "10" => 10, "20" => 20, _ => 0 };
            if (depth == 0)
            {
                problem = $"'{channel}': the depth must be 1, 10 or 20.";
                return false;
            }
        }

        if (!sequencer.Instruments.TryGetId(parts[1], out int instrumentId))
        {
            problem = $"'{channel}': there is no instrument named '{parts[1]}'.";
            return false;
        }

        state = new ChannelState(channel, kind, instrumentId, depth);
        return true;
    }

    private bool TryParseTradesByCurrency(string channel, string[] parts, out ChannelState state, out string? problem)
    {
        state = null!;
        problem = null;
        string? kind = parts[1] switch { "future" => "future", "option" => "option", "any" => null, _ => "?" };
        if (kind == "?")
        {
            problem = $"'{channel}': the kind must be future, option or any.";
            return false;
        }

        string? currency = parts[2] is "any" or Core.Instruments.InstrumentTerms.SettlementCurrency ? null : parts[2];
        if (currency is not null && !sequencer.Instruments.Names.Any(name => name.StartsWith(currency + "_", StringComparison.Ordinal)))
        {
            problem = $"'{channel}': there is no currency '{parts[2]}'.";
            return false;
        }

        state = new ChannelState(channel, ChannelKind.TradesByCurrency, 0, 0) { TradeKind = kind, Currency = currency };
        return true;
    }

    private readonly record struct FrameRequest(int BookLevels, bool Ticker, long? TradesAfter);

    private sealed record Frame(string InstrumentName, long Timestamp, long ChangeId, BookLevel[]? Bids, BookLevel[]? Asks, TickerResult? Ticker, long LastTradeSeq, List<PublicTrade>? Trades);

    /// <summary>The data of <c>book.{instrument}.{interval}</c> (Deribit: snapshot, then changes).</summary>
    private sealed record BookChange(string Type, long Timestamp, string InstrumentName, long? PrevChangeId, long ChangeId, object[][] Bids, object[][] Asks);

    /// <summary>The data of <c>book.{instrument}.none.{depth}.{interval}</c>.</summary>
    private sealed record BookDepth(long Timestamp, string InstrumentName, long ChangeId, decimal[][] Bids, decimal[][] Asks);

    /// <summary>One channel with subscribers: who is live, who still waits for its first message, and what was published last.</summary>
    private sealed class ChannelState(string channel, ChannelKind kind, int instrumentId, int depth)
    {
        public string Channel { get; } = channel;

        public ChannelKind Kind { get; } = kind;

        public int InstrumentId { get; } = instrumentId;

        public int Depth { get; } = depth;

        /// <summary>Subscribers that have had their first message (guarded by the feed's lock).</summary>
        public List<DeribitConnection> Live { get; } = [];

        /// <summary>New subscribers: they get a snapshot (book) or the current value (ticker, depth) next cycle.</summary>
        public List<DeribitConnection> Pending { get; } = [];

        // Only the publishing loop touches what follows.
        public SortedDictionary<long, BookLevel>? Bids { get; set; }

        public SortedDictionary<long, BookLevel>? Asks { get; set; }

        public long ChangeId { get; set; }

        public TickerResult? LastTicker { get; set; }

        public BookDepth? LastDepth { get; set; }

        public long LastTradeSeq { get; set; } = -1;

        /// <summary>Currency-wide trades: the kind (null: any) and underlying (null: any) it covers.</summary>
        public string? TradeKind { get; init; }

        public string? Currency { get; init; }

        /// <summary>Currency-wide trades: the last trade_seq sent per instrument; null until the first cycle.</summary>
        public Dictionary<int, long>? LastSeqs { get; set; }
    }
}
