namespace Clearhouse.Journal;

/// <summary>
/// Where each store lives under the venue's data directory (default <c>./data</c>):
/// <c>journal/</c> (segments, <c>journal/archive/</c>), <c>snapshots/</c> and <c>blocks/blocks.log</c>.
/// </summary>
public static class DataLayout
{
    public const string JournalDirectoryName = "journal";
    public const string SnapshotsDirectoryName = "snapshots";
    public const string BlocksDirectoryName = "blocks";

    public static string JournalDirectory(string dataDirectory) => Path.Combine(dataDirectory, JournalDirectoryName);

    public static string SnapshotsDirectory(string dataDirectory) => Path.Combine(dataDirectory, SnapshotsDirectoryName);

    public static string BlocksDirectory(string dataDirectory) => Path.Combine(dataDirectory, BlocksDirectoryName);
}
