namespace Clearhouse.Core.Numerics;

/// <summary>Exact conversion between decimals (used only at boundaries: parsing, display) and scaled integers.</summary>
internal static class Scaled
{
    public static bool TryToUnits(decimal value, long scale, out long units)
    {
        if (Math.Abs(value) > (decimal)long.MaxValue / scale)
        {
            units = 0;
            return false;
        }

        decimal scaled = value * scale;
        if (scaled != decimal.Truncate(scaled) || scaled > long.MaxValue || scaled < long.MinValue)
        {
            units = 0;
            return false;
        }

        units = (long)scaled;
        return true;
    }

    public static long ToUnits(decimal value, long scale, string typeName)
    {
        if (!TryToUnits(value, scale, out long units))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"{typeName} cannot represent {value} exactly at scale 1/{scale}.");
        }

        return units;
    }
}
