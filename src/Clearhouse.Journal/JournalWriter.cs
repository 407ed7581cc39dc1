using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using Clearhouse.Journal.Framing;
using Clearhouse.Journal.IO;

namespace Clearhouse.Journal;

/// <summary>
/// The write-ahead journal's group-commit writer. One producer thread (the sequencer) calls
/// <see cref="Append"/>, which only copies the record into an in-memory buffer. A dedicated flusher
/// thread swaps that buffer for a spare one, writes the batch to the current segment (rolling to a
/// new segment as needed), fsyncs once, then publishes <see cref="DurableSequence"/>, completes
/// <see cref="WaitForDurableAsync"/> waiters and calls <see cref="JournalWriterOptions.OnDurable"/>.
/// Whatever accumulates during one fsync forms the next batch, so batches grow with load and the
/// producer never waits for the disk (unless the buffer reaches its maximum size).
/// A failed write or fsync calls the fatal handler and never retries. See docs/durability.md.
/// </summary>
public sealed class JournalWriter : IDisposable
{
    /// <summary>Name of the lock file that keeps a second writer (in this or another process) out of the directory.</summary>
    public const string LockFileName = "journal.lock";

    private readonly string _directory;
    private readonly JournalWriterOptions _options;
    private readonly Thread? _flusher;
    private readonly FileStream _lock;

    // Producer side, guarded by _gate. The flusher takes _gate only to swap buffers.
    private readonly object _gate = new();
    private Batch _active;
    private Batch? _spare; // owned by the flusher between swaps
    private bool _flusherWaiting;
    private bool _producerWaiting;
    private bool _stopping;
    private long _lastAppended;
    private long _segmentBytes; // bytes in the current segment, counting those not yet written
    private bool _hasSegment;

    // Flusher side: touched only by the thread doing the I/O (the flusher, or Flush's caller inline).
    private readonly Crc32 _hasher = RecordFormat.CreateHasher();
    private StorageFile? _file;
    private long _fileOffset;

    // Durability, guarded by _durableGate.
    private readonly object _durableGate = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();
    private long _durable;
    private volatile JournalFailedException? _failure;
    private bool _disposed;
    private long _batchCount;
    private long _bytesWritten;

    private JournalWriter(string directory, JournalWriterOptions options, RecoveryReport recovery, FileStream directoryLock)
    {
        _directory = directory;
        _lock = directoryLock;
        _options = options;
        Recovery = recovery;
        _active = new Batch(options.BufferSizeBytes);
        _spare = new Batch(options.BufferSizeBytes);
        _lastAppended = recovery.LastSequence;
        _durable = recovery.LastSequence;
        if (recovery.LastFilePath is { } last)
        {
            _file = options.OpenFile(last, FileMode.Open);
            _fileOffset = recovery.LastFileLength;
            _segmentBytes = recovery.LastFileLength;
            _hasSegment = true;
        }
        if (options.BackgroundFlush)
        {
            _flusher = new Thread(FlusherLoop) { IsBackground = true, Name = "journal-flusher" };
            _flusher.Start();
        }
    }

    /// <summary>
    /// Recovers <paramref name="directory"/> (creating it if missing; a torn tail is truncated,
    /// other damage throws <see cref="JournalCorruptedException"/>) and opens it for appending after
    /// the last good record.
    /// </summary>
    public static JournalWriter Open(string directory, JournalWriterOptions? options = null)
    {
        options ??= new JournalWriterOptions();
        options.Validate();
        DirectorySync.Ensure(directory);
        var directoryLock = AcquireLock(directory);
        try
        {
            var recovery = JournalReader.Recover(directory);
            return new JournalWriter(Path.GetFullPath(directory), options, recovery, directoryLock);
        }
        catch
        {
            directoryLock.Dispose();
            throw;
        }
    }

