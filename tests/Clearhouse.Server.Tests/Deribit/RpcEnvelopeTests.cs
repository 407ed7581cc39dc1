using System.Buffers;
using System.Text;
using System.Text.Json;
using Clearhouse.Server.Deribit.Rpc;

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
