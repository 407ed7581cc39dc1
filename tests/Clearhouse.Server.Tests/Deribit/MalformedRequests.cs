using System.Net.Http.Headers;
using System.Text;

namespace Clearhouse.Server.Tests.Deribit;

public enum FuzzTransport
{
    HttpGet,
    HttpPost,
    WebSocket,
}

/// <summary>One generated request: how it travels, its bytes (a JSON body or frame; for GET, the query), and what is wrong with it.</summary>
public sealed record FuzzRequest(int Index, FuzzTransport Transport, string Method, byte[] Body, string? Query, string? BearerToken, string Description)
{
    public HttpRequestMessage ToHttp()
    {
        var message = Transport == FuzzTransport.HttpGet
            ? new HttpRequestMessage(HttpMethod.Get, $"/api/v2/{Method}?{Query}")
            : new HttpRequestMessage(HttpMethod.Post, "/api/v2") { Content = new ByteArrayContent(Body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } } };
        if (BearerToken is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + BearerToken);
        }

        return message;
    }
}

/// <summary>
/// Seeded generator of requests that must all be refused. Each is either not a request at all
/// (garbage, truncated or oversized JSON, a batch, a bad envelope) or a well-formed call to a real
/// method with exactly one defect: a bad number (<see cref="BadNumbers"/>), an off-tick price, an
/// unknown instrument, a bad word, a duplicate key, or a missing or wrong credential.
/// </summary>
public sealed class MalformedRequests(int seed)
{
    /// <summary>Numbers no amount or price may be: the list, and the near misses around it.</summary>
    public static readonly string[] BadNumbers =
    [
        "NaN", "nan", "Infinity", "-Infinity", "+Infinity", "∞", "-0.001", "-1", "0", "0.0", "-0", "9223372036854775808",
        "9223372036854775807", "18446744073709551616", "1" + new string('0', 39), "0." + new string('1', 40), new string('9', 40) + ".5",
        "1e3", "1E3", "1e-3", "1.5E+2", "0x10", "", " ", " 1", "1 ", "1,000", "+1", "--1", "1.", ".5", "1..2", "١٢", "0.000000001", "12345678901234567890.5",
    ];

    private static readonly string[] BadJson =
    [
        "", "{", "}", "[]", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\"}]", "\"public/test\"", "null", "42", "{\"method\":}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\"", "{'method':'public/test'}", "{\"method\":\"public/test\",}", "NaN", "{\"a\":NaN}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"private/buy\",\"params\":{\"amount\":Infinity}}",
    ];

    private static readonly string[] OrderMethods = ["private/buy", "private/sell"];

    private static readonly string[] InstrumentMethods =
        ["public/get_order_book", "public/ticker", "public/get_last_trades_by_instrument", "private/cancel_all_by_instrument", "private/get_open_orders_by_instrument", "private/get_user_trades_by_instrument"];

    private readonly Random random = new(seed);

    public FuzzRequest Next(int index, string token)
    {
        var transport = (FuzzTransport)random.Next(3);
        int kind = random.Next(100);
        if (kind < 10)
        {
            // Random bytes only over HTTP: a WebSocket text frame that is not UTF-8 is a protocol
            // error that closes the connection (RFC 6455 §8.1), which is not what is tested here.
            return transport == FuzzTransport.WebSocket
                ? Raw(index, transport, Encoding.UTF8.GetBytes(BadJson[random.Next(BadJson.Length)]), "not a JSON-RPC request")
                : Raw(index, FuzzTransport.HttpPost, RandomGarbage(), "not a JSON-RPC request");
        }

        if (kind < 14)
        {
            return Raw(index, FuzzTransport.HttpPost, Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"pad\":\"" + new string('x', 40_000) + "\"}}"), "oversized body");
        }