    private static FileStream AcquireLock(string directory)
    {
        var path = Path.Combine(directory, LockFileName);
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock on Unix) for the writer's lifetime.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException error)
        {
            throw new IOException($"The journal in '{directory}' is already open for writing ({path} is locked).", error);
        }
    }

    /// <summary>What recovery found when the writer was opened.</summary>
    public RecoveryReport Recovery { get; }

    /// <summary>The journal directory.</summary>
    public string Directory => _directory;

    /// <summary>The highest sequence appended (durable or not).</summary>
    public long LastAppendedSequence => Volatile.Read(ref _lastAppended);

    /// <summary>The highest sequence known to be on disk (written and fsynced).</summary>
    public long DurableSequence => Volatile.Read(ref _durable);

    /// <summary>Batches written and fsynced so far.</summary>
    public long BatchCount => Volatile.Read(ref _batchCount);

    /// <summary>Bytes written (frames included) so far.</summary>
    public long BytesWritten => Volatile.Read(ref _bytesWritten);

    /// <summary>
    /// Buffers one record. Allocation-free unless a buffer has to grow. Sequences must strictly
    /// increase (gaps are allowed, the first must be ≥ 1); payloads must be 1 byte to
    /// <see cref="RecordFormat.MaxPayloadLength"/>. Durable once <see cref="DurableSequence"/>
    /// reaches <paramref name="sequence"/>.
    /// </summary>
    public void Append(long sequence, ReadOnlySpan<byte> payload)
    {
        if ((uint)(payload.Length - 1) >= RecordFormat.MaxPayloadLength)
        {
            ThrowBadPayloadLength(payload.Length);
        }
        var size = RecordFormat.HeaderSize + payload.Length;
        lock (_gate)
        {
            if (sequence <= _lastAppended)
            {
                ThrowNotIncreasing(sequence, _lastAppended);
            }
            ThrowIfUnusable();
            var batch = _active;
            if (batch.Buffer.Length - batch.Length < size)
            {
                batch = MakeRoom(size);
            }
            if (!_hasSegment || (_segmentBytes > 0 && _segmentBytes + size > _options.SegmentSizeBytes))
            {
                batch.SegmentStarts.Add(new SegmentStart(batch.Length, sequence));
                _segmentBytes = 0;
                _hasSegment = true;
            }
            var frame = batch.Buffer.AsSpan(batch.Length, size);
            RecordFormat.WriteHeader(frame, payload.Length, sequence);
            payload.CopyTo(frame[RecordFormat.HeaderSize..]);
            batch.Length += size;
            batch.LastSequence = sequence;
            _segmentBytes += size;
            Volatile.Write(ref _lastAppended, sequence);
            if (_flusherWaiting)
            {
                _flusherWaiting = false;
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>
    /// Blocks until everything appended before the call is durable. With the background flusher it
    /// waits for the flusher; otherwise it writes and fsyncs on the calling thread.
    /// </summary>
    public void Flush()
    {
        long target;
        lock (_gate)
        {
            ThrowIfUnusable();
            if (_flusher is null)
            {
                FlushInline();
                return;
            }
            target = _lastAppended;
            if (_flusherWaiting && _active.Length > 0)
            {
                _flusherWaiting = false;
                Monitor.Pulse(_gate);
            }
        }
        lock (_durableGate)
        {
            while (_durable < target && _failure is null)
            {
                Monitor.Wait(_durableGate);
            }
        }
        ThrowIfFailed();
    }

    /// <summary>
    /// Completes when <see cref="DurableSequence"/> ≥ <paramref name="sequence"/> (continuations run
    /// asynchronously, never on the flusher thread); faults with <see cref="JournalFailedException"/>
    /// if the writer fails, or <see cref="ObjectDisposedException"/> if it is disposed first.
    /// </summary>
    public Task WaitForDurableAsync(long sequence)
    {
        if (Volatile.Read(ref _durable) >= sequence)
        {
            return Task.CompletedTask;
        }
        lock (_durableGate)
        {
            if (_durable >= sequence)
            {
                return Task.CompletedTask;
            }
            if (_failure is { } failure)
            {
                return Task.FromException(failure);
            }
            if (_disposed)
            {
                return Task.FromException(new ObjectDisposedException(nameof(JournalWriter)));
            }
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter, sequence);
            return waiter.Task;
        }
    }

    /// <summary>Makes everything appended durable, stops the flusher and closes the segment.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }
            _stopping = true;
            if (_flusher is null)
            {
                if (_failure is null && _active.Length > 0)
                {
                    try
                    {
                        FlushInline();
                    }
                    catch (JournalFailedException)
                    {
                        // The fatal handler has already been told; Dispose does not throw.
                    }
                }
            }
            else
            {
                Monitor.PulseAll(_gate);
            }
        }
        _flusher?.Join();
        _file?.Dispose();
        _file = null;
        _lock.Dispose();
        lock (_durableGate)
        {
            _disposed = true;
            while (_waiters.TryDequeue(out var waiter, out _))
            {
                waiter.TrySetException(new ObjectDisposedException(nameof(JournalWriter),
                    "The journal writer was disposed before this sequence was appended."));
            }
            Monitor.PulseAll(_durableGate);
        }
    }

    // ---- producer helpers (called under _gate) ----

    /// <summary>Grows the active buffer, or hands it to the flusher and waits, until <paramref name="size"/> bytes fit.</summary>
    private Batch MakeRoom(int size)
    {
        while (true)
        {
            var batch = _active;
            if (batch.Buffer.Length - batch.Length >= size)
            {
                return batch;
            }
            var needed = (long)batch.Length + size;
            if (batch.Length == 0 || needed <= _options.MaxBufferSizeBytes)
            {
                var capacity = Math.Max(needed, Math.Min((long)batch.Buffer.Length * 2, _options.MaxBufferSizeBytes));
                var larger = new byte[capacity];
                batch.Buffer.AsSpan(0, batch.Length).CopyTo(larger);
                batch.Buffer = larger;
                return batch;
            }
            if (_flusher is null)
            {
                FlushInline();
                continue;
            }
            _producerWaiting = true;
            if (_flusherWaiting)
            {
                _flusherWaiting = false;
            }
            Monitor.PulseAll(_gate);
            Monitor.Wait(_gate);
            ThrowIfUnusable();
        }
    }

    private void ThrowIfUnusable()
    {
        ThrowIfFailed();
        if (_stopping)
        {
            ThrowDisposed();
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new JournalFailedException("The journal writer has failed and accepts nothing more.", failure);
        }
    }

    // ---- flusher ----

    private void FlusherLoop()
    {
        while (true)
        {
            Batch batch;
            lock (_gate)
            {
                while (_active.Length == 0)
                {
                    if (_stopping)
                    {
                        return;
                    }
                    _flusherWaiting = true;
                    Monitor.Wait(_gate);
                }
                _flusherWaiting = false;
                batch = _active;
                _active = _spare!;
                _spare = null;
                if (_producerWaiting)
                {
                    _producerWaiting = false;
                    Monitor.PulseAll(_gate);
                }
            }
            if (!TryWriteAndPublish(batch))
            {
                return;
            }
            batch.Clear();
            _spare = batch;
        }
    }

    /// <summary>Inline mode (no flusher thread): writes and fsyncs the active buffer on the caller's thread.</summary>
    private void FlushInline()
    {
        var batch = _active;
        if (batch.Length == 0)
        {
            return;
        }
        if (!TryWriteAndPublish(batch))
        {
            ThrowIfFailed();
        }
        batch.Clear();
    }

    private bool TryWriteAndPublish(Batch batch)
    {
        try
        {
            WriteBatch(batch);
        }
        catch (Exception error)
        {
            Fail(error);
            return false;
        }
        Interlocked.Increment(ref _batchCount);
        Interlocked.Add(ref _bytesWritten, batch.Length);
        Publish(batch.LastSequence);
        if (_options.OnDurable is { } onDurable)
        {
            try
            {
                onDurable(batch.LastSequence);
            }
            catch (Exception error)
            {
                Fail(error);
                return false;
            }
        }
        return true;
    }

    /// <summary>Checksums every frame, writes the batch (rolling segments at the marked records) and fsyncs once.</summary>
    private void WriteBatch(Batch batch)
    {
        var buffer = batch.Buffer;
        for (var offset = 0; offset < batch.Length;)
        {
            var size = RecordFormat.HeaderSize + (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset));
            RecordFormat.Seal(_hasher, buffer.AsSpan(offset, size));
            offset += size;
        }
        var written = 0;
        foreach (var start in batch.SegmentStarts)
        {
            WriteToSegment(buffer.AsSpan(written, start.Offset - written));
            written = start.Offset;
            StartSegment(start.Sequence);
        }
        WriteToSegment(buffer.AsSpan(written, batch.Length - written));
        _file!.FlushToDisk();
    }

    private void WriteToSegment(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        _file!.Write(data, _fileOffset);
        _fileOffset += data.Length;
    }

    /// <summary>Seals the current segment (fsync) and creates the next one, making its directory entry durable.</summary>
    private void StartSegment(long firstSequence)
    {
        if (_file is not null)
        {
            _file.FlushToDisk();
            _file.Dispose();
            _file = null;
        }
        _file = _options.OpenFile(Path.Combine(_directory, SegmentFiles.FileName(firstSequence)), FileMode.CreateNew);
        _fileOffset = 0;
        DirectorySync.Flush(_directory);
    }

    private void Publish(long sequence)
    {
        lock (_durableGate)
        {
            Volatile.Write(ref _durable, sequence);
            while (_waiters.TryPeek(out _, out var waitingFor) && waitingFor <= sequence)
            {
                _waiters.Dequeue().TrySetResult();
            }
            Monitor.PulseAll(_durableGate);
        }
    }

    /// <summary>Fsync failure policy: record the failure, call the fatal handler (by default the process ends here), then fail every waiter.</summary>
    private void Fail(Exception error)
    {
        var failure = new JournalFailedException(
            $"Journal write or fsync failed in '{_file?.Path ?? _directory}' after durable sequence {DurableSequence}: {error.Message}", error);
        _failure = failure;
        try
        {
            _options.FatalHandler(failure);
        }
        finally
        {
            lock (_durableGate)
            {
                while (_waiters.TryDequeue(out var waiter, out _))
                {
                    waiter.TrySetException(failure);
                }
                Monitor.PulseAll(_durableGate);
            }
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowNotIncreasing(long sequence, long last) =>
        throw new ArgumentOutOfRangeException(nameof(sequence), sequence,
            $"Journal sequences must strictly increase: {sequence} is not greater than {last}.");

    [DoesNotReturn]
    private static void ThrowBadPayloadLength(int length) =>
        throw new ArgumentOutOfRangeException("payload", length,
            $"A journal payload must be 1 to {RecordFormat.MaxPayloadLength} bytes.");

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(JournalWriter));

    private sealed class Batch(int capacity)
    {
        public byte[] Buffer = new byte[capacity];
        public int Length;
        public long LastSequence;
        public readonly List<SegmentStart> SegmentStarts = new(4);

        public void Clear()
        {
            Length = 0;
            LastSequence = 0;
            SegmentStarts.Clear();
        }
    }

    /// <summary>The record at <paramref name="Offset"/> in a batch starts a new segment named by <paramref name="Sequence"/>.</summary>
    private readonly record struct SegmentStart(int Offset, long Sequence);
}
