using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Clearhouse.Server.Deribit.Rpc;

/// <summary>
/// Finds a key repeated within one JSON object, in one pass over the request's bytes. Every request
/// goes through it, so it allocates nothing for the usual small objects: a key is kept as a slice
/// of the request (or, when written with escapes, unescaped into a per-thread scratch buffer) and
/// compared with the keys seen so far in the same object. An object with many keys switches to a
/// hash set, so that a 32 KiB body of distinct keys costs linear time, not quadratic.
/// </summary>
internal static class DuplicateKeys
{
    /// <summary>Up to this many keys in one object are compared pairwise; beyond it, by hash set.</summary>
    private const int LinearLimit = 16;

    [ThreadStatic]
    private static Scratch? scratch;

    /// <summary>
    /// The first key that appears twice in one object, unescaped, or null. <paramref name="utf8"/>
    /// must be valid JSON no deeper than <see cref="RpcEnvelope.MaxDepth"/> (already parsed once).
    /// </summary>
    public static string? Find(ReadOnlySpan<byte> utf8)
    {
        var state = scratch ??= new Scratch();
        state.Reset();
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = RpcEnvelope.MaxDepth });
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    state.OpenObject();
                    break;
                case JsonTokenType.EndObject:
                    state.CloseObject();
                    break;
                case JsonTokenType.PropertyName:
                    if (state.AddKey(utf8, ref reader) is { } duplicate)
                    {
                        return duplicate;
                    }

                    break;
            }
        }

        return null;
    }

    private sealed class Scratch
    {
        // A key: a slice of the request (Escaped false) or of `unescaped` (true).
        private readonly record struct Key(int Start, int Length, bool Escaped);

        private Key[] keys = new Key[64];
        private int keyCount;
        private byte[] unescaped = new byte[256];
        private int unescapedLength;

        // Per open object (innermost last): where its keys start, and its hash set once it has many.
        private readonly int[] firstKey = new int[RpcEnvelope.MaxDepth + 1];
        private readonly int[] firstUnescaped = new int[RpcEnvelope.MaxDepth + 1];
        private readonly HashSet<string>?[] sets = new HashSet<string>?[RpcEnvelope.MaxDepth + 1];
        private int depth;

        public void Reset()
        {
            keyCount = 0;
            unescapedLength = 0;
            depth = 0;
            Array.Clear(sets);
        }

        public void OpenObject()
        {
            firstKey[depth] = keyCount;
            firstUnescaped[depth] = unescapedLength;
            sets[depth] = null;
            depth++;
        }

        public void CloseObject()
        {
            // The object's keys are the last ones kept: drop them (a sibling object may reuse them).
            depth--;
            keyCount = firstKey[depth];
            unescapedLength = firstUnescaped[depth];
            sets[depth] = null;
        }

        public string? AddKey(ReadOnlySpan<byte> utf8, ref Utf8JsonReader reader)
        {
            Key key;
            if (!reader.ValueIsEscaped)
            {
                key = new Key(checked((int)reader.TokenStartIndex) + 1, reader.ValueSpan.Length, Escaped: false);
            }
            else
            {
                if (unescaped.Length - unescapedLength < reader.ValueSpan.Length)
                {
                    Array.Resize(ref unescaped, Math.Max(unescaped.Length * 2, unescapedLength + reader.ValueSpan.Length));
                }

                int written = reader.CopyString(unescaped.AsSpan(unescapedLength));
                key = new Key(unescapedLength, written, Escaped: true);
                unescapedLength += written;
            }

            var name = Bytes(utf8, key);
            int level = depth - 1;
            int count = keyCount - firstKey[level];
            if (sets[level] is { } set)
            {
                return set.Add(Encoding.UTF8.GetString(name)) ? Keep(key) : Encoding.UTF8.GetString(name);
            }

            for (int i = firstKey[level]; i < keyCount; i++)
            {
                if (Bytes(utf8, keys[i]).SequenceEqual(name))
                {
                    return Encoding.UTF8.GetString(name);
                }
            }

            if (count + 1 > LinearLimit)
            {
                set = new HashSet<string>(StringComparer.Ordinal);
                for (int i = firstKey[level]; i < keyCount; i++)
                {
                    set.Add(Encoding.UTF8.GetString(Bytes(utf8, keys[i])));
                }

                set.Add(Encoding.UTF8.GetString(name));
                sets[level] = set;
            }

            return Keep(key);
        }

        private string? Keep(Key key)
        {
            if (keyCount == keys.Length)
            {
                Array.Resize(ref keys, keys.Length * 2);
            }

            keys[keyCount++] = key;
            return null;
        }

        private ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> utf8, Key key) =>
            key.Escaped ? unescaped.AsSpan(key.Start, key.Length) : utf8.Slice(key.Start, key.Length);
    }
}

/// <summary>
/// The parameter names of Deribit's methods as shared strings: a request's parameter names are
/// looked up here rather than allocated (several strings per order otherwise). Any other name is
/// allocated as usual.
/// </summary>
internal static class ParameterNames
{
    private static readonly FrozenSet<string> Known = new[]
    {
        "access_token", "advanced", "amount", "channels", "client_id", "client_secret", "contracts", "count",
        "currency", "data", "depth", "detailed", "end_seq", "end_timestamp", "expired", "extended",
        "grant_type", "historical", "include_old", "include_unfilled", "index_name", "instrument_name",
        "interval", "invalidate_token", "kind", "label", "max_show", "mmp", "nonce", "offset", "order_id",
        "post_only", "price", "reduce_only", "refresh_token", "reject_post_only", "scope", "signature",
        "sorting", "start_seq", "start_timestamp", "state", "subaccount_id", "time_in_force", "timestamp",
        "trigger", "trigger_offset", "trigger_price", "type", "valid_until",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> ByChars = Known.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The property's name, shared when it is a known parameter name written without escapes.</summary>
    public static string Of(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Length <= 32 && raw.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[32];
            if (Encoding.UTF8.TryGetChars(raw, chars, out int length) && ByChars.TryGetValue(chars[..length], out string? known))
            {
                return known;
            }
        }

        return property.Name;
    }
}
