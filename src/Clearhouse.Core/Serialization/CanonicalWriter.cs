using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Clearhouse.Core.Serialization;

/// <summary>
/// Writes the canonical binary encoding used for journal records, snapshots and Merkle leaves:
/// fixed-width little-endian integers and length-prefixed UTF-8 strings (length −1 for null).
/// The same values always give the same bytes, on every machine.
/// </summary>
public sealed class CanonicalWriter(IBufferWriter<byte> output)
{
    public void Byte(byte value)
    {
        var span = output.GetSpan(1);
        span[0] = value;
        output.Advance(1);
    }

    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public void Int(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    public void Long(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    public void String(string? value)
    {
        if (value is null)
        {
            Int(-1);
            return;
        }

        int length = System.Text.Encoding.UTF8.GetByteCount(value);
        Int(length);
        var span = output.GetSpan(length);
        System.Text.Encoding.UTF8.GetBytes(value, span);
        output.Advance(length);
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        Int(value.Length);
        value.CopyTo(output.GetSpan(value.Length));
        output.Advance(value.Length);
    }
}

/// <summary>
/// The same canonical encoding as <see cref="CanonicalWriter"/>, written straight into a span with
/// no allocation and no interface calls: for the engine thread's hot path (journal records). Every
/// method returns false, writing nothing further, once the span is too small; after a false the
/// written prefix is incomplete and must be discarded.
/// </summary>
public ref struct CanonicalSpanWriter(Span<byte> destination)
{
    private readonly Span<byte> destination = destination;
    private int position;

    /// <summary>Bytes written so far.</summary>
    public readonly int Written => position;

    public bool Byte(byte value)
    {
        if ((uint)position >= (uint)destination.Length)
        {
            return false;
        }

        destination[position++] = value;
        return true;
    }

    public bool Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public bool Int(int value)
    {
        if (!BinaryPrimitives.TryWriteInt32LittleEndian(destination[position..], value))
        {
            return false;
        }

        position += 4;
        return true;
    }

    public bool Long(long value)
    {
        if (!BinaryPrimitives.TryWriteInt64LittleEndian(destination[position..], value))
        {
            return false;
        }

        position += 8;
        return true;
    }

    /// <summary>Length-prefixed UTF-8 (−1 for null), as <see cref="CanonicalWriter.String"/>.</summary>
    public bool String(string? value)
    {
        if (value is null)
        {
            return Int(-1);
        }

        if (destination.Length - position < 4
            || !System.Text.Encoding.UTF8.TryGetBytes(value, destination[(position + 4)..], out int length))
        {
            return false;
        }

        BinaryPrimitives.WriteInt32LittleEndian(destination[position..], length);
        position += 4 + length;
        return true;
    }

    public bool Bytes(ReadOnlySpan<byte> value)
    {
        if (destination.Length - position < 4 + value.Length)
        {
            return false;
        }

        BinaryPrimitives.WriteInt32LittleEndian(destination[position..], value.Length);
        value.CopyTo(destination[(position + 4)..]);
        position += 4 + value.Length;
        return true;
    }
}

/// <summary>Reads what <see cref="CanonicalWriter"/> wrote; throws <see cref="FormatException"/> on truncated or malformed input.</summary>
public ref struct CanonicalReader(ReadOnlySpan<byte> input)
{
    private readonly ReadOnlySpan<byte> input = input;
    private int position;

    public readonly int Position => position;

    public readonly bool AtEnd => position == input.Length;

    public byte Byte() => Take(1)[0];

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw new FormatException($"Invalid boolean byte {b} at offset {position - 1}."),
    };

    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public string? String()
    {
        int length = Int();
        if (length == -1)
        {
            return null;
        }

        if (length < 0)
        {
            throw new FormatException($"Invalid string length {length} at offset {position - 4}.");
        }

        return System.Text.Encoding.UTF8.GetString(Take(length));
    }

    public string RequiredString() => String() ?? throw new FormatException($"Unexpected null string at offset {position}.");

    public ReadOnlySpan<byte> Bytes()
    {
        int length = Int();
        if (length < 0)
        {
            throw new FormatException($"Invalid byte length {length} at offset {position - 4}.");
        }

        return Take(length);
    }

    public readonly void EnsureEnd()
    {
        if (position != input.Length)
        {
            throw new FormatException($"{input.Length - position} unexpected trailing bytes at offset {position}.");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > input.Length - position)
        {
            throw new FormatException($"Input ends at offset {input.Length}; needed {count} more bytes at offset {position}.");
        }

        var slice = input.Slice(position, count);
        position += count;
        return slice;
    }
}
