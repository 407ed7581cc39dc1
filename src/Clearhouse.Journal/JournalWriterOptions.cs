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
    /// Called once when a write or fsync fails. The default, <see cref="DurabilityFailure.StopProcess"/>,
    /// logs to stderr and ends the process; there is never a retry. If a handler returns (tests),
    /// the writer is dead: appends and flushes throw <see cref="JournalFailedException"/>.
    /// </summary>
    public Action<Exception> FatalHandler { get; init; } = DurabilityFailure.StopProcess;

    /// <summary>Test seam: opens segment files (to inject write or fsync failures).</summary>
    internal Func<string, FileMode, StorageFile> OpenFile { get; init; } = StorageFile.Open;

    internal void Validate()
    {
        if (SegmentSizeBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSizeBytes), SegmentSizeBytes, "A segment must hold at least 1 KiB.");
        }
        if (BufferSizeBytes < 1024 || MaxBufferSizeBytes < BufferSizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferSizeBytes), BufferSizeBytes,
                "The buffer must be at least 1 KiB and no larger than MaxBufferSizeBytes.");
        }
    }
}
