using System.Net;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clearhouse.Server.Tests.Deribit;

/// <summary>
/// The dispatcher's callback entry point (the WebSocket's): a call that finishes at once is
/// returned and never called back; one that waits is called back exactly once, with its result or
/// its error, after its metrics are recorded.
/// </summary>
public sealed class RpcDispatcherTests
{
    private readonly TaskCompletionSource<object?> later = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RpcDispatcher Dispatcher() =>
        new(new RpcMethodTable([new Module(later)]), new NoTokens(), new TokenBucketRateLimiter(new BucketRule(1000, 1000), new BucketRule(1000, 1000), 0), TimeProvider.System, NullLogger<RpcDispatcher>.Instance);

    private static RpcContext Context() => new() { Transport = RpcTransport.WebSocket, UsIn = 0, RemoteAddress = IPAddress.Loopback, RequestId = "7"u8.ToArray() };

    [Fact]
    public void A_call_that_finishes_at_once_is_returned_and_never_called_back()
    {
        int calls = 0;
        var outcome = Dispatcher().Dispatch(Context(), RpcEnvelope.Create("public/now", RpcParams.Empty), (_, _) => calls++);
        Assert.Equal("now", outcome!.Value.Result);
        var refused = Dispatcher().Dispatch(Context(), RpcEnvelope.Create("public/nothing", RpcParams.Empty), (_, _) => calls++);
        Assert.Equal(-32601, refused!.Value.Error!.Code);
        Assert.Equal(0, calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_call_that_waits_is_called_back_once_with_its_result_or_its_error(bool fails)
    {
        var answers = new List<(RpcContext Context, RpcOutcome Outcome)>();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = Context();

        var outcome = Dispatcher().Dispatch(context, RpcEnvelope.Create("public/later", RpcParams.Empty), (c, o) =>
        {
            lock (answers)
            {
                answers.Add((c, o));
            }

            answered.TrySetResult();
        });

        Assert.Null(outcome);
        Assert.Empty(answers);
        if (fails)
        {
            later.SetException(RpcError.InvalidParams("x", "bad x").ToException());
        }
        else
        {
            later.SetResult("done");
        }

        await answered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(50); // a second call back would come now
        var (answeredContext, answer) = Assert.Single(answers);
        Assert.Same(context, answeredContext);
        if (fails)
        {
            Assert.Equal(-32602, answer.Error!.Code);
        }
        else
        {
            Assert.Equal("done", answer.Result);
        }
    }

    private sealed class Module(TaskCompletionSource<object?> later) : IRpcModule
    {
        public IEnumerable<RpcMethod> Methods() =>
        [
            new("public/now", ApiScopes.None, RateClass.MarketData, (_, _) => ValueTask.FromResult<object?>("now")),
            new("public/later", ApiScopes.None, RateClass.MarketData, (_, _) => new ValueTask<object?>(later.Task)),
        ];
    }

    private sealed class NoTokens : IApiAuthenticator
    {
        public ValueTask<ApiPrincipal?> AuthenticateHttpAsync(HttpCredentials credentials, long nowMicros) => ValueTask.FromResult<ApiPrincipal?>(null);

        public ApiPrincipal ValidateAccessToken(string accessToken, long nowMicros) => throw RpcError.Unauthorized("no tokens here").ToException();
    }
}
