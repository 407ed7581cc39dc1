using System.Text.Json;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Api;

/// <summary>
/// Reads and validates the fields of one JSON request body (or query string) and keeps the first
/// error. Getters return a default on error, so a handler reads every field and then checks
/// <see cref="Error"/> once. Decimals are read from the token's exact text (a JSON number or a
/// string) by <see cref="DecimalText"/> and converted with the Core types' exact
/// <c>TryFromDecimal</c>; nothing here rounds.
/// </summary>
internal sealed class RequestFields
{
    private readonly Dictionary<string, JsonElement> fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> read = new(StringComparer.Ordinal);

    private RequestFields()
    {
    }

    public ApiError? Error { get; private set; }

    /// <summary>Largest request body accepted, in bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Parses a request body; an empty body counts as <c>{}</c>.</summary>
    public static async Task<RequestFields> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var result = new RequestFields();
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > MaxBodyBytes)
            {
                result.Fail(GatewayReason.MalformedRequest, null, $"The request body is larger than {MaxBodyBytes} bytes.");
                return result;
            }
        }

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return result;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                result.Fail(GatewayReason.MalformedRequest, null, "The request body must be a JSON object.");
                return result;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!result.fields.TryAdd(property.Name, property.Value.Clone()))
                {
                    result.Fail(GatewayReason.MalformedRequest, property.Name, $"The field '{property.Name}' appears more than once.");
                }
            }
        }
        catch (JsonException ex)
        {
            result.Fail(GatewayReason.MalformedRequest, null, $"The request body is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException)
        {
            // A field name escaping half of a UTF-16 surrogate pair ("\ud800"): valid JSON, but no text.
            result.Fail(GatewayReason.MalformedRequest, null, NotText("A field name"));
        }

        return result;
    }

    /// <summary>Wraps query-string values as string fields.</summary>
    public static RequestFields FromQuery(IQueryCollection query)
    {
        var result = new RequestFields();
        foreach (var (key, value) in query)
        {
            result.fields[key] = JsonSerializer.SerializeToElement(value.ToString());
        }

        return result;
    }

    public void Fail(GatewayReason reason, string? field, string message) => Error ??= ApiError.From(reason, field, message);

    /// <summary>A string field's text; null (and the request refused) when it escapes half of a UTF-16 surrogate pair, which is valid JSON but no text.</summary>
    private string? Text(string name, JsonElement e)
    {
        try
        {
            return e.GetString();
        }
        catch (InvalidOperationException)
        {
            Fail(GatewayReason.InvalidValue, name, NotText($"'{name}'"));
            return null;
        }
    }

    private static string NotText(string what) => $"{what} is not valid text: it escapes half of a UTF-16 surrogate pair (\\ud800 to \\udfff without its other half).";

    /// <summary>Refuses fields nobody read; call after every getter.</summary>
    public void RejectUnknownFields()
    {
        foreach (string name in fields.Keys)
        {
            if (!read.Contains(name))
            {
                Fail(GatewayReason.UnknownField, name, $"Unknown field '{name}'.");
            }
        }
    }

    public bool Has(string name) => fields.TryGetValue(name, out var e) && e.ValueKind != JsonValueKind.Null;

    public string? String(string name, bool required)
    {
        if (!TryGet(name, required, out var e))
        {
            return null;
        }

        if (e.ValueKind != JsonValueKind.String)
        {
            Fail(GatewayReason.InvalidValue, name, $"'{name}' must be a string.");
            return null;
        }

        return Text(name, e);
    }

    public bool Bool(string name, bool defaultValue = false)
    {
        if (!TryGet(name, required: false, out var e))
        {
            return defaultValue;
        }

        switch (e.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String when bool.TryParse(Text(name, e), out bool b):
                return b;
            default:
                Fail(GatewayReason.InvalidValue, name, $"'{name}' must be true or false.");
                return defaultValue;
        }
    }

    /// <summary>A positive 32-bit id, as a JSON integer or a string of digits.</summary>
    public int Id32(string name) => (int)Integer(name, 1, int.MaxValue);

    /// <summary>A positive 64-bit id, as a JSON integer or a string of digits.</summary>
    public long Id64(string name) => Integer(name, 1, long.MaxValue);

    public long Integer(string name, long min, long max, long? defaultValue = null)
    {
        if (!TryGet(name, required: defaultValue is null, out var e))
        {
            return defaultValue ?? 0;
        }

        string? text = e.ValueKind switch
        {
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.String => Text(name, e),
            _ => null,
        };
        decimal value = 0;
        var reason = GatewayReason.InvalidValue;
        if (text is null || !DecimalText.TryParse(text, 0, out value, out reason))
        {
            Fail(reason == GatewayReason.NumberOutOfRange ? reason : GatewayReason.InvalidValue, name, $"'{name}' must be a whole number.");
            return defaultValue ?? 0;
        }

        if (value < min || value > max)
        {
            Fail(GatewayReason.NumberOutOfRange, name, $"'{name}' must be between {min} and {max}.");
            return defaultValue ?? 0;
        }

        return (long)value;
    }

    /// <summary>One of a fixed set of lower-case words, e.g. <c>buy</c> or <c>sell</c>.</summary>
    public T Choice<T>(string name, IReadOnlyDictionary<string, T> choices, T defaultValue, bool required = false)
    {
        string? text = String(name, required);
        if (text is null)
        {
            return defaultValue;
        }

        if (choices.TryGetValue(text, out var value))
        {
            return value;
        }

        Fail(GatewayReason.InvalidValue, name, $"'{name}' must be one of: {string.Join(", ", choices.Keys)}.");
        return defaultValue;
    }

    public Price Price(string name, bool required) =>
        Decimal(name, required, Core.Numerics.Price.Decimals, "a price") is { } d
            ? (Core.Numerics.Price.TryFromDecimal(d, out var price) ? price : OutOfRange<Price>(name))
            : default;

    public Quantity Quantity(string name, bool required) =>
        Decimal(name, required, Core.Numerics.Quantity.Decimals, "an amount") is { } d
            ? (Core.Numerics.Quantity.TryFromDecimal(d, out var quantity) ? quantity : OutOfRange<Quantity>(name))
            : default;

    public Money Money(string name, bool required) =>
        Decimal(name, required, Core.Numerics.Money.Decimals, "an amount of USDC") is { } d
            ? (Core.Numerics.Money.TryFromDecimal(d, out var money) ? money : OutOfRange<Money>(name))
            : default;

    private decimal? Decimal(string name, bool required, int maxDecimals, string what)
    {
        if (!TryGet(name, required, out var e))
        {
            return null;
        }

        string? text = e.ValueKind switch
        {
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.String => Text(name, e),
            _ => null,
        };
        if (text is null)
        {
            Fail(GatewayReason.MalformedDecimal, name, $"'{name}' must be {what}, as a JSON number or a decimal string such as \"95000.5\".");
            return null;
        }

        if (DecimalText.TryParse(text, maxDecimals, out decimal value, out var reason))
        {
            return value;
        }

        string shown = text.Length > 40 ? text[..40] + "…" : text;
        Fail(reason, name, reason switch
        {
            GatewayReason.TooManyDecimals => $"'{name}' = {shown} has more than {maxDecimals} decimal places; the venue keeps {what} to {maxDecimals} decimals and never rounds.",
            GatewayReason.NumberOutOfRange => $"'{name}' = {shown} is too large to be {what}.",
            _ => $"'{name}' = \"{shown}\" is not a decimal number (NaN, infinity, spaces and separators are not accepted).",
        });
        return null;
    }

    private T OutOfRange<T>(string name)
    {
        Fail(GatewayReason.NumberOutOfRange, name, $"'{name}' is outside the range the venue can represent.");
        return default!;
    }

    private bool TryGet(string name, bool required, out JsonElement element)
    {
        read.Add(name);
        if (fields.TryGetValue(name, out element) && element.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        if (required)
        {
            Fail(GatewayReason.MissingField, name, $"'{name}' is required.");
        }

        return false;
    }
}
