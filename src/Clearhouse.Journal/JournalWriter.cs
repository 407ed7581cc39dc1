using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using Clearhouse.Journal.Framing;
using Clearhouse.Journal.IO;

namespace Clearhouse.Journal;

/// <summary>
/// The write-ahead journal's group-commit writer. One producer thread (the sequencer) appends
/// records with <see cref="Append"/>, or encodes them in place with <see cref="BeginAppend"/> and
/// <see cref="CommitAppend"/>; either way it only writes the frame into an in-memory chunk and
/// publishes its end with one atomic store: no lock, no allocation. A dedicated flusher thread
/// takes everything published since its last pass, checksums each frame (CRC-32C), writes it to
/// the current segment (rolling to a new segment as needed), fsyncs once, then publishes
/// <see cref="DurableSequence"/>, completes <see cref="WaitForDurableAsync"/> waiters and calls
/// <see cref="JournalWriterOptions.OnDurable"/>. Whatever accumulates during one fsync forms the
/// next batch, so batches grow with load and the producer never waits for the disk (unless the
/// chunks not yet written reach <see cref="JournalWriterOptions.MaxBufferSizeBytes"/>).
/// <para>
/// The chunks form a single-producer, single-consumer queue: the producer fills the head chunk
/// and links a new one (recycled, or allocated) when a frame does not fit; the flusher reads
/// behind it and hands fully written chunks back. The on-disk format is unaffected.
/// </para>
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

    // Producer side: touched only by the appending thread.
    private Chunk _head;
    private long _lastAppended;
    private int _reservedPayload = -1; // payload bytes available to the open reservation; -1 when none

    // Chunk hand-back, guarded by _poolGate (taken once per chunk, not per record).
    private readonly object _poolGate = new();
    private readonly Stack<Chunk> _free = new(2);
    private long _closedBytes; // capacity of chunks the producer has left and the flusher not yet handed back
    private bool _producerWaiting;

    // Flusher side: touched only by the thread doing the I/O (the flusher, or Flush's caller inline).
    private readonly object _ioGate = new();
    private readonly Crc32 _hasher = RecordFormat.CreateHasher();
    private Chunk _tail;
    private int _tailOffset;
    private StorageFile? _file;
    private long _fileOffset;
    private long _allocatedEnd; // the current segment's length on disk: zeros from _fileOffset up to here
    private long _segmentBytes; // bytes in the current segment
    private bool _hasSegment;

    // Waking the flusher: it sets _flusherIdle (with a full fence) before it sleeps on _wakeGate.
    private readonly object _wakeGate = new();
    private int _flusherIdle;
    private volatile bool _stopping;
    private int _disposeStarted;

    // Durability, guarded by _durableGate.
    private readonly object _durableGate = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waiters = new();
    private long _durable;
    private volatile JournalFailedException? _failure;
    private bool _disposed;
    private long _batchCount;
    private long _bytesWritten;
    private int _recordsInBatch; // flusher only

    private JournalWriter(string directory, JournalWriterOptions options, RecoveryReport recovery, FileStream directoryLock)
    {
        _directory = directory;
        _lock = directoryLock;
        _options = options;
        Recovery = recovery;
        _head = new Chunk(options.BufferSizeBytes);
        _tail = _head;
        _lastAppended = recovery.LastSequence;
        _durable = recovery.LastSequence;
        if (recovery.LastFilePath is { } last)
        {
            _file = options.Open(last, FileMode.Open);
            _fileOffset = recovery.LastFileLength;
            _allocatedEnd = Math.Max(_file.Length, _fileOffset); // a preallocated tail left by a crash
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
    /// Buffers one record (a copy of <paramref name="payload"/>). Allocation-free unless a new chunk
    /// is needed. Sequences must strictly increase (gaps are allowed, the first must be ≥ 1);
    /// payloads must be 1 byte to <see cref="RecordFormat.MaxPayloadLength"/>. Durable once
    /// <see cref="DurableSequence"/> reaches <paramref name="sequence"/>.
    /// </summary>
    public void Append(long sequence, ReadOnlySpan<byte> payload)
    {
        if ((uint)(payload.Length - 1) >= RecordFormat.MaxPayloadLength)
        {
            ThrowBadPayloadLength(payload.Length);
        }
        payload.CopyTo(BeginAppend(payload.Length));
        CommitAppend(sequence, payload.Length);
    }

    /// <summary>
    /// Reserves room for one record's payload in the journal's buffer and returns it: at least
    /// <paramref name="minPayloadLength"/> bytes (often many more). Write the payload at its start,
    /// then call <see cref="CommitAppend"/> with the bytes used; nothing is appended until then. A
    /// reservation that is not committed is simply dropped by the next <see cref="BeginAppend"/>
    /// or <see cref="Append"/>. After the commit, the payload bytes stay in place and unchanged
    /// until the producer's next <see cref="BeginAppend"/> or <see cref="Append"/> (the flusher
    /// only fills in the frame's checksum), so the producer may go on reading them (e.g. to hash
    /// them) until then. Producer thread only.
    /// </summary>
    public Span<byte> BeginAppend(int minPayloadLength)
    {
        if ((uint)(minPayloadLength - 1) >= RecordFormat.MaxPayloadLength)
        {
            ThrowBadPayloadLength(minPayloadLength);
        }
        ThrowIfUnusable();
        var head = _head;
        if (head.Buffer.Length - head.Length < RecordFormat.HeaderSize + minPayloadLength)
        {
            head = NextChunk(RecordFormat.HeaderSize + minPayloadLength);
        }
        var available = Math.Min(head.Buffer.Length - head.Length - RecordFormat.HeaderSize, RecordFormat.MaxPayloadLength);
        _reservedPayload = available;
        return head.Buffer.AsSpan(head.Length + RecordFormat.HeaderSize, available);
    }

    /// <summary>
    /// Appends the record whose payload (the first <paramref name="payloadLength"/> bytes of the span
    /// from <see cref="BeginAppend"/>) was written in place. Same rules as <see cref="Append"/>.
    /// </summary>
    public void CommitAppend(long sequence, int payloadLength)
    {
        if (_reservedPayload < 0)
        {
            ThrowNoReservation();
        }
        if (payloadLength < 1 || payloadLength > _reservedPayload)
        {
            ThrowBadPayloadLength(payloadLength);
        }
        if (sequence <= _lastAppended)
        {
            ThrowNotIncreasing(sequence, _lastAppended);
        }
        _reservedPayload = -1;
        var head = _head;
        RecordFormat.WriteHeader(head.Buffer.AsSpan(head.Length), payloadLength, sequence);
        var end = head.Length + RecordFormat.HeaderSize + payloadLength;
        head.Length = end;
        Volatile.Write(ref _lastAppended, sequence);
        if (_flusher is null)
        {
            head.Published = end;
            return;
        }
        // A full fence between publishing and reading the flusher's idle flag (the flusher sets the
        // flag, then looks for work): one of the two always sees the other, so no wake-up is lost.
        Interlocked.Exchange(ref head.Published, end);
        if (Volatile.Read(ref _flusherIdle) != 0)
        {
            WakeFlusher();
        }
    }

    /// <summary>
    /// Blocks until everything appended before the call is durable. With the background flusher it
    /// waits for the flusher; otherwise it writes and fsyncs on the calling thread.
    /// </summary>
    public void Flush()
    {
        ThrowIfUnusable();
        if (_flusher is null)
        {
            FlushInline();
            return;
        }
        var target = Volatile.Read(ref _lastAppended);
        WakeFlusher();
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
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            return;
        }
        _stopping = true;
        if (_flusher is null)
        {
            if (_failure is null)
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
            WakeFlusher();
            _flusher.Join();
        }
        lock (_poolGate)
        {
            Monitor.PulseAll(_poolGate);
        }
        if (_failure is null)
        {
            try
            {
                // A cleanly closed journal ends with its last record, as if nothing was preallocated.
                if (_file is not null && _allocatedEnd > _fileOffset)
                {
                    TrimPreallocated();
                    _file.FlushToDisk();
                }
            }
            catch (IOException)
            {
                // Everything appended is already durable; a tail of zeros left behind is read as the end.
            }
        }
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

    // ---- producer helpers ----

    /// <summary>
    /// Leaves the head chunk for a new one with room for <paramref name="size"/> bytes: a recycled
    /// chunk, or a new one while the chunks not yet written stay within the maximum; otherwise waits
    /// for the flusher (or, inline, writes them on this thread). A record larger than a chunk gets a
    /// chunk of its own size.
    /// </summary>
    private Chunk NextChunk(int size)
    {
        var old = _head;
        var capacity = Math.Max(size, _options.BufferSizeBytes);
        while (true)
        {
            var flushInline = false;
            lock (_poolGate)
            {
                ThrowIfUnusable();
                if (_closedBytes == 0 || _closedBytes + old.Buffer.Length + capacity <= _options.MaxBufferSizeBytes)
                {
                    var chunk = _free.Count > 0 && _free.Peek().Buffer.Length >= capacity ? _free.Pop() : new Chunk(capacity);
                    _closedBytes += old.Buffer.Length;
                    // The old chunk's Published is final; the flusher reads Next before Published.
                    Volatile.Write(ref old.Next, chunk);
                    _head = chunk;
                    return chunk;
                }
                if (_flusher is null)
                {
                    flushInline = true;
                }
                else
                {
                    _producerWaiting = true;
                    WakeFlusher();
                    Monitor.Wait(_poolGate);
                }
            }
            if (flushInline)
            {
                FlushInline();
            }
        }
    }

    private void WakeFlusher()
    {
        if (Interlocked.Exchange(ref _flusherIdle, 0) != 0)
        {
            lock (_wakeGate)
            {
                Monitor.Pulse(_wakeGate);
            }
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
            var result = WriteAvailable();
            if (result < 0)
            {
                return;
            }
            if (result > 0)
            {
                continue;
            }
            if (_stopping)
            {
                // Everything appended before Dispose is visible now; one last pass takes it.
                if (WriteAvailable() == 0)
                {
                    return;
                }
                continue;
            }
            if (IdleSpin.Until(_options.IdleSpin, this, static writer => writer.HasData() || writer._stopping))
            {
                continue;
            }
            Interlocked.Exchange(ref _flusherIdle, 1);
            if (HasData() || _stopping)
            {
                Volatile.Write(ref _flusherIdle, 0);
                continue;
            }
            lock (_wakeGate)
            {
                while (Volatile.Read(ref _flusherIdle) != 0)
                {
                    Monitor.Wait(_wakeGate);
                }
            }
        }
    }

    private bool HasData() => Volatile.Read(ref _tail.Published) > _tailOffset || Volatile.Read(ref _tail.Next) is not null;

    /// <summary>Inline mode (no flusher thread): writes and fsyncs what is buffered on the caller's thread.</summary>
    private void FlushInline()
    {
        lock (_ioGate)
        {
            if (WriteAvailable() < 0)
            {
                ThrowIfFailed();
            }
        }
    }

    /// <summary>
    /// One group commit: checksums every frame published since the last one, writes them (rolling
    /// segments where a record would take the current one past its size), fsyncs once, publishes the
    /// durable sequence and hands finished chunks back. 1: a batch was written; 0: nothing to write;
    /// −1: the writer failed.
    /// </summary>
    private int WriteAvailable()
    {
        var chunk = _tail;
        var offset = _tailOffset;
        long lastSequence = 0;
        long bytes = 0;
        var finished = false; // whether this pass moved past at least one chunk
        long started = Stopwatch.GetTimestamp();
        long written = started;
        long synced = started;
        _recordsInBatch = 0;
        try
        {
            while (true)
            {
                // Next first: once it is set, the chunk's Published is final.
                var next = Volatile.Read(ref chunk.Next);
                var end = Volatile.Read(ref chunk.Published);
                if (end > offset)
                {
                    lastSequence = WriteFrames(chunk.Buffer, offset, end);
                    bytes += end - offset;
                    offset = end;
                }
                if (next is null)
                {
                    break;
                }
                finished = true;
                chunk = next;
                offset = 0;
            }
            if (bytes > 0)
            {
                written = Stopwatch.GetTimestamp();
                _file!.FlushToDisk();
                synced = Stopwatch.GetTimestamp();
            }
        }
        catch (Exception error)
        {
            Fail(error);
            return -1;
        }
        var first = _tail;
        _tail = chunk;
        _tailOffset = offset;
        if (bytes == 0)
        {
            if (finished)
            {
                Recycle(first, chunk);
            }
            return 0;
        }
        Interlocked.Increment(ref _batchCount);
        Interlocked.Add(ref _bytesWritten, bytes);
        Publish(lastSequence);
        if (finished)
        {
            Recycle(first, chunk);
        }
        if (_options.OnDurable is { } onDurable)
        {
            try
            {
                onDurable(lastSequence);
            }
            catch (Exception error)
            {
                Fail(error);
                return -1;
            }
        }
        if (_options.OnCommitted is { } onCommitted)
        {
            try
            {
                onCommitted(new JournalCommit(_recordsInBatch, bytes, Stopwatch.GetElapsedTime(started, written), Stopwatch.GetElapsedTime(written, synced)));
            }
            catch (Exception error)
            {
                Fail(error);
                return -1;
            }
        }
        return 1;
    }

    /// <summary>Checksums the frames in <paramref name="buffer"/>[<paramref name="from"/>..<paramref name="to"/>) and writes them; returns the last one's sequence.</summary>
    private long WriteFrames(byte[] buffer, int from, int to)
    {
        long sequence = 0;
        var pending = from;
        for (var offset = from; offset < to;)
        {
            var size = RecordFormat.HeaderSize + (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset));
            var frame = buffer.AsSpan(offset, size);
            sequence = RecordFormat.ReadSequence(frame);
            if (!_hasSegment || (_segmentBytes > 0 && _segmentBytes + size > _options.SegmentSizeBytes))
            {
                WriteToSegment(buffer.AsSpan(pending, offset - pending));
                pending = offset;
                StartSegment(sequence);
                _segmentBytes = 0;
                _hasSegment = true;
            }
            RecordFormat.Seal(_hasher, frame);
            _recordsInBatch++;
            _segmentBytes += size;
            offset += size;
        }
        WriteToSegment(buffer.AsSpan(pending, to - pending));
        return sequence;
    }

    /// <summary>Hands the chunks from <paramref name="first"/> up to (not including) <paramref name="stop"/> back to the producer.</summary>
    private void Recycle(Chunk first, Chunk stop)
    {
        lock (_poolGate)
        {
            for (var chunk = first; chunk != stop;)
            {
                var next = chunk.Next!;
                _closedBytes -= chunk.Buffer.Length;
                if (_free.Count < 2 && chunk.Buffer.Length == _options.BufferSizeBytes)
                {
                    chunk.Reset();
                    _free.Push(chunk);
                }
                chunk = next;
            }
            if (_producerWaiting)
            {
                _producerWaiting = false;
                Monitor.PulseAll(_poolGate);
            }
        }
    }

    private void WriteToSegment(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        _file!.Write(data, _fileOffset);
        _fileOffset += data.Length;
        if (_fileOffset >= _allocatedEnd && _options.PreallocateBytes > 0)
        {
            Preallocate();
        }
    }

    /// <summary>
    /// Writes zeros past the data, up to <see cref="JournalWriterOptions.PreallocateBytes"/> ahead
    /// (within the segment's size), in the same commit as the data before it. Until the writes
    /// reach them, commits overwrite blocks that already exist, so the fsync (fdatasync) that makes
    /// them durable changes neither the file's size nor its block map: on the disks measured, half
    /// the cost of an append (docs/durability.md, "Preallocation"). Readers and recovery take a
    /// tail of zeros for the end of the data.
    /// </summary>
    private void Preallocate()
    {
        var from = Math.Max(_allocatedEnd, _fileOffset);
        var to = Math.Min(_fileOffset + _options.PreallocateBytes, Math.Max(_options.SegmentSizeBytes, _fileOffset));
        for (var offset = from; offset < to;)
        {
            var count = (int)Math.Min(Zeros.Length, to - offset);
            _file!.Write(Zeros.AsSpan(0, count), offset);
            offset += count;
        }
        _allocatedEnd = Math.Max(_allocatedEnd, to);
    }

    private static readonly byte[] Zeros = new byte[256 * 1024];

    /// <summary>Cuts the current segment's preallocated zeros off, so that a closed segment ends with its last record.</summary>
    private void TrimPreallocated()
    {
        if (_file is not null && _allocatedEnd > _fileOffset)
        {
            _file.SetLength(_fileOffset);
            _allocatedEnd = _fileOffset;
        }
    }

    /// <summary>Seals the current segment (fsync) and creates the next one, making its directory entry durable.</summary>
    private void StartSegment(long firstSequence)
    {
        if (_file is not null)
        {
            TrimPreallocated();
            _file.FlushToDisk();
            _file.Dispose();
            _file = null;
        }
        _file = _options.Open(Path.Combine(_directory, SegmentFiles.FileName(firstSequence)), FileMode.CreateNew);
        _fileOffset = 0;
        _allocatedEnd = 0;
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
            lock (_poolGate)
            {
                Monitor.PulseAll(_poolGate);
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

    [DoesNotReturn]
    private static void ThrowNoReservation() =>
        throw new InvalidOperationException("CommitAppend without a BeginAppend.");

    /// <summary>A piece of the producer-to-flusher queue: frames back to back, the first <see cref="Published"/> bytes complete.</summary>
    private sealed class Chunk(int capacity)
    {
        public readonly byte[] Buffer = new byte[capacity];
        public int Length; // producer only
        public int Published; // written by the producer, read by the flusher
        public Chunk? Next; // set by the producer when it moves on, after the last Published

        public void Reset()
        {
            Length = 0;
            Published = 0;
            Next = null;
        }
    }
}
