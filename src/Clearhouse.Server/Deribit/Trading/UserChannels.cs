using System.Threading.Channels;
using Clearhouse.Core.Engine;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>
/// The private subscription channels of one account (docs/api.md):
/// <list type="bullet">
/// <item><c>user.orders.{instrument}.raw</c>, <c>user.orders.{kind}.{currency}.raw</c> (e.g.
/// <c>user.orders.any.any.raw</c>): one notification per changed order, its data the order object;
/// the <c>.100ms</c> forms carry an array of the orders a command changed.</item>
/// <item><c>user.trades.{instrument}.{raw|100ms}</c>, <c>user.trades.{kind}.{currency}.{raw|100ms}</c>:
/// an array of the account's fills in one command.</item>
/// <item><c>user.portfolio.{currency}</c> (any case): the account summary, as
/// <c>private/get_account_summary</c> gives it, after anything changes the account (a fill, a
/// deposit, funding...), at most every 100 ms per account, and every second while subscribed
/// (marks move without any event of the account). USDC is the account; any other currency
/// (ccxt's watchBalance asks for BTC, ETH, SOL and USDC at once) has an all-zero portfolio, sent
/// once on subscribing.</item>
/// </list>
/// Only an authenticated caller with the read scope may subscribe, and a notification goes only to
/// connections authenticated as the account it is about. The engine thread does no more than note,
/// per command, which orders and fills of watched accounts changed (<see cref="IUserActivitySink"/>)
/// and queue that; this service's own loop turns it into Deribit objects, serializes and sends, so a
/// slow client (cut off by its connection's bounded queue) never holds up the engine.
/// </summary>
public sealed class UserChannels(Sequencer sequencer, ILogger<UserChannels> logger) : BackgroundService, IChannelProvider, IUserActivitySink
{
    /// <summary>Changes waiting for the sender loop; beyond it they are dropped (and counted), never waited for.</summary>
    public const int QueueCapacity = 65_536;

    public static readonly TimeSpan PortfolioInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Every this many portfolio intervals, every subscribed portfolio is sent again, changed or not.</summary>
    public const int PortfolioRefreshIntervals = 10;

