using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit;

/// <summary><c>public/get_time</c> and <c>public/test</c>: the clock and a liveness check.</summary>
public sealed class SystemModule : IRpcModule
{
    /// <summary>The API version reported by <c>public/test</c>.</summary>
    public const string ApiVersion = "2.1.1";

    public IEnumerable<RpcMethod> Methods() =>
    [
        new("public/get_time", ApiScopes.None, RateClass.MarketData, (context, _) => ValueTask.FromResult<object?>(context.UsIn / 1000)),
        new("public/test", ApiScopes.None, RateClass.MarketData, (_, _) => ValueTask.FromResult<object?>(new TestResult(ApiVersion))),
    ];

    public sealed record TestResult(string Version);
}
