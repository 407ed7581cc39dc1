using System.Net;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clearhouse.Server.Tests.Deribit.Auth;

/// <summary>
/// The dispatcher enforces each method's scope before its handler runs: a key without the scope
/// gets 13021 forbidden (Deribit's code for a scope the token lacks) and the handler never runs.
/// A stand-in trading module plays <c>private/buy</c>, so this holds whatever the real module does.
/// </summary>
public sealed class ScopeEnforcementTests
{
    [Theory]
    [InlineData(ApiScopes.Read, "private/buy", 13021)]
    [InlineData(ApiScopes.Read | ApiScopes.Withdraw, "private/buy", 13021)]
    [InlineData(ApiScopes.Trade, "private/buy", 0)]
    [InlineData(ApiScopes.Trade, "private/get_positions", 13021)]
    [InlineData(ApiScopes.Read, "private/get_positions", 0)]
    [InlineData(ApiScopes.Read | ApiScopes.Trade, "private/withdraw", 13021)]
    [InlineData(ApiScopes.Withdraw, "private/withdraw", 0)]
    public async Task A_call_runs_only_when_the_key_has_the_scope_its_method_needs(ApiScopes keyScopes, string method, int expectedCode)
    {
        var module = new StandInModule();
        var dispatcher = Dispatcher(module);
        var context = new RpcContext
        {
            Transport = RpcTransport.WebSocket,
            UsIn = 0,
            RemoteAddress = IPAddress.Loopback,
            Principal = new ApiPrincipal("key", 7, keyScopes),
        };

        var outcome = await dispatcher.DispatchAsync(context, RpcEnvelope.Create(method, RpcParams.Empty));

        if (expectedCode == 0)
        {
            Assert.Null(outcome.Error);
            Assert.Equal([method], module.Ran);
        }
        else
        {
            Assert.Equal(expectedCode, outcome.Error!.Code);
            Assert.Contains(method, outcome.Error.Reason, StringComparison.Ordinal);
            Assert.Empty(module.Ran);
        }
    }

    [Fact]
    public async Task A_private_call_without_a_caller_is_refused_with_13009_before_the_handler_runs()
    {
        var module = new StandInModule();
        var context = new RpcContext { Transport = RpcTransport.Http, UsIn = 0, RemoteAddress = IPAddress.Loopback };

        var outcome = await Dispatcher(module).DispatchAsync(context, RpcEnvelope.Create("private/buy", RpcParams.Empty));

        Assert.Equal(13009, outcome.Error!.Code);
        Assert.Empty(module.Ran);
    }

    private static RpcDispatcher Dispatcher(StandInModule module) =>
        new(new RpcMethodTable([module]), new NoTokens(), new TokenBucketRateLimiter(new BucketRule(1000, 1000), new BucketRule(1000, 1000), 0), TimeProvider.System, NullLogger<RpcDispatcher>.Instance);

    private sealed class StandInModule : IRpcModule
    {
        public List<string> Ran { get; } = [];

        public IEnumerable<RpcMethod> Methods() =>
        [
            new("private/buy", ApiScopes.Trade, RateClass.Trading, Run("private/buy")),
            new("private/get_positions", ApiScopes.Read, RateClass.Trading, Run("private/get_positions")),
            new("private/withdraw", ApiScopes.Withdraw, RateClass.Trading, Run("private/withdraw")),
        ];

        private RpcHandler Run(string name) => (_, _) =>
        {
            Ran.Add(name);
            return ValueTask.FromResult<object?>("ok");
        };
    }

    private sealed class NoTokens : IApiAuthenticator
    {
        public ValueTask<ApiPrincipal?> AuthenticateHttpAsync(HttpCredentials credentials, long nowMicros) => ValueTask.FromResult<ApiPrincipal?>(null);

        public ApiPrincipal ValidateAccessToken(string accessToken, long nowMicros) => throw RpcError.Unauthorized("no tokens here").ToException();
    }
}
