using Clearhouse.Core.Merkle;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;

namespace Clearhouse.Cli;

/// <summary>
/// A venue's data directory as the CLI reads it, never writing to it (it may belong to a running
/// server): <c>journal/</c> (plus <c>journal/archive/</c>) and <c>blocks/blocks.log</c>
/// (<see cref="DataLayout"/>). A journal directory itself is accepted too; its blocks are then
/// looked for beside it.
/// </summary>
public sealed class VenueData
{
    private VenueData(string root, string journalDirectory, string blocksFile)
    {
        Root = root;
        JournalDirectory = journalDirectory;
        BlocksFile = blocksFile;
        ArchiveDirectory = Path.Combine(journalDirectory, JournalArchive.ArchiveDirectoryName);
    }

    public string Root { get; }

    public string JournalDirectory { get; }

    public string ArchiveDirectory { get; }

    public string BlocksFile { get; }

    /// <summary>Finds the journal and block log under <paramref name="path"/>; throws <see cref="CliException"/> when there is none.</summary>
    public static VenueData Open(string path)
    {
        var full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new CliException($"No such directory: '{full}'.");
        }

        var journal = DataLayout.JournalDirectory(full);
        if (Directory.Exists(journal))
        {
            return new VenueData(full, journal, Path.Combine(DataLayout.BlocksDirectory(full), BlockHeaderStore.FileName));
        }

        if (SegmentFiles.List(full).Count > 0)
        {
            var parent = Path.GetDirectoryName(full) ?? full;
            return new VenueData(parent, full, Path.Combine(DataLayout.BlocksDirectory(parent), BlockHeaderStore.FileName));
        }

        throw new CliException($"'{full}' holds no journal: expected a data directory with journal/ and blocks/, or a journal directory of *{SegmentFiles.Extension} files.");
    }

    /// <summary>
    /// The stored block headers in height order, decoded. A torn final header (a writer that
    /// crashed or is mid-append) is left out and reported in <paramref name="tornTail"/>; any other
    /// damage throws <see cref="JournalCorruptedException"/>.
    /// </summary>
    public IReadOnlyList<BlockHeader> ReadStoredHeaders(out string? tornTail)
    {
        tornTail = null;
        if (!File.Exists(BlocksFile))
        {
            return [];
        }

        var report = BlockHeaderStore.Recover(BlocksFile, truncateTornTail: false);
        if (report.TornTail is { } tail)
        {
            tornTail = $"'{BlocksFile}' ends in a torn header at byte offset {tail.Offset} (ignored; the server truncates it on start)";
        }

        var records = BlockHeaderStore.ReadAll(BlocksFile, report.LastFileLength);
        var headers = new List<BlockHeader>(records.Count);
        foreach (var record in records)
        {
            BlockHeader header;
            try
            {
                header = BlockHeader.Decode(record.Header);
            }
            catch (FormatException error)
            {
                throw new CliException($"The stored header of block {record.Height} in '{BlocksFile}' does not decode: {error.Message}", ExitCodes.CheckFailed);
            }

            if (header.Height != record.Height)
            {
                throw new CliException($"'{BlocksFile}' files a header of height {header.Height} under height {record.Height}.", ExitCodes.CheckFailed);
            }

            if (header.Height != headers.Count + 1)
            {
                throw new CliException($"'{BlocksFile}' has block {header.Height} where block {headers.Count + 1} should be.", ExitCodes.CheckFailed);
            }

            headers.Add(header);
        }

        return headers;
    }

    /// <summary>
    /// Validates the journal without modifying it (archive first, then live segments) and returns
    /// the directories to read in order with the last sequence to read from each. A torn final
    /// record is left out and described in <paramref name="tornTail"/>.
    /// </summary>
    public IReadOnlyList<(string Directory, long LastSequence)> ValidateJournal(out string? tornTail)
    {
        tornTail = null;
        var parts = new List<(string, long)>();
        if (SegmentFiles.List(ArchiveDirectory).Count > 0)
        {
            var archived = JournalReader.Recover(ArchiveDirectory, truncateTornTail: false);
            parts.Add((ArchiveDirectory, archived.LastSequence));
        }

        var live = JournalReader.Recover(JournalDirectory, truncateTornTail: false);
        if (live.TornTail is { } tail)
        {
            tornTail = $"'{tail.FilePath}' ends in a torn record at byte offset {tail.Offset} ({tail.DiscardedBytes} bytes, ignored; the server truncates it on start)";
        }

        parts.Add((JournalDirectory, live.LastSequence));
        return parts;
    }
}
