using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Transport;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>What a channel provider says about a channel name a client wants to subscribe to.</summary>
public readonly record struct ChannelMatch(bool IsMine, RpcError? Error)
{
    public static readonly ChannelMatch NotMine = new(false, null);
    public static readonly ChannelMatch Accepted = new(true, null);

    public static ChannelMatch Refused(RpcError error) => new(true, error);
}

/// <summary>
/// A family of subscription channels (<c>book.*</c>, <c>ticker.*</c>, <c>trades.*</c>, <c>user.*</c>).
/// <c>public/subscribe</c> and <c>private/subscribe</c> ask every provider (registered in DI as
/// <see cref="IChannelProvider"/>) whether a channel name is theirs and allowed for the caller;
/// a channel no provider claims is refused. Providers then push notifications to the connections
/// subscribed to their channels with <see cref="DeribitConnection.Notify"/>.
/// </summary>
public interface IChannelProvider
{
    /// <summary>Whether <paramref name="channel"/> is this provider's, and whether <paramref name="principal"/> (null: not authenticated) may have it.</summary>
    ChannelMatch Match(string channel, ApiPrincipal? principal);

    /// <summary>Called after <paramref name="connection"/> subscribed (e.g. to send a first snapshot).</summary>
    void Subscribed(DeribitConnection connection, string channel);
}
