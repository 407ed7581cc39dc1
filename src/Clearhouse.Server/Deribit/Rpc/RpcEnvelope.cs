using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>
/// One JSON-RPC 2.0 request as it arrived: its <c>id</c> (kept as raw JSON and echoed back
/// verbatim; null for a notification or a GET), the method name and the parameters.
/// </summary>
public sealed class RpcEnvelope
{
    /// <summary>Largest request accepted, in bytes, over HTTP and WebSocket alike.</summary>
    public const int MaxRequestBytes = 32 * 1024;

    /// <summary>Deepest nesting accepted (an envelope with params holding an array is depth 3).</summary>
    public const int MaxDepth = 8;

    private RpcEnvelope(byte[]? id, string method, RpcParams parameters)
    {
        Id = id;
        Method = method;
        Params = parameters;
    }

    /// <summary>The request's <c>id</c> as raw JSON (a number or a string), or null.</summary>
    public byte[]? Id { get; }

    public string Method { get; }

    public RpcParams Params { get; }

    public static RpcEnvelope Create(string method, RpcParams parameters, byte[]? id = null) => new(id, method, parameters);

    /// <summary>
    /// Parses a JSON-RPC request object. Refused, with the reason: anything over
    /// <see cref="MaxRequestBytes"/>, invalid JSON, a key repeated in any object (which of two
    /// values a parser keeps differs between parsers, so neither is trusted), a batch (an array),
    /// a missing or non-string method, an id that is not a number or string, positional params.
    /// When the id could be read before the problem was found it is returned in <paramref name="id"/>,
    /// so that the error answer carries it. With <paramref name="methods"/>, a method name the table
    /// knows is taken from it instead of being allocated.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> utf8, out RpcEnvelope? envelope, out byte[]? id, out RpcError? error, RpcMethodTable? methods = null)
    {
        envelope = null;
        id = null;
        error = null;
        if (utf8.Length > MaxRequestBytes)
        {
            error = RpcError.RequestTooLarge(MaxRequestBytes);
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            error = RpcError.ParseError($"The request is not valid JSON: {ex.Message}");
            return false;
        }

        using (document)
        {
            try
            {
                return TryRead(document.RootElement, utf8.Span, methods, out envelope, ref id, out error);
            }
            catch (InvalidOperationException)
            {
                // JSON lets a string escape half of a UTF-16 surrogate pair ("\ud800"), which is no
                // text: reading such a key, method or version throws. Refused like any bad request.
                envelope = null;
                error = RpcError.InvalidRequest("The request holds a string that is not valid text: it escapes half of a UTF-16 surrogate pair.");
                return false;
            }
        }
    }

    private static bool TryRead(JsonElement root, ReadOnlySpan<byte> utf8, RpcMethodTable? methods, out RpcEnvelope? envelope, ref byte[]? id, out RpcError? error)
    {
        envelope = null;
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = RpcError.InvalidRequest(root.ValueKind == JsonValueKind.Array
                ? "Batches are not supported: send one JSON-RPC request object at a time."
                : "The request must be a JSON-RPC object.");
            return false;
        }

        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.Number or JsonValueKind.String)
        {
            id = JsonMarshal.GetRawUtf8Value(idElement).ToArray();
        }

        if (DuplicateKeys.Find(utf8) is { } duplicate)
        {
            error = RpcError.InvalidRequest($"The key '{duplicate}' appears more than once in one object.");
            return false;
        }

        if (root.TryGetProperty("id", out idElement) && idElement.ValueKind is not (JsonValueKind.Number or JsonValueKind.String or JsonValueKind.Null))
        {
            error = RpcError.InvalidRequest("'id' must be a number or a string.");
            return false;
        }

        if (id is not null && id.Length > 64)
        {
            id = null;
            error = RpcError.InvalidRequest("'id' is longer than 64 characters.");
            return false;
        }

        if (root.TryGetProperty("jsonrpc", out var version) && (version.ValueKind != JsonValueKind.String || version.GetString() != "2.0"))
        {
            error = RpcError.InvalidRequest("'jsonrpc' must be \"2.0\".");
            return false;
        }

        if (!root.TryGetProperty("method", out var methodElement) || methodElement.ValueKind != JsonValueKind.String
            || (KnownMethod(methods, methodElement) ?? methodElement.GetString()) is not { Length: > 0 and <= 128 } method)
        {
            error = RpcError.InvalidRequest("'method' must be a method name such as \"public/get_time\".");
            return false;
        }

        var parameters = RpcParams.Empty;
        if (root.TryGetProperty("params", out var paramsElement))
        {
            if (paramsElement.ValueKind == JsonValueKind.Object)
            {
                // One copy of the params object (not one per value): its elements outlive the request's document.
                var copy = paramsElement.Clone();
                var values = new KeyValuePair<string, JsonElement>[copy.GetPropertyCount()];
                int count = 0;
                foreach (var property in copy.EnumerateObject())
                {
                    values[count++] = new(ParameterNames.Of(property), property.Value);
                }

                parameters = RpcParams.FromJson(values);
            }
            else if (paramsElement.ValueKind != JsonValueKind.Null)
            {
                error = RpcError.InvalidRequest("'params' must be an object of named parameters.");
                return false;
            }
        }

        envelope = new RpcEnvelope(id, method, parameters);
        return true;
    }

    private static string? KnownMethod(RpcMethodTable? methods, JsonElement method)
    {
        if (methods is null)
        {
            return null;
        }

        var raw = JsonMarshal.GetRawUtf8Value(method); // the string with its quotes
        return raw.Length >= 2 && raw.IndexOf((byte)'\\') < 0 ? methods.KnownName(raw[1..^1]) : null;
    }
}

