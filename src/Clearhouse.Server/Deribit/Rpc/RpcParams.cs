using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>
/// The named parameters of one call, from a JSON-RPC <c>params</c> object (WebSocket, POST) or a
/// query string (GET, where every value is text). Getters are strict and throw an
/// <see cref="RpcException"/> with code -32602 naming the parameter: a handler reads what it needs
/// first and builds its command only once everything has parsed, so a bad value changes nothing.
/// Numbers are read from their exact text (<see cref="RpcValueText"/>) and converted with the Core
/// types' exact <c>TryFromDecimal</c>, never through a double. Unknown parameters are ignored, as
/// Deribit does (clients such as ccxt send extras).
/// </summary>
public sealed class RpcParams
{
    public static readonly RpcParams Empty = new([], null);

    // A request carries a handful of parameters: a flat array searched in order costs less than a
    // dictionary to build (one allocation instead of three) and no more to search. A request with
    // many (up to thousands fit in the size limit) gets a dictionary too, so that each lookup stays cheap.
    private const int MostSearchedInOrder = 16;

    private readonly KeyValuePair<string, JsonElement>[]? json;
    private readonly Dictionary<string, JsonElement>? jsonIndex;
    private readonly Dictionary<string, string>? text;

    private RpcParams(KeyValuePair<string, JsonElement>[]? json, Dictionary<string, string>? text)
    {
        this.json = json;
        this.text = text;
        if (json is { Length: > MostSearchedInOrder })
        {
            jsonIndex = new Dictionary<string, JsonElement>(json.Length, StringComparer.Ordinal);
            foreach (var (name, value) in json)
            {
                jsonIndex.TryAdd(name, value);
            }
        }
    }

    /// <summary>From a JSON object's properties, whose keys were already checked for duplicates (<see cref="RpcEnvelope"/>).</summary>
    public static RpcParams FromJson(KeyValuePair<string, JsonElement>[] values) => new(values, null);

    /// <summary>From query-string values (a repeated key is refused before this).</summary>
    public static RpcParams FromText(Dictionary<string, string> values) => new(null, values);

    public bool Has(string name) => json is not null ? TryGetJson(name, out _) : text!.ContainsKey(name);

    public IEnumerable<string> Names => json?.Select(parameter => parameter.Key) ?? text!.Keys;

    private bool TryGetJson(string name, out JsonElement element)
    {
        if (jsonIndex is not null)
        {
            return jsonIndex.TryGetValue(name, out element);
        }

        foreach (var parameter in json!)
        {
            // Known names are shared strings (ParameterNames), so this is mostly a reference check.
            if (string.Equals(parameter.Key, name, StringComparison.Ordinal))
            {
                element = parameter.Value;
                return true;
            }
        }

        element = default;
        return false;
    }

    /// <summary>A string parameter (a JSON string, or any query value); null when absent and not required.</summary>
    public string? String(string name, bool required = false, int maxLength = 256)
    {
        string? value;
        if (json is not null)
        {
            if (!TryGetJson(name, out var element) || element.ValueKind == JsonValueKind.Null)
            {
                value = null;
            }
            else if (element.ValueKind == JsonValueKind.String)
            {
                value = Text(name, element);
            }
            else
            {
                throw RpcError.InvalidParams(name, $"'{name}' must be a string.").ToException();
            }
        }
        else
        {
            value = text!.GetValueOrDefault(name);
        }

        if (value is null)
        {
            return required ? throw RpcError.MissingParam(name).ToException() : null;
        }

        if (value.Length > maxLength)
        {
            throw RpcError.InvalidParams(name, $"'{name}' is longer than {maxLength} characters.").ToException();
        }

        return value;
    }

    /// <summary>A decimal parameter: a JSON number or a numeric string, in plain decimal notation.</summary>
    public decimal? Decimal(string name, bool required = false)
    {
        if (json is not null && TryGetJson(name, out var element) && PlainAscii(element, out var ascii))
        {
            // The usual case (a JSON number, or a string without escapes) is parsed from the
            // request's own bytes: no string per price or amount.
            Span<char> chars = stackalloc char[ascii.Length];
            for (int i = 0; i < ascii.Length; i++)
            {
                chars[i] = (char)ascii[i];
            }

            return RpcValueText.TryParseDecimal(chars, out decimal parsed, out string? trouble)
                ? parsed
                : throw RpcError.InvalidParams(name, $"'{name}' must be a plain decimal number: {trouble}.").ToException();
        }

        string? raw = RawNumber(name);
        if (raw is null)
        {
            return required ? throw RpcError.MissingParam(name).ToException() : null;
        }

        return RpcValueText.TryParseDecimal(raw, out decimal value, out string? problem)
            ? value
            : throw RpcError.InvalidParams(name, $"'{name}' must be a plain decimal number: {problem}.").ToException();
    }

