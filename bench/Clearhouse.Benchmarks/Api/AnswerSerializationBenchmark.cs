using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Trading;

namespace Clearhouse.Benchmarks.Api;

/// <summary>
/// The answer of <c>private/buy</c> (an order that filled with one trade, 822 bytes of JSON), written
/// into a reused buffer as <c>RpcResponse.WriteResult</c> writes it: with the serializer options the
/// server uses (the order answer's build-time serializer, on its fast path) against the same options
/// resolved by reflection, as every answer was before.
/// </summary>
[MemoryDiagnoser]
public class AnswerSerializationBenchmark
{
    private static readonly JsonSerializerOptions ReflectionOnly = new(DeribitJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private readonly ArrayBufferWriter<byte> output = new(4096);
    private Utf8JsonWriter writer = null!;
    private DeribitOrderResult answer = null!;

    [GlobalSetup]
    public void Setup()
    {
        writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var order = new DeribitOrder
        {
            OrderId = "12345", InstrumentName = "BTC_USDC-PERPETUAL", Direction = "buy", OrderType = "limit", OrderState = "filled",
            Price = 95_000.5m, Amount = 0.001m, FilledAmount = 0.001m, AveragePrice = 95_000.5m, CreationTimestamp = 1_764_000_000_000,
            LastUpdateTimestamp = 1_764_000_000_123, TimeInForce = "good_til_cancelled", PostOnly = false, ReduceOnly = false, Label = "",
            Commission = 0.0475m, IsLiquidation = false, Replaced = false, MaxShow = 0.001m,
        };
        var trade = new DeribitUserTrade
        {
            TradeId = "7", TradeSeq = 3, OrderId = "12345", InstrumentName = "BTC_USDC-PERPETUAL", Direction = "buy", Price = 95_000.5m,
            Amount = 0.001m, Fee = 0.0475m, Liquidity = "T", Timestamp = 1_764_000_000_001, IndexPrice = 94_990m, MarkPrice = 94_995.25m,
            OrderType = "limit", State = "filled", PostOnly = false, ReduceOnly = false,
        };
        answer = new DeribitOrderResult(order, [trade]);
    }

    [Benchmark(Baseline = true, Description = "order answer, reflection")]
    public int Reflection() => Write(ReflectionOnly);

    [Benchmark(Description = "order answer, generated (the server's options)")]
    public int Generated() => Write(DeribitJson.Options);

    private int Write(JsonSerializerOptions options)
    {
        output.ResetWrittenCount();
        writer.Reset(output);
        JsonSerializer.Serialize(writer, answer, options);
        writer.Flush();
        return output.WrittenCount;
    }
}
