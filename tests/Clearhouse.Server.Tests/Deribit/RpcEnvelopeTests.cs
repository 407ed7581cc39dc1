using System.Buffers;
using System.Text;
using System.Text.Json;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Trading;

namespace Clearhouse.Server.Tests.Deribit;

/// <summary>
/// The JSON-RPC envelope and the parameter getters: what is refused, with which code, and that the
/// answer has Deribit's shape (https://docs.deribit.com/#json-rpc: jsonrpc, id, result | error,
/// usIn, usOut, usDiff, testnet).
/// </summary>
public sealed class RpcEnvelopeTests
{
    private static RpcEnvelope Parse(string json)
    {
        Assert.True(RpcEnvelope.TryParse(Encoding.UTF8.GetBytes(json), out var envelope, out _, out var error), error?.Reason);
        return envelope!;
    }

    private static RpcError Refuse(string json, out byte[]? id)
    {
        Assert.False(RpcEnvelope.TryParse(Encoding.UTF8.GetBytes(json), out _, out id, out var error));
        return error!;
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"public/test\"}", -32600)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"private/buy\",\"params\":{\"amount\":1,\"amount\":2}}", -32600)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/subscribe\",\"params\":{\"channels\":[{\"a\":1,\"a\":2}]}}", -32600)]
    [InlineData("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\"}]", -32600)]
    [InlineData("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"public/test\"}", -32600)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"public/test\"}", -32600)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":[1]}", -32600)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}", -32600)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"amount\":NaN}}", -32700)]
    [InlineData("{\"method\":\"public/test\"", -32700)]
    [InlineData("not json", -32700)]
    public void Malformed_envelopes_are_refused_with_json_rpc_codes(string json, int code)
    {
        Assert.Equal(code, Refuse(json, out _).Code);
    }

    [Fact]
    public void The_id_of_a_refused_request_is_kept_for_the_answer()
    {
        var error = Refuse("{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"x\",\"params\":{\"a\":1,\"a\":1}}", out byte[]? id);
        Assert.Equal(-32600, error.Code);
        Assert.Equal("42", Encoding.UTF8.GetString(id!));
    }

    [Theory]
    [InlineData("{\"a\":1,\"\\u0061\":2}", "a")] // the same key, once written with an escape
    [InlineData("{\"x\":{\"b\":1,\"b\":2},\"x\":3}", "b")] // the first repeat in document order
    [InlineData("{\"x\":{\"a\":1},\"y\":{\"a\":1},\"z\":[{\"a\":1},{\"a\":2}]}", null)] // sibling objects may share keys
    [InlineData("{\"a\":{\"a\":{\"a\":1}}}", null)] // so may nested ones
    [InlineData("{\"\u00e9\":1,\"\\u00e9\":2}", "\u00e9")] // non-ASCII, escaped and not
    public void Repeated_keys_are_found_in_one_pass(string json, string? repeated)
    {
        Assert.Equal(repeated, DuplicateKeys.Find(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>RFC 8259 §8.1: senders must not add a byte order mark; a parser may refuse one. Refused before any key is looked at.</summary>
    [Fact]
    public void A_request_after_a_byte_order_mark_is_a_parse_error()
    {
        byte[] request = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"a\":1,\"a\":2}}");
        Assert.Equal(-32600, Refuse(Encoding.UTF8.GetString(request), out _).Code);
        Assert.False(RpcEnvelope.TryParse((byte[])[0xEF, 0xBB, 0xBF, .. request], out _, out _, out var marked));
        Assert.Equal(-32700, marked!.Code);
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"\\ud800\":1}}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"\\ud800\":1,\"\\ud800\":2}}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"\\udc00x\":1,\"b\":{\"\\ud83d\":2}}}")]
    public void Keys_with_a_lone_surrogate_escape_are_refused_not_thrown(string json)
    {
        var error = Refuse(json, out byte[]? id);
        Assert.Equal(-32600, error.Code);
        Assert.Equal("1", Encoding.UTF8.GetString(id!));
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\\udc00\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\\ud800\",\"id\":1,\"method\":\"m\"}")]
    public void A_method_or_version_with_a_lone_surrogate_escape_is_refused_not_thrown(string json)
    {
        Assert.Equal(-32600, Refuse(json, out _).Code);
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("[\"BTC\\udfff\"]")]
    public void A_string_parameter_with_a_lone_surrogate_escape_is_a_bad_parameter(string value)
    {
        var parameters = Parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"p\":" + value + "}}").Params;
        var error = Assert.Throws<RpcException>(() => value.StartsWith('[') ? parameters.StringArray("p", 4) : parameters.String("p")).Error;
        Assert.Equal((-32602, "p"), (error.Code, error.Param));
        Assert.Equal((-32602, "p"), (Assert.Throws<RpcException>(() => parameters.Decimal("p")).Error.Code, "p"));
    }

    [Fact]
    public void Objects_with_many_keys_are_checked_as_well_as_small_ones()
    {
        string Keys(int n, string? extra) =>
            "{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"k{i}\":{i}")) + (extra is null ? "" : $",\"{extra}\":0") + "}";

        Assert.Null(DuplicateKeys.Find(Encoding.UTF8.GetBytes(Keys(3000, null))));
        Assert.Equal("k7", DuplicateKeys.Find(Encoding.UTF8.GetBytes(Keys(3000, "k7"))));
        Assert.Equal("k2999", DuplicateKeys.Find(Encoding.UTF8.GetBytes(Keys(3000, "k2999"))));
        Assert.Equal("k15", DuplicateKeys.Find(Encoding.UTF8.GetBytes(Keys(17, "k15"))));
    }

    /// <summary>
    /// Random documents (seeded) with keys from a small alphabet, some written with escapes, nested
    /// up to the depth limit: the one-pass finder names the same key as a plain recursive search
    /// over the parsed document, the definition it replaced.
    /// </summary>
    [Fact]
    public void The_one_pass_finder_agrees_with_a_recursive_search_on_random_documents()
    {
        var random = new Random(20261126);
        int found = 0;
        for (int i = 0; i < 5000; i++)
        {
            var json = new StringBuilder();
            WriteObject(json, random, depth: 1, maxKeys: random.Next(2) == 0 ? 4 : 24);
            byte[] utf8 = Encoding.UTF8.GetBytes(json.ToString());
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = RpcEnvelope.MaxDepth });
            string? expected = RecursiveFind(document.RootElement);
            Assert.Equal(expected, DuplicateKeys.Find(utf8));
            found += expected is null ? 0 : 1;
        }

        Assert.InRange(found, 500, 4500); // both outcomes are exercised
    }

    private static void WriteObject(StringBuilder json, Random random, int depth, int maxKeys)
    {
        json.Append('{');
        int keys = random.Next(maxKeys + 1);
        for (int k = 0; k < keys; k++)
        {
            if (k > 0)
            {
                json.Append(',');
            }

            char letter = (char)('a' + random.Next(maxKeys > 4 ? 26 : 5));
            json.Append('"').Append(random.Next(4) == 0 ? $"\\u{(int)letter:x4}" : letter.ToString()).Append(random.Next(3) == 0 ? "x" : "").Append("\":");
            switch (depth < RpcEnvelope.MaxDepth - 1 ? random.Next(4) : 0)
            {
                case 1:
                    WriteObject(json, random, depth + 1, 4);
                    break;
                case 2:
                    json.Append('[');
                    WriteObject(json, random, depth + 2, 4);
                    json.Append(",1]");
                    break;
                default:
                    json.Append(random.Next(100));
                    break;
            }
        }

        json.Append('}');
    }

    private static string? RecursiveFind(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                    {
                        return property.Name;
                    }

                    if (RecursiveFind(property.Value) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (RecursiveFind(item) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    [Fact]
    public void Parameter_names_are_shared_strings_and_unknown_ones_still_arrive()
    {
        var parameters = Parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"instrument_name\":\"X\",\"\\u0061mount\":1,\"zzz\":2}}").Params;
        Assert.Same("instrument_name", parameters.Names.First(n => n == "instrument_name"));
        Assert.Equal(["amount", "instrument_name", "zzz"], parameters.Names.Order(StringComparer.Ordinal));
        Assert.Equal("X", parameters.String("instrument_name"));
        Assert.Equal(1m, parameters.Decimal("amount"));
        Assert.Equal(2m, parameters.Decimal("zzz"));
    }

    [Theory]
    [InlineData("0.001")]
    [InlineData("50000")]
    [InlineData("-2.5")]
    [InlineData("1e5")]
    [InlineData("00.1")]
    [InlineData("1.")]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1234567890123456789012345678901234567890")]
    [InlineData("0.12345678901234567890123456789012345678901234567890123456789012345678901")]
    public void A_decimal_reads_the_same_from_a_json_number_a_json_string_an_escaped_string_and_a_query(string text)
    {
        static string Outcome(Func<decimal?> read)
        {
            try
            {
                return read()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";
            }
            catch (RpcException ex)
            {
                return $"{ex.Error.Code} {ex.Error.Message} {ex.Error.Reason}";
            }
        }

        string escaped = string.Concat(text.Select(c => $"\\u{(int)c:x4}"));
        var fromString = Parse($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{{\"p\":\"{text}\"}}}}").Params;
        var fromEscaped = Parse($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{{\"p\":\"{escaped}\"}}}}").Params;
        var fromQuery = RpcParams.FromText(new Dictionary<string, string> { ["p"] = text });
        string expected = Outcome(() => fromQuery.Decimal("p"));
        Assert.Equal(expected, Outcome(() => fromString.Decimal("p")));
        Assert.Equal(expected, Outcome(() => fromEscaped.Decimal("p")));
        if (RpcEnvelope.TryParse(Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{{\"p\":{text}}}}}"), out var number, out _, out _))
        {
            Assert.Equal(expected, Outcome(() => number!.Params.Decimal("p"))); // where the text is a JSON number at all
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(2000)]
    public void Every_parameter_is_found_however_many_there_are(int count)
    {
        string fields = string.Join(",", Enumerable.Range(0, count).Select(i => $"\"p{i}\":{i}"));
        var parameters = Parse($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{{{fields},\"instrument_name\":\"X\"}}}}").Params;
        foreach (int i in new[] { 0, count / 2, count - 1 })
        {
            Assert.Equal(i, parameters.Decimal($"p{i}"));
        }

        Assert.Equal("X", parameters.String("instrument_name"));
        Assert.False(parameters.Has("missing"));
        Assert.Null(parameters.Decimal($"p{count}"));
        Assert.Equal(count + 1, parameters.Names.Count());
    }

    private sealed class OneMethod(string name) : IRpcModule
    {
        public IEnumerable<RpcMethod> Methods() =>
            [new RpcMethod(name, Server.Deribit.Auth.ApiScopes.None, RateClass.MarketData, (_, _) => ValueTask.FromResult<object?>(null))];
    }

    [Fact]
    public void A_method_the_table_knows_is_its_shared_string_and_any_other_still_arrives()
    {
        string known = new string("public/test".AsSpan()); // not the interned literal
        var table = new RpcMethodTable([new OneMethod(known)]);
        static RpcEnvelope ParseWith(string json, RpcMethodTable table)
        {
            Assert.True(RpcEnvelope.TryParse(Encoding.UTF8.GetBytes(json), out var envelope, out _, out var error, table), error?.Reason);
            return envelope!;
        }

        Assert.Same(known, ParseWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\"}", table).Method);
        var escaped = ParseWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public\\/test\"}", table).Method;
        Assert.Equal("public/test", escaped);
        Assert.NotSame(known, escaped);
        Assert.Equal("public/other", ParseWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/other\"}", table).Method);
        Assert.Equal("privé/x", ParseWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"privé/x\"}", table).Method);
    }

    [Fact]
    public void Oversized_requests_are_refused_before_parsing()
    {
        string big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"x\":\"" + new string('a', RpcEnvelope.MaxRequestBytes) + "\"}}";
        Assert.Equal(11050, Refuse(big, out _).Code);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e3")]
    [InlineData("1E-3")]
    [InlineData("0x10")]
    [InlineData(" 1")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("+1")]
    [InlineData("1,5")]
    [InlineData("1000000000000000000000000000000000000000")] // 40 digits
    [InlineData("0.1234567890123456789")] // 19 decimals
    [InlineData("")]
    public void Numbers_must_be_plain_decimals(string text)
    {
        Assert.False(RpcValueText.TryParseDecimal(text, out _, out string? problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Theory]
    [InlineData("0.001", "0.001")]
    [InlineData("-12.5", "-12.5")]
    [InlineData("9223372036854775808", "9223372036854775808")]
    public void Plain_decimals_are_read_exactly(string text, string expected)
    {
        Assert.True(RpcValueText.TryParseDecimal(text, out decimal value, out _));
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("\"0\"")]
    [InlineData("\"-0.5\"")]
    [InlineData("\"9223372036854775808\"")] // 2^63: more than any fixed-point amount holds
    [InlineData("\"0.000000001\"")] // 9 decimals: amounts keep 8
    [InlineData("1e-3")]
    [InlineData("true")]
    [InlineData("[1]")]
    public void Amounts_refuse_zero_negative_too_precise_and_too_large(string json)
    {
        var parameters = Parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"private/buy\",\"params\":{\"amount\":" + json + "}}").Params;
        var error = Assert.Throws<RpcException>(() => parameters.Amount("amount", required: true)).Error;
        Assert.Equal(-32602, error.Code);
        Assert.Equal("amount", error.Param);
    }

    [Fact]
    public void Amounts_from_numbers_and_strings_agree()
    {
        var fromNumber = Parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"amount\":0.001}}").Params.Amount("amount");
        var fromString = Parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"amount\":\"0.001\"}}").Params.Amount("amount");
        var fromQuery = RpcParams.FromText(new() { ["amount"] = "0.001" }).Amount("amount");
        Assert.Equal(Core.Numerics.Quantity.FromDecimal(0.001m), fromNumber);
        Assert.Equal(fromNumber, fromString);
        Assert.Equal(fromNumber, fromQuery);
    }

    /// <summary>
    /// The order answer is serialized by build-time code (<c>DeribitOrderJson</c>): byte for byte what
    /// the reflection serializer writes with the same settings, nulls, escapes, exact decimals and
    /// nested trades included.
    /// </summary>
    [Fact]
    public void The_generated_order_answer_serializer_writes_what_reflection_writes()
    {
        var reflectionOnly = new JsonSerializerOptions(DeribitJson.Options) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };
        DeribitOrder Order(string label, string? cancelReason) => new()
        {
            OrderId = "12345", InstrumentName = "BTC_USDC-PERPETUAL", Direction = "buy", OrderType = "limit", OrderState = "cancelled",
            Price = 95_000.5m, Amount = 0.12345678m, FilledAmount = 0.1m, AveragePrice = 94_999.123456m, CreationTimestamp = 1_764_000_000_000,
            LastUpdateTimestamp = 1_764_000_000_123, TimeInForce = "good_til_cancelled", PostOnly = true, ReduceOnly = false, Label = label,
            Commission = -0.000001m, IsLiquidation = false, Replaced = true, MaxShow = 0.12345678m, CancelReason = cancelReason,
        };
        DeribitUserTrade Trade(string? label, string? liquidation) => new()
        {
            TradeId = "7", TradeSeq = 3, OrderId = "12345", InstrumentName = "BTC_USDC-PERPETUAL", Direction = "buy", Price = 95_000.5m,
            Amount = 0.1m, Fee = 4.75m, Liquidity = "T", Timestamp = 1_764_000_000_001, IndexPrice = 94_990m, MarkPrice = 94_995.25m,
            OrderType = "limit", State = "open", Label = label, PostOnly = false, ReduceOnly = true, Liquidation = liquidation,
        };
        DeribitOrderResult[] answers =
        [
            new(Order("", null), []),
            new(Order("a \"quoted\" <label> é ✓ \\ \u0001", "user_request"), [Trade(null, null), Trade("x", "T")]),
        ];

        foreach (var answer in answers)
        {
            Assert.Equal(JsonSerializer.Serialize(answer, reflectionOnly), JsonSerializer.Serialize(answer, DeribitJson.Options));
            var generated = new ArrayBufferWriter<byte>();
            var reflected = new ArrayBufferWriter<byte>();
            RpcResponse.WriteResult(generated, null, answer, 1, 2);
            using (var writer = new Utf8JsonWriter(reflected, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                writer.WriteString("jsonrpc"u8, "2.0"u8);
                writer.WritePropertyName("result"u8);
                JsonSerializer.Serialize(writer, answer, reflectionOnly);
                writer.WriteNumber("usIn"u8, 1);
                writer.WriteNumber("usOut"u8, 2);
                writer.WriteNumber("usDiff"u8, 1);
                writer.WriteBoolean("testnet"u8, false);
                writer.WriteEndObject();
            }

            Assert.Equal(Encoding.UTF8.GetString(reflected.WrittenSpan), Encoding.UTF8.GetString(generated.WrittenSpan));
        }
    }

    [Fact]
    public void Answers_have_deribits_envelope()
    {
        var output = new ArrayBufferWriter<byte>();
        RpcResponse.WriteResult(output, Encoding.UTF8.GetBytes("\"abc\""), new { order_id = "7" }, 1_000_000, 1_000_250);
        using var answer = JsonDocument.Parse(output.WrittenMemory);
        var root = answer.RootElement;
        Assert.Equal("2.0", root.GetProperty("jsonrpc").GetString());
        Assert.Equal("abc", root.GetProperty("id").GetString());
        Assert.Equal("7", root.GetProperty("result").GetProperty("order_id").GetString());
        Assert.Equal(1_000_000, root.GetProperty("usIn").GetInt64());
        Assert.Equal(1_000_250, root.GetProperty("usOut").GetInt64());
        Assert.Equal(250, root.GetProperty("usDiff").GetInt64());
        Assert.False(root.GetProperty("testnet").GetBoolean());

        output.ResetWrittenCount();
        RpcResponse.WriteError(output, null, RpcError.MissingParam("price"), 5, 6);
        using var error = JsonDocument.Parse(output.WrittenMemory);
        var e = error.RootElement.GetProperty("error");
        Assert.Equal(-32602, e.GetProperty("code").GetInt32());
        Assert.Equal("Invalid params", e.GetProperty("message").GetString());
        Assert.Equal("price", e.GetProperty("data").GetProperty("param").GetString());
        Assert.False(error.RootElement.TryGetProperty("id", out _));
    }
}
