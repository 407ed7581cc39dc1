namespace Clearhouse.Journal.Framing;

/// <summary>
/// Validates one file of frames and applies the torn-tail rule to it (docs/durability.md,
/// "Recovery rules"). In the last file, zeros from a bad frame to the end of the file are the
/// writer's preallocation: the data ends there, nothing is cut or reported. Otherwise a bad frame
/// is a torn tail only when the file is the last of its log and no structurally valid frame
/// starts at any later byte offset of the file; then the file is cut back
/// to the end of the last good record and fsynced. Any other bad frame, a sequence that does not
/// increase, or a first record that contradicts the file name throws
/// <see cref="JournalCorruptedException"/> naming the file and offset.
/// </summary>
internal static class LogFileRecovery
{
    internal readonly record struct Result(long FirstSequence, long LastSequence, long RecordCount, long ValidLength, TornTail? Tail);

    /// <param name="path">The file.</param>
    /// <param name="previousSequence">Every record must have a greater sequence than this (and than the record before it).</param>
    /// <param name="expectedFirstSequence">The sequence the first record must carry (a segment's name), or null.</param>
    /// <param name="isLastFile">Whether the file is the last of its log, the only place a torn tail can be.</param>
    /// <param name="truncate">Cut a torn tail off (true) or only report it (false, read-only).</param>
    public static Result Scan(string path, long previousSequence, long? expectedFirstSequence, bool isLastFile, bool truncate)
    {
        var writable = isLastFile && truncate;
        using var handle = File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read,
            FileShare.Read, FileOptions.SequentialScan);
        var fileLength = RandomAccess.GetLength(handle);
        using var scanner = new FrameScanner(handle, fileLength, ownsFile: false);
        long first = 0, last = previousSequence, count = 0;
        while (true)
        {
            var defect = scanner.Next(out var atEnd, out var sequence, out _, out var offset);
            if (defect == FrameDefect.None)
            {
                if (atEnd)
                {
                    break;
                }
                if (count == 0 && expectedFirstSequence is { } expected && sequence != expected)
                {
                    throw new JournalCorruptedException(path, offset, FrameDefect.SegmentNameMismatch,
                        $"The file name promises first sequence {expected} but the first record has sequence {sequence}.");
                }
                if (sequence <= last)
                {
                    throw new JournalCorruptedException(path, offset, FrameDefect.SequenceNotIncreasing,
                        $"Record sequence {sequence} does not follow the previous sequence {last}.");
                }
                if (count == 0)
                {
                    first = sequence;
                }
                last = sequence;
                count++;
                continue;
            }

            if (isLastFile && scanner.AtZeroTail(defect))
            {
                // Zeros the writer preallocated past its last record: the end of the data, not damage.
                return Finish(first, last, previousSequence, count, offset);
            }
            if (!isLastFile)
            {
                throw new JournalCorruptedException(path, offset, defect,
                    "The file is not the last one of the log, so the damage cannot be a torn tail.");
            }
            var follower = FrameScanner.FindValidFrame(handle, fileLength, offset + 1);
            if (follower >= 0)
            {
                throw new JournalCorruptedException(path, offset, defect,
                    $"A valid record follows at byte offset {follower}, so the damage is not a torn tail.");
            }
            if (writable)
            {
                RandomAccess.SetLength(handle, offset);
                RandomAccess.FlushToDisk(handle);
            }
            var tail = new TornTail(path, offset, fileLength - offset, defect, Truncated: writable, FileRemoved: false);
            return new Result(first, count == 0 ? previousSequence : last, count, offset, tail);
        }
        return Finish(first, last, previousSequence, count, fileLength);

        Result Finish(long first, long last, long previousSequence, long count, long validLength)
        {
            if (count == 0 && !isLastFile)
            {
                throw new JournalCorruptedException(path, 0, FrameDefect.EmptySegment,
                    "A segment before the last one holds no record.");
            }
            if (writable)
            {
                // A process crash can leave written but unsynced records in the page cache. Recovery
                // hands them on as valid, so make them durable before anything is built on them.
                RandomAccess.FlushToDisk(handle);
            }
            return new Result(first, count == 0 ? previousSequence : last, count, validLength, null);
        }
    }
}
