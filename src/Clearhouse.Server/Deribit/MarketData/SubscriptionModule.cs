using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Transport;

namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>
/// Subscriptions and heartbeats, WebSocket only (docs/api.md):
/// <c>public/subscribe</c>, <c>private/subscribe</c>, their <c>unsubscribe</c> and
/// <c>unsubscribe_all</c>, <c>public/set_heartbeat</c> and <c>public/disable_heartbeat</c>.
/// <para>
/// Every channel of a call is first offered to the <see cref="IChannelProvider"/>s; the first that
/// says it is its own decides. A channel nobody claims, or one its provider refuses, refuses the
/// whole call (-32602 naming the channel, or the provider's error) and nothing is subscribed —
/// so a typo is seen at once rather than as silence. <c>public/subscribe</c> asks on behalf of no
/// one (public channels only); <c>private/subscribe</c> needs the read scope and asks for the caller.
/// </para>
/// </summary>
public sealed class SubscriptionModule(IEnumerable<IChannelProvider> providers, HeartbeatMonitor heartbeats) : IRpcModule
{
    /// <summary>Channels one connection may hold.</summary>
    public const int MaxSubscriptionsPerConnection = 1_000;

    private readonly IChannelProvider[] providers = [.. providers];

    public IEnumerable<RpcMethod> Methods() =>
    [
        WebSocket("public/subscribe", ApiScopes.None, (context, parameters) => Subscribe(context, parameters, principal: null)),
        WebSocket("private/subscribe", ApiScopes.Read, (context, parameters) => Subscribe(context, parameters, context.Caller)),
        WebSocket("public/unsubscribe", ApiScopes.None, Unsubscribe),
        WebSocket("private/unsubscribe", ApiScopes.Read, Unsubscribe),
        WebSocket("public/unsubscribe_all", ApiScopes.None, UnsubscribeAll),
        WebSocket("private/unsubscribe_all", ApiScopes.Read, UnsubscribeAll),
        WebSocket("public/set_heartbeat", ApiScopes.None, SetHeartbeat),
        WebSocket("public/disable_heartbeat", ApiScopes.None, DisableHeartbeat),
    ];

    private static RpcMethod WebSocket(string name, ApiScopes scope, RpcHandler handler) =>
        new(name, scope, RateClass.MarketData, handler) { WebSocketOnly = true };

    private ValueTask<object?> Subscribe(RpcContext context, RpcParams parameters, ApiPrincipal? principal)
    {
        var connection = Connection(context);
        var channels = parameters.StringArray("channels", MaxSubscriptionsPerConnection);
        var distinct = new List<string>(channels.Count);
        var owners = new Dictionary<string, IChannelProvider>(StringComparer.Ordinal);
        foreach (string channel in channels)
        {
            if (!owners.ContainsKey(channel))
            {
                owners[channel] = Owner(channel, principal);
                distinct.Add(channel);
            }
        }

        int added = distinct.Count(c => !connection.IsSubscribed(c));
        if (connection.Subscriptions.Count + added > MaxSubscriptionsPerConnection)
        {
            throw RpcError.InvalidParams("channels", $"A connection may hold at most {MaxSubscriptionsPerConnection} subscriptions; this one holds {connection.Subscriptions.Count}.").ToException();
        }

        // A private subscription made with an access_token parameter on a connection that never
        // called public/auth binds the connection to that caller: notifications are for the
        // connection, so they need to know whose they are (Deribit's auth is per connection too).
        if (principal is not null && connection.Principal is null)
        {
            connection.Principal = principal;
        }

        connection.Subscribe(distinct);
        foreach (string channel in distinct)
        {
            owners[channel].Subscribed(connection, channel);
        }

        return ValueTask.FromResult<object?>(distinct);
    }

    private IChannelProvider Owner(string channel, ApiPrincipal? principal)
    {
        foreach (var provider in providers)
        {
            var match = provider.Match(channel, principal);
            if (!match.IsMine)
            {
                continue;
            }

            return match.Error is { } error ? throw error.ToException() : provider;
        }

        throw RpcError.InvalidParams("channels", $"There is no channel '{channel}'.").ToException();
    }

    private static ValueTask<object?> Unsubscribe(RpcContext context, RpcParams parameters)
    {
        var connection = Connection(context);
        var channels = parameters.StringArray("channels", MaxSubscriptionsPerConnection);
        return ValueTask.FromResult<object?>(connection.Unsubscribe(channels));
    }

    private static ValueTask<object?> UnsubscribeAll(RpcContext context, RpcParams parameters)
    {
        var connection = Connection(context);
        connection.Unsubscribe(connection.Subscriptions);
        return ValueTask.FromResult<object?>("ok");
    }

    private ValueTask<object?> SetHeartbeat(RpcContext context, RpcParams parameters)
    {
        var connection = Connection(context);
        long seconds = parameters.Integer("interval", heartbeats.MinimumIntervalSeconds, HeartbeatMonitor.MaximumIntervalSeconds, required: true)!.Value;
        heartbeats.Start(connection, TimeSpan.FromSeconds(seconds));
        return ValueTask.FromResult<object?>("ok");
    }

    private ValueTask<object?> DisableHeartbeat(RpcContext context, RpcParams parameters)
    {
        heartbeats.Stop(Connection(context));
        return ValueTask.FromResult<object?>("ok");
    }

    private static DeribitConnection Connection(RpcContext context) =>
        context.Connection ?? throw RpcError.MustBeWebSocket("subscribe").ToException();
}