        if (kind < 18)
        {
            string nested = new string('[', 64) + new string(']', 64);
            return Raw(index, transport == FuzzTransport.HttpGet ? FuzzTransport.HttpPost : transport, Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"x\":" + nested + "}}"), "nested too deep");
        }

        if (kind < 24)
        {
            string[] envelopes =
            [
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"public/test\"}",
                "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"public/test\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"public/test\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}",
                "{\"jsonrpc\":\"2.0\",\"id\":1}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":[1,2]}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"private/no_such_method\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + new string('m', 300) + "\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/te\\udc00st\"}", // half a surrogate pair: no text
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/test\",\"params\":{\"\\ud800\":1}}",
            ];
            return Raw(index, transport == FuzzTransport.HttpGet ? FuzzTransport.HttpPost : transport, Encoding.UTF8.GetBytes(envelopes[random.Next(envelopes.Length)]), "bad envelope");
        }

        // A real method with one defect.
        var parameters = new List<KeyValuePair<string, string>>(); // values are raw JSON
        string method;
        string description;
        bool authenticated = true;
        if (kind < 70)
        {
            method = OrderMethods[random.Next(OrderMethods.Length)];
            parameters.Add(new("instrument_name", "\"BTC_USDC-PERPETUAL\""));
            parameters.Add(new("amount", "\"0.001\""));
            parameters.Add(new("type", "\"limit\""));
            parameters.Add(new("price", "\"50000\""));
            switch (random.Next(9))
            {
                case 0 or 1:
                    description = Replace(parameters, "amount", BadNumber());
                    break;
                case 2 or 3:
                    description = Replace(parameters, "price", BadNumber());
                    break;
                case 4:
                    description = Replace(parameters, "price", "\"50000.25\"") + " (off the 0.5 tick)";
                    break;
                case 5:
                    description = Replace(parameters, "instrument_name", random.Next(3) switch
                    {
                        0 => "\"BTC_USDC-NOPE\"",
                        1 => "\"BTC_USDC-PERPETUAL\\ud800\"", // half a surrogate pair: no text
                        _ => "\"" + new string('Z', random.Next(1, 200)) + "\"",
                    });
                    break;
                case 6:
                    description = Replace(parameters, random.Next(2) == 0 ? "type" : "time_in_force", random.Next(2) == 0 ? "\"sometimes\"" : "17");
                    break;
                case 7:
                    parameters.Add(new("amount", "\"0.002\""));
                    description = "duplicate key 'amount'";
                    break;
                default:
                    authenticated = false;
                    description = "no credential";
                    break;
            }
        }
        else if (kind < 85)
        {
            method = InstrumentMethods[random.Next(InstrumentMethods.Length)];
            parameters.Add(new("instrument_name", random.Next(3) switch
            {
                0 => "\"ETH_USDC-1JAN99\"",
                1 => "123",
                _ => "\"" + new string('q', random.Next(1, 50)) + "\"",
            }));
            description = "unknown or malformed instrument";
        }
        else
        {
            method = random.Next(3) switch { 0 => "private/cancel", 1 => "private/get_order_state", _ => "private/edit" };
            parameters.Add(new("order_id", random.Next(4) switch
            {
                0 => "\"not-a-number\"",
                1 => "\"9223372036854775808\"",
                2 => "\"-5\"",
                _ => "\"" + random.NextInt64(1_000_000_000, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"",
            }));
            if (method == "private/edit")
            {
                parameters.Add(new("amount", BadNumber()));
                parameters.Add(new("price", "\"50000\""));
            }

            description = "unknown order";
        }

        string? bearer = authenticated ? token : null;
        if (authenticated && random.Next(10) == 0)
        {
            bearer = token[..^2] + "zz";
            description += " + forged token";
        }

        if (transport == FuzzTransport.HttpGet)
        {
            string query = string.Join("&", parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(Unquote(p.Value))));
            return new FuzzRequest(index, transport, method, [], query, bearer, description);
        }

        if (transport == FuzzTransport.WebSocket && bearer is not null)
        {
            parameters.Add(new("access_token", "\"" + bearer + "\""));
            bearer = null;
        }

        string body = "{\"jsonrpc\":\"2.0\",\"id\":" + index + ",\"method\":\"" + method + "\",\"params\":{" + string.Join(",", parameters.Select(p => "\"" + p.Key + "\":" + p.Value)) + "}}";
        return new FuzzRequest(index, transport, method, Encoding.UTF8.GetBytes(body), null, bearer, description);
    }

    private FuzzRequest Raw(int index, FuzzTransport transport, byte[] body, string description) => new(index, transport, "public/test", body, null, null, description);

    /// <summary>A bad number as raw JSON: as a string, or as a bare token where JSON allows it (which the server must still refuse).</summary>
    private string BadNumber()
    {
        string text = BadNumbers[random.Next(BadNumbers.Length)];
        bool bareIsJson = text.Length > 0 && (char.IsAsciiDigit(text[0]) || (text[0] == '-' && text.Length > 1 && char.IsAsciiDigit(text[1])))
            && !text.Contains(' ') && !text.Contains(',') && !text.EndsWith('.') && !text.Contains("..") && !text.StartsWith("0x") && !text.StartsWith("--");
        return bareIsJson && random.Next(2) == 0 ? text : "\"" + text + "\"";
    }

    private static string Replace(List<KeyValuePair<string, string>> parameters, string key, string value)
    {
        int at = parameters.FindIndex(p => p.Key == key);
        if (at >= 0)
        {
            parameters[at] = new(key, value);
        }
        else
        {
            parameters.Add(new(key, value));
        }

        return $"{key} = {value}";
    }

    private static string Unquote(string json) => json.Length >= 2 && json[0] == '"' && json[^1] == '"' ? json[1..^1] : json;

    private byte[] RandomGarbage()
    {
        if (random.Next(2) == 0)
        {
            return Encoding.UTF8.GetBytes(BadJson[random.Next(BadJson.Length)]);
        }

        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);
        return bytes;
    }
}
