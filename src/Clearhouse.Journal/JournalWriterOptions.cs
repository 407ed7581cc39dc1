using Clearhouse.Journal.IO;

namespace Clearhouse.Journal;

/// <summary>Settings for a <see cref="JournalWriter"/>; the defaults suit the venue's sequencer.</summary>
public sealed class JournalWriterOptions
{
    /// <summary>
    /// Roll to a new segment when the next record would take the current one past this size
    /// (default 64 MiB). A single record larger than this gets a segment of its own.
    /// </summary>
    public long SegmentSizeBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Keep this many bytes of zeros written ahead of the data in the current segment (default
    /// 1 MiB; 0 appends without preallocating). A commit into blocks that already exist changes
    /// neither the file's size nor its block map, so its fdatasync flushes only the data. The zeros
    /// are cut off when the segment is closed; after a crash, readers and recovery take them for the
    /// end of the data. See docs/durability.md, "Preallocation".
    /// </summary>
    public int PreallocateBytes { get; init; } = 1024 * 1024;

    /// <summary>Initial capacity of each of the two append buffers (default 4 MiB); they grow on demand.</summary>
    public int BufferSizeBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// When the buffer being filled holds this much (default 64 MiB) the producer waits for the
    /// flusher instead of growing it further: back-pressure when the disk cannot keep up.
    /// </summary>
    public int MaxBufferSizeBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Run a dedicated flusher thread that writes and fsyncs batches while the producer keeps
    /// appending (default). When false, nothing is written until <see cref="JournalWriter.Flush"/>
    /// (or a full buffer) and the caller's thread does the I/O: for tests and single-threaded tools.
    /// </summary>
    public bool BackgroundFlush { get; init; } = true;

    /// <summary>
    /// Called with the new <see cref="JournalWriter.DurableSequence"/> after each batch is on disk, on
    /// the flusher thread: keep it short (e.g. post acknowledgements to another queue). It must not
    /// throw; an exception from it is treated as fatal.
    /// </summary>
    public Action<long>? OnDurable { get; init; }

    /// <summary>
    /// Called after each commit, on the flusher thread and after <see cref="OnDurable"/>, with its
    /// size and timings (for metrics). Keep it short; an exception from it is treated as fatal.
    /// </summary>
    public Action<JournalCommit>? OnCommitted { get; init; }

    /// <summary>
    /// How long the flusher spins, looking for new records, before it sleeps (default zero: sleep
    /// at once). A producer that finds the flusher asleep must wake it, which costs the producer a
    /// system call; see <see cref="Journal.IdleSpin"/>.
    /// </summary>
    public TimeSpan IdleSpin { get; init; }

    /// <summary>
    /// Called once when a write or fsync fails. The default, <see cref="DurabilityFailure.StopProcess"/>,
    /// logs to stderr and ends the process; there is never a retry. If a handler returns (tests),
    /// the writer is dead: appends and flushes throw <see cref="JournalFailedException"/>.
    /// </summary>
    public Action<Exception> FatalHandler { get; init; } = DurabilityFailure.StopProcess;

    /// <summary>
    /// How each commit is made durable (default <see cref="JournalSync.DataSync"/>: fdatasync on
    /// Linux). See docs/durability.md, "fsync or fdatasync".
    /// </summary>
    public JournalSync Sync { get; init; } = JournalSync.DataSync;

    /// <summary>Test seam: opens segment files (to inject write or fsync failures); null opens a plain <see cref="StorageFile"/> with <see cref="Sync"/>.</summary>
    internal Func<string, FileMode, StorageFile>? OpenFile { get; init; }

    internal StorageFile Open(string path, FileMode mode) => OpenFile is { } open ? open(path, mode) : new StorageFile(path, mode, Sync);

    internal void Validate()
    {
        if (SegmentSizeBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSizeBytes), SegmentSizeBytes, "A segment must hold at least 1 KiB.");
        }
        if (PreallocateBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PreallocateBytes), PreallocateBytes, "Preallocation cannot be negative.");
        }
        if (!Enum.IsDefined(Sync))
        {
            throw new ArgumentOutOfRangeException(nameof(Sync), Sync, "Not a JournalSync value.");
        }
        if (BufferSizeBytes < 1024 || MaxBufferSizeBytes < BufferSizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferSizeBytes), BufferSizeBytes,
                "The buffer must be at least 1 KiB and no larger than MaxBufferSizeBytes.");
        }
    }
}