    private readonly Channel<UserActivity> queue = Channel.CreateBounded<UserActivity>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; the engine thread never waits
    });

    private readonly Lock gate = new();
    private readonly Dictionary<int, UserSubscription[]> byAccount = [];
    private readonly HashSet<long> connectionsWatched = [];
    private int[] watchCounts = new int[64];

    private readonly Lock dirtyGate = new();
    private HashSet<int> dirtyPortfolios = [];
    private List<UserSubscription> newPortfolios = [];

    // Engine thread only: what the current command touched.
    private readonly List<(int AccountId, long OrderId)> touchedOrders = [];
    private readonly List<(int AccountId, long TradeId)> touchedTrades = [];
    private long dropped;

    private InstrumentDirectory Instruments => sequencer.Instruments;

    // ---------------------------------------------------------------- IChannelProvider

    public ChannelMatch Match(string channel, ApiPrincipal? principal)
    {
        if (!channel.StartsWith("user.orders.", StringComparison.Ordinal)
            && !channel.StartsWith("user.trades.", StringComparison.Ordinal)
            && !channel.StartsWith("user.portfolio.", StringComparison.Ordinal))
        {
            return ChannelMatch.NotMine;
        }

        if (principal is null)
        {
            // public/subscribe (which passes no caller, authenticated or not) or an anonymous call.
            return ChannelMatch.Refused(RpcError.Unauthorized($"'{channel}' is a private channel: subscribe to it with private/subscribe, on a connection authenticated with public/auth (or with an access_token)."));
        }

        if (!principal.Allows(ApiScopes.Read))
        {
            return ChannelMatch.Refused(RpcError.Forbidden($"The API key '{principal.ClientId}' does not have the read scope that '{channel}' needs."));
        }

        return TryParse(channel, out _, out string? problem)
            ? ChannelMatch.Accepted
            : ChannelMatch.Refused(RpcError.InvalidParams("channels", problem!));
    }

    public void Subscribed(DeribitConnection connection, string channel)
    {
        if (connection.Principal is not { } principal || !TryParse(channel, out var filter, out _))
        {
            return;
        }

        var subscription = new UserSubscription(connection, channel, filter);
        bool watchClose;
        lock (gate)
        {
            var current = byAccount.GetValueOrDefault(principal.AccountId, []);
            foreach (var existing in current)
            {
                if (existing.Connection == connection && existing.Channel == channel)
                {
                    return;
                }
            }

            byAccount[principal.AccountId] = [.. current, subscription];
            AddWatch(principal.AccountId, +1);
            watchClose = connectionsWatched.Add(connection.Id);
        }

        if (watchClose)
        {
            connection.OnClosed(Forget);
        }

        if (filter.Kind == UserChannelKind.Portfolio)
        {
            // The first portfolio goes out with the next portfolio round (within 100 ms), so that
            // the client has the answer to its subscribe before the first notification.
            lock (dirtyGate)
            {
                newPortfolios.Add(subscription);
            }
        }
    }

    // ---------------------------------------------------------------- IUserActivitySink (engine thread)

    public bool Watches(int accountId)
    {
        var counts = Volatile.Read(ref watchCounts);
        return (uint)accountId < (uint)counts.Length && Volatile.Read(ref counts[accountId]) > 0;
    }

    public void Touched(in EngineEvent e)
    {
        switch (e.Kind)
        {
            case EventKind.OrderAccepted or EventKind.OrderCancelled or EventKind.OrderAmended:
                NoteOrder(e.AccountId, e.OrderId);
                break;
            case EventKind.TradeExecuted:
                NoteOrder(e.AccountId, e.OrderId);
                touchedTrades.Add((e.AccountId, e.TradeId));
                break;
        }

        MarkPortfolio(e.AccountId);
    }

    public void TouchedAsMaker(in EngineEvent e)
    {
        NoteOrder(e.MakerAccountId, e.MakerOrderId);
        touchedTrades.Add((e.MakerAccountId, e.TradeId));
        MarkPortfolio(e.MakerAccountId);
    }

    public void CommandDone(OrderTracker orders)
    {
        if (touchedOrders.Count == 0 && touchedTrades.Count == 0)
        {
            return;
        }

        // One activity per account: the final state of each order it touched, and its fills.
        while (touchedOrders.Count > 0 || touchedTrades.Count > 0)
        {
            int accountId = touchedOrders.Count > 0 ? touchedOrders[0].AccountId : touchedTrades[0].AccountId;
            List<OrderRecord>? changed = null;
            for (int i = 0; i < touchedOrders.Count; i++)
            {
                if (touchedOrders[i].AccountId == accountId)
                {
                    if (orders.TryGetOrder(accountId, touchedOrders[i].OrderId, out var order))
                    {
                        (changed ??= []).Add(order);
                    }

                    touchedOrders.RemoveAt(i--);
                }
            }

            List<TradeRecord>? fills = null;
            for (int i = 0; i < touchedTrades.Count; i++)
            {
                if (touchedTrades[i].AccountId == accountId)
                {
                    if (orders.TryGetRecentTrade(accountId, touchedTrades[i].TradeId, out var trade))
                    {
                        (fills ??= []).Add(trade);
                    }

                    touchedTrades.RemoveAt(i--);
                }
            }

            if (!queue.Writer.TryWrite(new UserActivity(accountId, changed?.ToArray() ?? [], fills?.ToArray() ?? [])))
            {
                Interlocked.Increment(ref dropped);
            }
        }
    }

    private void NoteOrder(int accountId, long orderId)
    {
        foreach (var (account, order) in touchedOrders)
        {
            if (account == accountId && order == orderId)
            {
                return;
            }
        }

        touchedOrders.Add((accountId, orderId));
    }

    private void MarkPortfolio(int accountId)
    {
        lock (dirtyGate)
        {
            dirtyPortfolios.Add(accountId);
        }
    }

    // ---------------------------------------------------------------- the sender loop

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var portfolios = PortfolioLoopAsync(stoppingToken);
        var reader = queue.Reader;
        long reportedDrops = 0;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var activity))
                {
                    Deliver(activity);
                }

                long drops = Interlocked.Read(ref dropped);
                if (drops != reportedDrops)
                {
                    logger.LogWarning("User channel updates dropped so far: {Dropped} (the sender fell {Capacity} updates behind the engine).", drops, QueueCapacity);
                    reportedDrops = drops;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }

        await portfolios.ConfigureAwait(false);
    }

    private void Deliver(UserActivity activity)
    {
        UserSubscription[] subscriptions;
        lock (gate)
        {
            if (!byAccount.TryGetValue(activity.AccountId, out subscriptions!))
            {
                return;
            }
        }

        DeribitOrder[]? orders = null;
        DeribitUserTrade[]? trades = null;
        foreach (var subscription in subscriptions)
        {
            if (!IsLive(subscription, activity.AccountId))
            {
                continue;
            }

            var filter = subscription.Filter;
            try
            {
                switch (filter.Kind)
                {
                    case UserChannelKind.Orders when activity.Orders.Length > 0:
                        orders ??= Convert(activity.Orders);
                        SendOrders(subscription, activity.Orders, orders);
                        break;
                    case UserChannelKind.Trades when activity.Trades.Length > 0:
                        trades ??= Convert(activity.Trades);
                        SendTrades(subscription, activity.Trades, trades);
                        break;
                }
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not send {Channel} to connection {Connection}.", subscription.Channel, subscription.Connection.Id);
            }
        }
    }

    private void SendOrders(UserSubscription subscription, OrderRecord[] records, DeribitOrder[] orders)
    {
        List<DeribitOrder>? batch = null;
        for (int i = 0; i < records.Length; i++)
        {
            if (!subscription.Filter.Matches(records[i].InstrumentId, Instruments))
            {
                continue;
            }

            if (subscription.Filter.Raw)
            {
                subscription.Connection.Notify(subscription.Channel, orders[i]);
            }
            else
            {
                (batch ??= []).Add(orders[i]);
            }
        }

        if (batch is not null)
        {
            subscription.Connection.Notify(subscription.Channel, batch.ToArray());
        }
    }

    private void SendTrades(UserSubscription subscription, TradeRecord[] records, DeribitUserTrade[] trades)
    {
        List<DeribitUserTrade>? batch = null;
        for (int i = 0; i < records.Length; i++)
        {
            if (subscription.Filter.Matches(records[i].InstrumentId, Instruments))
            {
                (batch ??= []).Add(trades[i]);
            }
        }

        if (batch is not null)
        {
            subscription.Connection.Notify(subscription.Channel, batch.ToArray());
        }
    }

    private async Task PortfolioLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PortfolioInterval);
        long rounds = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await PortfolioRoundAsync(++rounds % PortfolioRefreshIntervals == 0).ConfigureAwait(false);
                }
                catch (SequencerStoppedException)
                {
                    return; // the engine stopped first: shutting down
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "A round of user.portfolio notifications failed.");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>
    /// Sends the portfolios due: those of accounts something changed since the last round (and
    /// every one when <paramref name="refreshAll"/>), and the first of each new subscription.
    /// </summary>
    private async Task PortfolioRoundAsync(bool refreshAll)
    {
        HashSet<int> dirty;
        List<UserSubscription> fresh;
        lock (dirtyGate)
        {
            dirty = dirtyPortfolios;
            dirtyPortfolios = [];
            fresh = newPortfolios;
            newPortfolios = [];
        }

        foreach (var subscription in fresh)
        {
            // A USDC portfolio is the account's: it goes with the account's summary below. Other currencies hold nothing.
            if (subscription.Filter.Currency == InstrumentNameParts.SettlementCurrency)
            {
                dirty.Add(subscription.Connection.Principal?.AccountId ?? 0);
            }
            else if (!subscription.Connection.IsClosed)
            {
                subscription.Connection.Notify(subscription.Channel, DeribitAccountSummary.Zero(subscription.Filter.Currency!));
            }
        }

        var accounts = new List<int>();
        lock (gate)
        {
            foreach (var (accountId, subscriptions) in byAccount)
            {
                if ((refreshAll || dirty.Contains(accountId)) && Array.Exists(subscriptions, s => s.Filter.Kind == UserChannelKind.Portfolio))
                {
                    accounts.Add(accountId);
                }
            }
        }

        if (accounts.Count > 0)
        {
            await SendPortfoliosAsync(accounts).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the summaries of <paramref name="accounts"/> in one engine query and sends each to its USDC portfolio subscribers.</summary>
    private async Task SendPortfoliosAsync(List<int> accounts)
    {
        var summaries = await sequencer.QueryAsync(engine =>
        {
            var result = new DeribitAccountSummary?[accounts.Count];
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = AccountModule.Summary(engine, accounts[i]);
            }

            return result;
        }).ConfigureAwait(false);

        for (int i = 0; i < accounts.Count; i++)
        {
            if (summaries[i] is not { } summary)
            {
                continue;
            }

            UserSubscription[] subscriptions;
            lock (gate)
            {
                subscriptions = byAccount.GetValueOrDefault(accounts[i], []);
            }

            foreach (var subscription in subscriptions)
            {
                if (subscription.Filter.Kind == UserChannelKind.Portfolio && subscription.Filter.Currency == InstrumentNameParts.SettlementCurrency && IsLive(subscription, accounts[i]))
                {
                    subscription.Connection.Notify(subscription.Channel, summary);
                }
            }
        }
    }

    /// <summary>Still open, still authenticated as the account, still subscribed (an unsubscribed one is forgotten here).</summary>
    private bool IsLive(UserSubscription subscription, int accountId)
    {
        var connection = subscription.Connection;
        if (connection.IsClosed || connection.Principal?.AccountId != accountId)
        {
            return false;
        }

        if (connection.IsSubscribed(subscription.Channel))
        {
            return true;
        }

        Remove(accountId, s => s == subscription);
        return false;
    }

    private void Forget(DeribitConnection connection)
    {
        lock (gate)
        {
            connectionsWatched.Remove(connection.Id);
            foreach (int accountId in byAccount.Keys.ToArray())
            {
                RemoveLocked(accountId, s => s.Connection == connection);
            }
        }
    }

    private void Remove(int accountId, Predicate<UserSubscription> which)
    {
        lock (gate)
        {
            RemoveLocked(accountId, which);
        }
    }

    private void RemoveLocked(int accountId, Predicate<UserSubscription> which)
    {
        if (!byAccount.TryGetValue(accountId, out var current))
        {
            return;
        }

        var kept = Array.FindAll(current, s => !which(s));
        if (kept.Length == current.Length)
        {
            return;
        }

        AddWatch(accountId, kept.Length - current.Length);
        if (kept.Length == 0)
        {
            byAccount.Remove(accountId);
        }
        else
        {
            byAccount[accountId] = kept;
        }
    }

    /// <summary>Under <see cref="gate"/>: the engine thread reads the counts without it.</summary>
    private void AddWatch(int accountId, int delta)
    {
        var counts = watchCounts;
        if ((uint)accountId >= (uint)counts.Length)
        {
            var grown = new int[Math.Max(counts.Length * 2, accountId + 1)];
            counts.CopyTo(grown, 0);
            Volatile.Write(ref watchCounts, grown);
            counts = grown;
        }

        Volatile.Write(ref counts[accountId], counts[accountId] + delta);
    }

    private DeribitOrder[] Convert(OrderRecord[] records)
    {
        var result = new DeribitOrder[records.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DeribitWords.Order(records[i], Instruments);
        }

        return result;
    }

    private DeribitUserTrade[] Convert(TradeRecord[] records)
    {
        var result = new DeribitUserTrade[records.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = DeribitWords.Trade(records[i], Instruments);
        }

        return result;
    }

    // ---------------------------------------------------------------- channel names

    /// <summary>Parses one of this provider's channel names; <paramref name="problem"/> says what is wrong with a malformed one.</summary>
    private bool TryParse(string channel, out UserChannelFilter filter, out string? problem)
    {
        filter = default;
        problem = null;
        string[] parts = channel.Split('.');
        switch (parts[1])
        {
            case "portfolio" when parts.Length == 3:
                if (!IsCurrencyCode(parts[2]))
                {
                    problem = $"'{channel}': expected user.portfolio.{{currency}}, e.g. user.portfolio.usdc.";
                    return false;
                }

                filter = new UserChannelFilter(UserChannelKind.Portfolio, 0, null, parts[2].ToUpperInvariant(), Raw: true);
                return true;

            case "orders" or "trades":
                var kind = parts[1] == "orders" ? UserChannelKind.Orders : UserChannelKind.Trades;
                string interval = parts[^1];
                if (interval is not ("raw" or "100ms"))
                {
                    problem = $"'{channel}': the interval must be raw or 100ms.";
                    return false;
                }

                if (parts.Length == 4)
                {
                    if (!Instruments.TryGetId(parts[2], out int instrumentId))
                    {
                        problem = $"'{channel}': there is no instrument named '{parts[2]}'.";
                        return false;
                    }

                    filter = new UserChannelFilter(kind, instrumentId, null, null, interval == "raw");
                    return true;
                }

                if (parts.Length == 5 && parts[2] is "any" or "future" or "option" or "spot" or "future_combo" or "option_combo" or "combo"
                    && (parts[3] == "any" || IsCurrencyCode(parts[3])))
                {
                    filter = new UserChannelFilter(kind, 0, parts[2], parts[3] == "any" ? "any" : parts[3].ToUpperInvariant(), interval == "raw");
                    return true;
                }

                problem = $"'{channel}': expected user.{parts[1]}.{{instrument}}.{{raw|100ms}} or user.{parts[1]}.{{kind}}.{{currency}}.{{raw|100ms}}.";
                return false;
            default:
                problem = $"'{channel}': expected user.portfolio.{{currency}}.";
                return false;
        }
    }

    /// <summary>
    /// A currency code as Deribit writes them (letters and digits, at most 16). Any is accepted in
    /// a channel name, listed here or not: ccxt's watchBalance subscribes to the portfolios of
    /// BTC, ETH, SOL and USDC in one call, and one refused channel would refuse them all. A
    /// currency the venue holds nothing in simply has a zero portfolio and no orders.
    /// </summary>
    private static bool IsCurrencyCode(string text)
    {
        if (text.Length is 0 or > 16)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private sealed record UserActivity(int AccountId, OrderRecord[] Orders, TradeRecord[] Trades);

    private sealed record UserSubscription(DeribitConnection Connection, string Channel, UserChannelFilter Filter);
}

public enum UserChannelKind
{
    Orders,
    Trades,
    Portfolio,
}

/// <summary>What a user channel name selects: one instrument, or a kind and currency; for portfolios, the currency.</summary>
public readonly record struct UserChannelFilter(UserChannelKind Kind, int InstrumentId, string? InstrumentKind, string? Currency, bool Raw)
{
    public bool Matches(int instrumentId, InstrumentDirectory instruments)
    {
        if (InstrumentId != 0)
        {
            return instrumentId == InstrumentId;
        }

        var parts = InstrumentNameParts.Of(instruments.NameOf(instrumentId));
        return parts.InCurrency(Currency ?? "any") && parts.OfKind(InstrumentKind);
    }
}
