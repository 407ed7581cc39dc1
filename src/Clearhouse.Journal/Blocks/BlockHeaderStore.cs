using Clearhouse.Journal.Framing;
using Clearhouse.Journal.IO;

namespace Clearhouse.Journal.Blocks;

/// <summary>
/// The append-only log of sealed block headers, <c>blocks.log</c> in its directory, keyed by block
/// height. Headers are opaque bytes framed exactly like journal records (height in the sequence
/// field). Each <see cref="Append"/> writes and fsyncs synchronously: blocks are sealed every few
/// milliseconds, not per command, so there is no group commit. Opening recovers the file with the
/// journal's torn-tail rule; a write or fsync failure goes to the fatal handler, like the journal.
/// </summary>
public sealed class BlockHeaderStore : IDisposable
{
    public const string FileName = "blocks.log";

    private readonly StorageFile _file;
    private readonly Action<Exception> _fatalHandler;
    private readonly System.IO.Hashing.Crc32 _hasher = RecordFormat.CreateHasher();
    private byte[] _frame = new byte[1024];
    private long _length;
    private JournalFailedException? _failure;

    private BlockHeaderStore(string path, RecoveryReport recovery, Action<Exception> fatalHandler, Func<string, FileMode, StorageFile> openFile)
    {
        Path = path;
        Recovery = recovery;
        LastHeight = recovery.LastSequence;
        _length = recovery.LastFileLength;
        _fatalHandler = fatalHandler;
        _file = openFile(path, FileMode.OpenOrCreate);
    }

    /// <summary>
    /// Opens <c>blocks.log</c> in <paramref name="directory"/> (creating both if missing), truncating a
    /// torn final header; other damage throws <see cref="JournalCorruptedException"/>.
    /// </summary>
    /// <param name="directory">The blocks directory (e.g. <c>data/blocks</c>).</param>
    /// <param name="fatalHandler">Called on a write or fsync failure; default <see cref="DurabilityFailure.StopProcess"/>.</param>
    public static BlockHeaderStore Open(string directory, Action<Exception>? fatalHandler = null) =>
        Open(directory, fatalHandler, StorageFile.Open);

    internal static BlockHeaderStore Open(string directory, Action<Exception>? fatalHandler, Func<string, FileMode, StorageFile> openFile)
    {
        var full = System.IO.Path.GetFullPath(directory);
        DirectorySync.Ensure(full);
        var path = System.IO.Path.Combine(full, FileName);
        var created = !File.Exists(path);
        var recovery = created
            ? new RecoveryReport(path, 0, 0, -1, 0, 0, null, path, 0)
            : Recover(path, truncateTornTail: true);
        var store = new BlockHeaderStore(path, recovery, fatalHandler ?? DurabilityFailure.StopProcess, openFile);
        if (created)
        {
            DirectorySync.Flush(full);
        }
        return store;
    }

    /// <summary>
    /// Validates a block log file and applies the torn-tail rule (read-only when
    /// <paramref name="truncateTornTail"/> is false). Heights must strictly increase from 0.
    /// </summary>
    public static RecoveryReport Recover(string path, bool truncateTornTail = true)
    {
        var result = LogFileRecovery.Scan(path, previousSequence: -1, expectedFirstSequence: null, isLastFile: true, truncateTornTail);
        return new RecoveryReport(System.IO.Path.GetFullPath(path), 1, result.RecordCount == 0 ? 0 : result.FirstSequence,
            result.LastSequence, result.RecordCount, result.ValidLength, result.Tail, path, result.ValidLength);
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>What recovery found when the store was opened.</summary>
    public RecoveryReport Recovery { get; }

    /// <summary>Height of the last header appended; -1 when the log is empty.</summary>
    public long LastHeight { get; private set; }

    /// <summary>
    /// Appends the header of block <paramref name="height"/> (which must exceed <see cref="LastHeight"/>)
    /// and fsyncs before returning.
    /// </summary>
    public void Append(long height, ReadOnlySpan<byte> header)
    {
        if (_failure is not null)
        {
            throw new JournalFailedException("The block header log has failed and accepts nothing more.", _failure);
        }
        if (height <= LastHeight)
        {
            throw new ArgumentOutOfRangeException(nameof(height), height,
                $"Block heights must strictly increase: {height} is not greater than {LastHeight}.");
        }
        if ((uint)(header.Length - 1) >= RecordFormat.MaxPayloadLength)
        {
            throw new ArgumentOutOfRangeException(nameof(header), header.Length,
                $"A block header must be 1 to {RecordFormat.MaxPayloadLength} bytes.");
        }
        var size = RecordFormat.HeaderSize + header.Length;
        if (_frame.Length < size)
        {
            _frame = new byte[Math.Max(size, _frame.Length * 2)];
        }
        var frame = _frame.AsSpan(0, size);
        RecordFormat.WriteHeader(frame, header.Length, height);
        header.CopyTo(frame[RecordFormat.HeaderSize..]);
        RecordFormat.Seal(_hasher, frame);
        try
        {
            _file.Write(frame, _length);
            _file.FlushToDisk();
        }
        catch (Exception error)
        {
            _failure = new JournalFailedException($"Block header write or fsync failed in '{Path}' at height {height}: {error.Message}", error);
            _fatalHandler(_failure);
            throw _failure;
        }
        _length += size;
        LastHeight = height;
    }

    /// <summary>Reads every header in height order (each payload copied into its own array).</summary>
    public IReadOnlyList<BlockHeaderRecord> ReadAll() => ReadAll(Path);

    /// <summary>
    /// Reads every header of a block log file without modifying it; any bad frame throws
    /// <see cref="JournalCorruptedException"/> (open a store first to truncate a torn tail).
    /// </summary>
    public static IReadOnlyList<BlockHeaderRecord> ReadAll(string path) => ReadAll(path, long.MaxValue);

    /// <summary>
    /// Reads the headers in the first <paramref name="length"/> bytes of a block log file without
    /// modifying it: pass <see cref="RecoveryReport.LastFileLength"/> from a read-only
    /// <see cref="Recover"/> to skip a torn final header of a crashed or live writer.
    /// </summary>
    public static IReadOnlyList<BlockHeaderRecord> ReadAll(string path, long length)
    {
        var headers = new List<BlockHeaderRecord>();
        if (!File.Exists(path))
        {
            return headers;
        }
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        using var scanner = new FrameScanner(handle, Math.Min(length, RandomAccess.GetLength(handle)), ownsFile: false);
        var previous = -1L;
        while (true)
        {
            var defect = scanner.Next(out var atEnd, out var height, out var payload, out var offset);
            if (defect != FrameDefect.None)
            {
                throw new JournalCorruptedException(path, offset, defect, "Found while reading the block header log.");
            }
            if (atEnd)
            {
                return headers;
            }
            if (height <= previous)
            {
                throw new JournalCorruptedException(path, offset, FrameDefect.SequenceNotIncreasing,
                    $"Block height {height} does not follow the previous height {previous}.");
            }
            previous = height;
            headers.Add(new BlockHeaderRecord(height, payload.ToArray()));
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>One stored block header: its height and its opaque bytes.</summary>
public readonly record struct BlockHeaderRecord(long Height, byte[] Header);
