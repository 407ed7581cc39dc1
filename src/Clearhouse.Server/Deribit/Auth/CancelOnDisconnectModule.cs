using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Clearhouse.Core.Engine;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// Cancel on disconnect for WebSocket sessions: <c>private/enable_cancel_on_disconnect</c>,
/// <c>private/disable_cancel_on_disconnect</c>, <c>private/get_cancel_on_disconnect</c>. When it is
/// on and the connection closes for any reason other than <c>private/logout</c> (client gone,
/// network failure, slow consumer cut off, heartbeat missed), a <c>CancelAllOrders</c> for the
/// account is submitted to the sequencer. Only the <c>connection</c> scope is served: the setting
/// lives and dies with the connection.
/// </summary>
public sealed class CancelOnDisconnectModule(WebSocketSessions sessions) : IRpcModule
{
    private static readonly FrozenDictionary<string, bool> Scopes = new Dictionary<string, bool>
    {
        ["connection"] = true,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public IEnumerable<RpcMethod> Methods() =>
    [
        new("private/enable_cancel_on_disconnect", ApiScopes.Trade, RateClass.MarketData, Enable) { WebSocketOnly = true },
        new("private/disable_cancel_on_disconnect", ApiScopes.Trade, RateClass.MarketData, Disable) { WebSocketOnly = true },
        new("private/get_cancel_on_disconnect", ApiScopes.Read, RateClass.MarketData, Get) { WebSocketOnly = true },
    ];

    private ValueTask<object?> Enable(RpcContext context, RpcParams parameters)
    {
        ReadScope(parameters);
        sessions.For(context.Connection!).EnableCancelOnDisconnect(context.Caller.AccountId);
        return ValueTask.FromResult<object?>("ok");
    }

    private ValueTask<object?> Disable(RpcContext context, RpcParams parameters)
    {
        ReadScope(parameters);
        sessions.For(context.Connection!).DisableCancelOnDisconnect();
        return ValueTask.FromResult<object?>("ok");
    }

    private ValueTask<object?> Get(RpcContext context, RpcParams parameters)
    {
        ReadScope(parameters);
        return ValueTask.FromResult<object?>(new CancelOnDisconnectState("connection", sessions.For(context.Connection!).CancelsOnDisconnect));
    }

    private static void ReadScope(RpcParams parameters)
    {
        if (parameters.String("scope", maxLength: 32) is "account")
        {
            throw RpcError.InvalidParams("scope", "Only the 'connection' scope of cancel on disconnect is supported: enable it on each connection.").ToException();
        }

        parameters.Choice("scope", Scopes);
    }

    /// <summary>What <c>private/get_cancel_on_disconnect</c> answers.</summary>
    public sealed record CancelOnDisconnectState(string Scope, bool Enabled);
}

/// <summary>
/// What the auth part keeps per WebSocket connection: the tokens issued on it (so that
/// <c>private/logout</c> can end them) and its cancel-on-disconnect setting. Held in a
/// <see cref="ConditionalWeakTable{TKey,TValue}"/>, so it goes when the connection does.
/// </summary>
public sealed class WebSocketSessions(Sequencer sequencer, ILogger<WebSocketSessions> logger)
{
    private readonly ConditionalWeakTable<DeribitConnection, Session> sessions = [];

    public Session For(DeribitConnection connection) => sessions.GetValue(connection, c => new Session(c, this));

    private void CancelAll(DeribitConnection connection, int accountId)
    {
        logger.LogInformation("Connection {Connection} closed with cancel on disconnect on: cancelling the orders of account {Account}.", connection.Id, accountId);
        _ = CancelAsync(accountId);
    }

    private async Task CancelAsync(int accountId)
    {
        try
        {
            var result = await sequencer.SubmitAsync(new CancelAllOrders(accountId)).ConfigureAwait(false);
            if (!result.IsAccepted)
            {
                logger.LogWarning("Cancel on disconnect for account {Account} was refused: {Reason}.", accountId, result.Reason);
            }
        }
        catch (SequencerStoppedException)
        {
            // Shutting down: the venue keeps the orders, as it keeps everyone's.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Cancel on disconnect for account {Account} failed.", accountId);
        }
    }

    public sealed class Session
    {
        private readonly Lock gate = new();
        private readonly DeribitConnection connection;
        private readonly WebSocketSessions owner;
        private readonly List<IssuedTokens> issued = [];
        private int? cancelAccountId;
        private bool hooked;

        internal Session(DeribitConnection connection, WebSocketSessions owner)
        {
            this.connection = connection;
            this.owner = owner;
        }

        public bool CancelsOnDisconnect
        {
            get
            {
                lock (gate)
                {
                    return cancelAccountId is not null;
                }
            }
        }

        public void EnableCancelOnDisconnect(int accountId)
        {
            bool hook;
            lock (gate)
            {
                cancelAccountId = accountId;
                hook = !hooked;
                hooked = true;
            }

            if (hook)
            {
                connection.OnClosed(OnClosed);
            }
        }

        public void DisableCancelOnDisconnect()
        {
            lock (gate)
            {
                cancelAccountId = null;
            }
        }

        public void Issued(IssuedTokens tokens)
        {
            lock (gate)
            {
                issued.Add(tokens);
            }
        }

        public IReadOnlyList<IssuedTokens> TakeIssued()
        {
            lock (gate)
            {
                var all = issued.ToList();
                issued.Clear();
                return all;
            }
        }

        private void OnClosed(DeribitConnection closed)
        {
            int? accountId;
            lock (gate)
            {
                accountId = cancelAccountId;
                cancelAccountId = null;
            }

            if (accountId is { } id)
            {
                owner.CancelAll(closed, id);
            }
        }
    }
}
