using System.Collections.Frozen;
using Clearhouse.Server.Deribit.Auth;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>Which rate-limit budget a method spends: a flood of one never starves the other.</summary>
public enum RateClass
{
    /// <summary>Reads of public market data, time, tests, subscriptions, auth.</summary>
    MarketData,

    /// <summary>Anything that reaches the matching engine or reads the account (orders, positions).</summary>
    Trading,
}

/// <summary>
/// Answers one call. The handler must read and check every parameter before it submits anything,
/// and must submit synchronously (no await before <c>Sequencer.SubmitAsync</c> is called), so that
/// the requests of one WebSocket connection reach the engine in the order they arrived.
/// </summary>
public delegate ValueTask<object?> RpcHandler(RpcContext context, RpcParams parameters);

/// <summary>One method: its full name (<c>private/buy</c>), the scope it needs (None: public), its rate budget.</summary>
public sealed record RpcMethod(string Name, ApiScopes Scope, RateClass RateClass, RpcHandler Handler)
{
    public bool IsPrivate => Name.StartsWith("private/", StringComparison.Ordinal);

    /// <summary>Only over WebSocket (subscriptions, heartbeats, cancel on disconnect).</summary>
    public bool WebSocketOnly { get; init; }

    /// <summary>
    /// Changes who a WebSocket connection is (<c>public/auth</c>): the connection reads its next
    /// request only once this one has finished, so a client that sends <c>private/buy</c> right
    /// behind <c>public/auth</c> without waiting for the answer still trades as the key it
    /// authenticated with. Other calls on a connection overlap (orders wait for the journal).
    /// </summary>
    public bool SessionChanging { get; init; }
}

/// <summary>Every method the Deribit API serves; modules add theirs at start (<see cref="IRpcModule"/>).</summary>
public sealed class RpcMethodTable
{
    private readonly FrozenDictionary<string, RpcMethod> methods;

    public RpcMethodTable(IEnumerable<IRpcModule> modules)
    {
        var all = new Dictionary<string, RpcMethod>(StringComparer.Ordinal);
        foreach (var module in modules)
        {
            foreach (var method in module.Methods())
            {
                if (!all.TryAdd(method.Name, method))
                {
                    throw new InvalidOperationException($"Two modules define '{method.Name}'.");
                }
            }
        }

        methods = all.ToFrozenDictionary(StringComparer.Ordinal);
        byChars = methods.Keys.ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> byChars;

    /// <summary>The table's own string for a method name given as UTF-8 without escapes, so that a request's method is not allocated; null for any other name.</summary>
    public string? KnownName(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[128];
        return utf8.Length <= chars.Length
            && System.Text.Encoding.UTF8.TryGetChars(utf8, chars, out int length)
            && byChars.TryGetValue(chars[..length], out string? name)
            ? name
            : null;
    }

    public bool TryGet(string name, out RpcMethod method) => methods.TryGetValue(name, out method!);

    public IEnumerable<string> Names => methods.Keys.Order(StringComparer.Ordinal);
}

/// <summary>A group of methods (auth, trading, market data), registered in DI as <see cref="IRpcModule"/>.</summary>
public interface IRpcModule
{
    IEnumerable<RpcMethod> Methods();
}
