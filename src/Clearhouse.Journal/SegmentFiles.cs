using System.Globalization;

namespace Clearhouse.Journal;

/// <summary>
/// Names and lists journal segment files: <c>{firstSequence:D20}.seg</c>, so that lexical order is
/// sequence order and a reader can skip whole segments by name. Other files are ignored.
/// </summary>
public static class SegmentFiles
{
    public const string Extension = ".seg";

    private const int DigitCount = 20;

    /// <summary>File name of the segment whose first record has <paramref name="firstSequence"/>.</summary>
    public static string FileName(long firstSequence) =>
        firstSequence.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    /// <summary>Parses a segment file name; false for anything that is not exactly 20 digits + ".seg".</summary>
    public static bool TryParse(string fileName, out long firstSequence)
    {
        firstSequence = 0;
        if (fileName.Length != DigitCount + Extension.Length || !fileName.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }
        var digits = fileName.AsSpan(0, DigitCount);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out firstSequence);
    }

    /// <summary>The segments in <paramref name="directory"/>, ordered by first sequence (empty when the directory is missing).</summary>
    public static IReadOnlyList<Segment> List(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var segments = new List<Segment>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            if (TryParse(Path.GetFileName(path), out var first))
            {
                segments.Add(new Segment(first, path));
            }
        }
        segments.Sort(static (a, b) => a.FirstSequence.CompareTo(b.FirstSequence));
        return segments;
    }

    /// <summary>One segment file: the sequence its name promises for its first record, and its path.</summary>
    public readonly record struct Segment(long FirstSequence, string Path);
}
