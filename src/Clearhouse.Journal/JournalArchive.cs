using Clearhouse.Journal.IO;

namespace Clearhouse.Journal;

/// <summary>
/// Retires journal segments a snapshot has made unnecessary for recovery. A segment "ends entirely
/// before" snapshot sequence S when the next segment starts at or below S + 1: every record in it is
/// then ≤ S and already reflected in the snapshot. The last segment is never touched (the writer
/// appends to it). Retired segments move to <c>archive/</c> inside the journal directory (kept for
/// full replay and audit) or are deleted.
/// </summary>
public static class JournalArchive
{
    public const string ArchiveDirectoryName = "archive";

    /// <summary>
    /// Moves (or, with <paramref name="delete"/>, deletes) every segment whose records are all
    /// ≤ <paramref name="snapshotSequence"/>, making the directory changes durable. Returns the
    /// original paths of the segments retired, oldest first.
    /// </summary>
    public static IReadOnlyList<string> RetireSegmentsBefore(string journalDirectory, long snapshotSequence, bool delete = false)
    {
        var segments = SegmentFiles.List(journalDirectory);
        var retired = new List<string>();
        var archive = Path.Combine(journalDirectory, ArchiveDirectoryName);
        for (var i = 0; i + 1 < segments.Count && segments[i + 1].FirstSequence <= snapshotSequence + 1; i++)
        {
            var path = segments[i].Path;
            if (delete)
            {
                File.Delete(path);
            }
            else
            {
                DirectorySync.Ensure(archive);
                File.Move(path, Path.Combine(archive, Path.GetFileName(path)), overwrite: false);
            }
            retired.Add(path);
        }
        if (retired.Count > 0)
        {
            if (!delete)
            {
                DirectorySync.Flush(archive);
            }
            DirectorySync.Flush(journalDirectory);
        }
        return retired;
    }
}
