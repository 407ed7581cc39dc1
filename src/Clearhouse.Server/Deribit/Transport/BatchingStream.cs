namespace Clearhouse.Server.Deribit.Transport;

/// <summary>
/// The upgraded connection's stream under the server's <see cref="System.Net.WebSockets.WebSocket"/>,
/// so that the connection's writer loop can send several queued messages with one write to the
/// transport: between <see cref="BeginBatch"/> and <see cref="EndBatchAsync"/> writes (each a whole
/// WebSocket frame, written by the WebSocket under its own send lock) are gathered in a buffer, and
/// <see cref="EndBatchAsync"/> writes them out at once. Outside a batch (keep-alive pings, close),
/// writes go straight through. Every message stays its own frame, in the order it was sent; only
/// the number of writes (and flushes, and wake-ups of the transport's sender) changes. Reads pass
/// through untouched.
/// </summary>
internal sealed class BatchingStream(Stream inner) : Stream
{
    /// <summary>A batch is written out once it holds this much, even in the middle of a batch.</summary>
    public const int MaxBatchBytes = 64 * 1024;

    private readonly SemaphoreSlim writeGate = new(1, 1);
    private byte[] buffer = new byte[16 * 1024];
    private int buffered;
    private volatile bool batching;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Bytes gathered and not yet written.</summary>
    public int Buffered => buffered;

    /// <summary>From now on writes are gathered (writer loop only).</summary>
    public void BeginBatch() => batching = true;

    /// <summary>Stops gathering and writes what was gathered in one write and one flush (writer loop only).</summary>
    public async ValueTask EndBatchAsync(CancellationToken cancellationToken = default)
    {
        await writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            batching = false;
            await WriteBufferedLocked(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeGate.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        await writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!batching)
            {
                await WriteBufferedLocked(cancellationToken).ConfigureAwait(false);
                await inner.WriteAsync(source, cancellationToken).ConfigureAwait(false);
                await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            if (buffered + source.Length > buffer.Length)
            {
                if (buffered > 0 && buffered + source.Length > MaxBatchBytes)
                {
                    await WriteBufferedLocked(cancellationToken).ConfigureAwait(false);
                }

                if (source.Length > buffer.Length - buffered)
                {
                    Array.Resize(ref buffer, Math.Max(buffer.Length * 2, buffered + source.Length));
                }
            }

            source.Span.CopyTo(buffer.AsSpan(buffered));
            buffered += source.Length;
        }
        finally
        {
            writeGate.Release();
        }
    }

    public override Task WriteAsync(byte[] source, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(source.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] source, int offset, int count) => WriteAsync(source.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) => inner.ReadAsync(destination, cancellationToken);

    public override Task<int> ReadAsync(byte[] destination, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(destination, offset, count, cancellationToken);

    public override int Read(byte[] destination, int offset, int count) => inner.Read(destination, offset, count);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            writeGate.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        writeGate.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask WriteBufferedLocked(CancellationToken cancellationToken)
    {
        if (buffered == 0)
        {
            return;
        }

        int count = buffered;
        buffered = 0;
        await inner.WriteAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
