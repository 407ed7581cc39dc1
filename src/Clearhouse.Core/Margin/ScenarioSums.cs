using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Clearhouse.Core.Margin;

/// <summary>
/// The inner loops of portfolio margin over a row of scenarios. The vector path does the same
/// IEEE operations lane by lane as the scalar path (a multiply, a compare-select, an add; no fused
/// multiply-add, no horizontal sum), so both give the same bits; the tests check it.
/// </summary>
public static class ScenarioSums
{
    /// <summary>
    /// <c>worst[s] += min(longSide × row[s], shortSide × row[s])</c> and <c>held[s] += size × row[s]</c>:
    /// each instrument's open orders fill on whichever side hurts in each scenario.
    /// </summary>
    public static void AddWorstSide(Span<double> worst, Span<double> held, ReadOnlySpan<double> row, double longSide, double shortSide, double size)
    {
        int n = row.Length;
        if (worst.Length < n || held.Length < n)
        {
            throw new ArgumentException("Accumulators must be as long as the row.");
        }

        int s = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double w = ref MemoryMarshal.GetReference(worst);
            ref double h = ref MemoryMarshal.GetReference(held);
            ref double r = ref MemoryMarshal.GetReference(row);
            var vLong = Vector256.Create(longSide);
            var vShort = Vector256.Create(shortSide);
            var vSize = Vector256.Create(size);
            for (; s <= n - Vector256<double>.Count; s += Vector256<double>.Count)
            {
                var g = Vector256.LoadUnsafe(ref r, (nuint)s);
                var a = vLong * g;
                var b = vShort * g;
                var min = Vector256.ConditionalSelect(Vector256.LessThan(a, b), a, b);
                (Vector256.LoadUnsafe(ref w, (nuint)s) + min).StoreUnsafe(ref w, (nuint)s);
                (Vector256.LoadUnsafe(ref h, (nuint)s) + (vSize * g)).StoreUnsafe(ref h, (nuint)s);
            }
        }

        AddWorstSideScalar(worst, held, row, longSide, shortSide, size, s);
    }

    /// <summary>The scalar reference of <see cref="AddWorstSide"/>, from element <paramref name="start"/>.</summary>
    public static void AddWorstSideScalar(Span<double> worst, Span<double> held, ReadOnlySpan<double> row, double longSide, double shortSide, double size, int start = 0)
    {
        for (int s = start; s < row.Length; s++)
        {
            double g = row[s];
            double a = longSide * g;
            double b = shortSide * g;
            worst[s] += a < b ? a : b;
            held[s] += size * g;
        }
    }

    /// <summary>
    /// Index of the smallest element (the first on ties) and its value; −1 and +∞ for an empty row.
    /// A NaN wins (and is returned), so that a figure the model could not compute is never skipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ArgMin(ReadOnlySpan<double> row, out double min)
    {
        int at = -1;
        min = double.PositiveInfinity;
        for (int s = 0; s < row.Length; s++)
        {
            if (double.IsNaN(row[s]))
            {
                min = double.NaN;
                return s;
            }

            if (row[s] < min)
            {
                min = row[s];
                at = s;
            }
        }

        return at;
    }
}