/// <summary>Writes answers and notifications in Deribit's envelope.</summary>
public static class RpcResponse
{
    /// <summary><c>{"jsonrpc":"2.0","id":…,"result":…,"usIn":…,"usOut":…,"usDiff":…,"testnet":false}</c>.</summary>
    public static void WriteResult(IBufferWriter<byte> output, byte[]? id, object? result, long usIn, long usOut)
    {
        var writer = WriterFor(output);
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, "2.0"u8);
        WriteId(writer, id);
        writer.WritePropertyName("result"u8);
        JsonSerializer.Serialize(writer, result, result?.GetType() ?? typeof(object), DeribitJson.Options);
        WriteTimes(writer, usIn, usOut);
        writer.WriteEndObject();
        Done(writer);
    }

    /// <summary><c>{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data":{"reason":…,"param":…}},…}</c>.</summary>
    public static void WriteError(IBufferWriter<byte> output, byte[]? id, RpcError error, long usIn, long usOut)
    {
        var writer = WriterFor(output);
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, "2.0"u8);
        WriteId(writer, id);
        writer.WriteStartObject("error"u8);
        writer.WriteNumber("code"u8, error.Code);
        writer.WriteString("message"u8, error.Message);
        if (error.Reason is not null || error.Param is not null)
        {
            writer.WriteStartObject("data"u8);
            if (error.Reason is not null)
            {
                writer.WriteString("reason"u8, error.Reason);
            }

            if (error.Param is not null)
            {
                writer.WriteString("param"u8, error.Param);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        WriteTimes(writer, usIn, usOut);
        writer.WriteEndObject();
        Done(writer);
    }

    /// <summary>A subscription notification: <c>{"jsonrpc":"2.0","method":"subscription","params":{"channel":…,"data":…}}</c>.</summary>
    public static void WriteNotification(IBufferWriter<byte> output, string channel, object data)
    {
        var writer = WriterFor(output);
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, "2.0"u8);
        writer.WriteString("method"u8, "subscription"u8);
        writer.WriteStartObject("params"u8);
        writer.WriteString("channel"u8, channel);
        writer.WritePropertyName("data"u8);
        JsonSerializer.Serialize(writer, data, data.GetType(), DeribitJson.Options);
        writer.WriteEndObject();
        writer.WriteEndObject();
        Done(writer);
    }

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static Utf8JsonWriter? cachedWriter;

    /// <summary>A writer onto <paramref name="output"/>, one per thread and reused (one allocation less per answer); the reset also clears whatever a failed write left behind.</summary>
    private static Utf8JsonWriter WriterFor(IBufferWriter<byte> output)
    {
        if (cachedWriter is { } writer)
        {
            writer.Reset(output);
            return writer;
        }

        return cachedWriter = new Utf8JsonWriter(output, WriterOptions);
    }

    /// <summary>Flushes into the output, then lets go of it (a large answer's buffer is not kept alive by the cached writer).</summary>
    private static void Done(Utf8JsonWriter writer)
    {
        writer.Flush();
        writer.Reset(Detached);
    }

    private static readonly ArrayBufferWriter<byte> Detached = new(1);

    private static void WriteId(Utf8JsonWriter writer, byte[]? id)
    {
        if (id is not null)
        {
            writer.WritePropertyName("id"u8);
            writer.WriteRawValue(id, skipInputValidation: true);
        }
    }

    private static void WriteTimes(Utf8JsonWriter writer, long usIn, long usOut)
    {
        writer.WriteNumber("usIn"u8, usIn);
        writer.WriteNumber("usOut"u8, usOut);
        writer.WriteNumber("usDiff"u8, usOut - usIn);
        writer.WriteBoolean("testnet"u8, false);
    }
}

/// <summary>
/// Serializer settings of every Deribit answer: snake_case names, nulls left out, decimals exact.
/// The order answer, sent once per order, is serialized by code generated at build time
/// (<see cref="DeribitOrderJson"/>); every other answer by reflection, as before.
/// </summary>
public static class DeribitJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        // No Encoder here: answers are written through RpcResponse's Utf8JsonWriter, whose own
        // options set the escaping; and an encoder in these options would keep the generated
        // order serializer off its fast path.
        TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(
            DeribitOrderJson.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()),
    };
}

/// <summary>
/// Build-time serialization of the answers of order entry (<c>private/buy</c>, <c>sell</c>,
/// <c>edit</c>), with the same settings as <see cref="DeribitJson.Options"/>: it writes the same
/// bytes as the reflection serializer (tested), without its per-call bookkeeping.
/// </summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(Trading.DeribitOrderResult))]
internal sealed partial class DeribitOrderJson : System.Text.Json.Serialization.JsonSerializerContext;