    /// <summary>A strictly positive amount in the venue's quantity precision (8 decimals).</summary>
    public Quantity? Amount(string name, bool required = false)
    {
        if (Decimal(name, required) is not { } value)
        {
            return null;
        }

        if (value <= 0)
        {
            throw RpcError.InvalidParams(name, $"'{name}' must be greater than zero.").ToException();
        }

        return Quantity.TryFromDecimal(value, out var quantity)
            ? quantity
            : throw RpcError.InvalidParams(name, $"'{name}' has more than 8 decimal places or is too large.").ToException();
    }

    /// <summary>A strictly positive price in the venue's price precision (6 decimals).</summary>
    public Price? Price(string name, bool required = false)
    {
        if (Decimal(name, required) is not { } value)
        {
            return null;
        }

        if (value <= 0)
        {
            throw RpcError.InvalidParams(name, $"'{name}' must be greater than zero.").ToException();
        }

        return Core.Numerics.Price.TryFromDecimal(value, out var price)
            ? price
            : throw RpcError.InvalidParams(name, $"'{name}' has more than 6 decimal places or is too large.").ToException();
    }

    /// <summary>A whole number within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long? Integer(string name, long min, long max, bool required = false)
    {
        string? raw = RawNumber(name);
        if (raw is null)
        {
            return required ? throw RpcError.MissingParam(name).ToException() : null;
        }

        if (!long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            throw RpcError.InvalidParams(name, $"'{name}' must be a whole number from {min} to {max}.").ToException();
        }

        return value;
    }

    /// <summary>A boolean: JSON true/false, or the text "true"/"false" (query strings).</summary>
    public bool? Bool(string name)
    {
        if (json is not null)
        {
            if (!TryGetJson(name, out var element) || element.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return element.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String when Text(name, element) is "true" => true,
                JsonValueKind.String when Text(name, element) is "false" => false,
                _ => throw RpcError.InvalidParams(name, $"'{name}' must be true or false.").ToException(),
            };
        }

        return text!.GetValueOrDefault(name) switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw RpcError.InvalidParams(name, $"'{name}' must be true or false.").ToException(),
        };
    }

    /// <summary>One of a fixed set of words.</summary>
    public T? Choice<T>(string name, FrozenDictionary<string, T> choices, bool required = false)
        where T : struct
    {
        string? word = String(name, required, maxLength: 64);
        if (word is null)
        {
            return null;
        }

        return choices.TryGetValue(word, out var value)
            ? value
            : throw RpcError.InvalidParams(name, $"'{name}' must be one of: {string.Join(", ", choices.Keys.Order(StringComparer.Ordinal))}; not '{word}'.").ToException();
    }

    /// <summary>An array of strings (JSON only; a query string cannot carry one).</summary>
    public IReadOnlyList<string> StringArray(string name, int maxItems, int maxLength = 256)
    {
        if (json is null || !TryGetJson(name, out var element))
        {
            throw RpcError.MissingParam(name).ToException();
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw RpcError.InvalidParams(name, $"'{name}' must be an array of strings.").ToException();
        }

        int count = element.GetArrayLength();
        if (count > maxItems)
        {
            throw RpcError.InvalidParams(name, $"'{name}' has more than {maxItems} items.").ToException();
        }

        var result = new List<string>(count);
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || Text(name, item) is not { } s || s.Length > maxLength)
            {
                throw RpcError.InvalidParams(name, $"'{name}' must be an array of strings of at most {maxLength} characters.").ToException();
            }

            result.Add(s);
        }

        return result;
    }

    /// <summary>
    /// The bytes of a JSON number, or of a string's content, when they are at most 64 ASCII
    /// characters with no escape: text that reads the same as bytes and as characters.
    /// </summary>
    private static bool PlainAscii(JsonElement element, out ReadOnlySpan<byte> ascii)
    {
        ascii = default;
        if (element.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
        {
            return false;
        }

        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        if (element.ValueKind == JsonValueKind.String)
        {
            raw = raw[1..^1]; // the quotes
        }

        if (raw.Length > 64 || raw.IndexOf((byte)'\\') >= 0 || !System.Text.Ascii.IsValid(raw))
        {
            return false;
        }

        ascii = raw;
        return true;
    }

    /// <summary>The exact text of a numeric parameter (JSON number or numeric string), or null.</summary>
    private string? RawNumber(string name)
    {
        if (json is null)
        {
            return text!.GetValueOrDefault(name);
        }

        if (!TryGetJson(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return element.ValueKind switch
        {
            JsonValueKind.Number => element.GetRawText(),
            JsonValueKind.String => Text(name, element),
            _ => throw RpcError.InvalidParams(name, $"'{name}' must be a number.").ToException(),
        };
    }

    /// <summary>
    /// A JSON string's text. JSON lets a string escape half of a UTF-16 surrogate pair
    /// (<c>"\ud800"</c>), which is no text at all: refused as a bad parameter, not left to throw.
    /// </summary>
    private static string? Text(string name, JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            throw RpcError.InvalidParams(name, $"'{name}' is not valid text: it escapes half of a UTF-16 surrogate pair.").ToException();
        }
    }
}
