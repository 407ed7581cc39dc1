using System.Text;
using BenchmarkDotNet.Attributes;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Benchmarks.Api;

/// <summary>
/// Reading one <c>private/buy</c> request as the WebSocket read loop does (<c>RpcEnvelope.TryParse</c>
/// with the method table), the same frame the API load client sends: on the socket thread that
/// reads the connection, so its cost bounds how many orders one connection can carry.
/// </summary>
[MemoryDiagnoser]
public class RequestParsingBenchmark
{
    private static readonly byte[] Request = Encoding.UTF8.GetBytes(
        "{\"jsonrpc\":\"2.0\",\"id\":1234567,\"method\":\"private/buy\",\"params\":{\"instrument_name\":\"BTC_USDC-PERPETUAL\",\"amount\":0.001,\"type\":\"limit\",\"price\":95000}}");

    private RpcMethodTable methods = null!;

    [GlobalSetup]
    public void Setup() => methods = new RpcMethodTable([new Orders()]);

    [Benchmark(Description = "private/buy request: envelope and params")]
    public RpcEnvelope? Parse()
    {
        RpcEnvelope.TryParse(Request, out var envelope, out _, out _, methods);
        return envelope;
    }

    /// <summary>The two order methods, so that their names come from the table as in the server.</summary>
    private sealed class Orders : IRpcModule
    {
        public IEnumerable<RpcMethod> Methods() =>
        [
            new("private/buy", Clearhouse.Server.Deribit.Auth.ApiScopes.Trade, RateClass.Trading, (_, _) => ValueTask.FromResult<object?>(null)),
            new("private/sell", Clearhouse.Server.Deribit.Auth.ApiScopes.Trade, RateClass.Trading, (_, _) => ValueTask.FromResult<object?>(null)),
        ];
    }
}
