using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Clearhouse.Journal.Framing;

/// <summary>
/// Streams the frames of one file through a large reusable buffer. <see cref="Next"/> returns each
/// valid frame with its payload as a span into the buffer (valid until the next call), the end of
/// the file, or the first defect it meets. Validation is structural only (length and checksum);
/// sequence order is the caller's business because it spans files.
/// </summary>
internal sealed class FrameScanner : IDisposable
{
    internal const int DefaultBufferSize = 1024 * 1024;

    private readonly SafeFileHandle _file;
    private readonly bool _ownsFile;
    private readonly Crc32 _hasher = RecordFormat.CreateHasher();
    private byte[] _buffer;
    private long _bufferFileOffset; // file offset of _buffer[0]
    private int _position;          // buffer index of the next frame
    private int _end;               // buffer bytes that hold file data
    private int _payloadStart;      // buffer index of the payload last returned
    private int _payloadLength;

    /// <param name="file">The file to read.</param>
    /// <param name="fileLength">How far to read.</param>
    /// <param name="ownsFile">Whether <see cref="Dispose"/> closes <paramref name="file"/>.</param>
    /// <param name="buffer">A buffer to reuse (see <see cref="Buffer"/>); null to allocate one sized for the file, at most 1 MiB.</param>
    public FrameScanner(SafeFileHandle file, long fileLength, bool ownsFile, byte[]? buffer = null)
    {
        _file = file;
        _ownsFile = ownsFile;
        FileLength = fileLength;
        _buffer = buffer ?? new byte[(int)Math.Clamp(fileLength, 4096, DefaultBufferSize)];
    }

    /// <summary>The read buffer (grown if a frame needed it), for the next scanner to reuse.</summary>
    public byte[] Buffer => _buffer;

    /// <summary>The length of the file when the scanner was opened; later growth is not read.</summary>
    public long FileLength { get; }

    /// <summary>File offset of the next frame (after <see cref="Next"/> returns a defect: of the bad frame).</summary>
    public long Position => _bufferFileOffset + _position;

    /// <summary>The payload of the frame last returned by <see cref="Next"/>, valid until the next call.</summary>
    public ReadOnlySpan<byte> LastPayload => _buffer.AsSpan(_payloadStart, _payloadLength);

    /// <summary>
    /// Reads the next frame. Returns <see cref="FrameDefect.None"/> with the frame's sequence, payload
    /// and offset; or a defect (and leaves <see cref="Position"/> at the bad frame); sets
    /// <paramref name="atEnd"/> when the file ended cleanly on a frame boundary.
    /// </summary>
    public FrameDefect Next(out bool atEnd, out long sequence, out ReadOnlySpan<byte> payload, out long offset)
    {
        sequence = 0;
        payload = default;
        offset = Position;
        var remaining = FileLength - offset;
        atEnd = remaining == 0;
        if (atEnd)
        {
            return FrameDefect.None;
        }
        if (remaining < RecordFormat.HeaderSize)
        {
            return FrameDefect.IncompleteHeader;
        }
        Fill(RecordFormat.HeaderSize);
        var header = _buffer.AsSpan(_position, RecordFormat.HeaderSize);
        var length = RecordFormat.ReadLength(header);
        var defect = RecordFormat.CheckLength(length, remaining - RecordFormat.HeaderSize);
        if (defect != FrameDefect.None)
        {
            return defect;
        }
        var frameSize = RecordFormat.HeaderSize + (int)length;
        Fill(frameSize);
        var frame = _buffer.AsSpan(_position, frameSize);
        var body = frame[RecordFormat.HeaderSize..];
        if (RecordFormat.Checksum(_hasher, frame[..RecordFormat.ChecksumOffset], body) != RecordFormat.ReadChecksum(frame))
        {
            return FrameDefect.ChecksumMismatch;
        }
        sequence = RecordFormat.ReadSequence(frame);
        payload = body;
        _payloadStart = _position + RecordFormat.HeaderSize;
        _payloadLength = (int)length;
        _position += frameSize;
        return FrameDefect.None;
    }

    /// <summary>
    /// Makes at least <paramref name="count"/> bytes from <see cref="_position"/> available in the
    /// buffer (the caller has checked the file holds them), reading as much as fits in one go.
    /// </summary>
    private void Fill(int count)
    {
        if (_end - _position >= count)
        {
            return;
        }
        var kept = _end - _position;
        if (count > _buffer.Length)
        {
            var larger = new byte[Math.Max(count, _buffer.Length * 2)];
            _buffer.AsSpan(_position, kept).CopyTo(larger);
            _buffer = larger;
        }
        else if (_position > 0)
        {
            _buffer.AsSpan(_position, kept).CopyTo(_buffer);
        }
        _bufferFileOffset += _position;
        _position = 0;
        _end = kept;
        while (_end < count)
        {
            var want = (int)Math.Min(_buffer.Length - _end, FileLength - (_bufferFileOffset + _end));
            var read = RandomAccess.Read(_file, _buffer.AsSpan(_end, want), _bufferFileOffset + _end);
            if (read <= 0)
            {
                throw new IOException($"The file shrank while being read: expected {FileLength} bytes, found {_bufferFileOffset + _end}.");
            }
            _end += read;
        }
    }

    /// <summary>
    /// Looks for any structurally valid frame (sane length, matching checksum) that starts at an
    /// offset in [<paramref name="from"/>, end of file), trying every byte offset. Returns its offset,
    /// or -1 when there is none: the definition of "nothing valid follows" in the torn-tail rule.
    /// </summary>
    public static long FindValidFrame(SafeFileHandle file, long fileLength, long from)
    {
        const int WindowSize = 1024 * 1024;
        var hasher = RecordFormat.CreateHasher();
        var window = new byte[WindowSize];
        byte[]? scratch = null;
        var windowStart = from;
        while (fileLength - windowStart > RecordFormat.HeaderSize)
        {
            var count = (int)Math.Min(WindowSize, fileLength - windowStart);
            ReadExactly(file, window.AsSpan(0, count), windowStart);
            var lastCandidate = count - RecordFormat.HeaderSize;
            for (var i = 0; i <= lastCandidate; i++)
            {
                var candidate = windowStart + i;
                var header = window.AsSpan(i, RecordFormat.HeaderSize);
                var length = RecordFormat.ReadLength(header);
                if (RecordFormat.CheckLength(length, fileLength - candidate - RecordFormat.HeaderSize) != FrameDefect.None)
                {
                    continue;
                }
                ReadOnlySpan<byte> body;
                if (i + RecordFormat.HeaderSize + length <= count)
                {
                    body = window.AsSpan(i + RecordFormat.HeaderSize, (int)length);
                }
                else
                {
                    if (scratch is null || scratch.Length < length)
                    {
                        scratch = new byte[Math.Max((int)length, 64 * 1024)];
                    }
                    ReadExactly(file, scratch.AsSpan(0, (int)length), candidate + RecordFormat.HeaderSize);
                    body = scratch.AsSpan(0, (int)length);
                }
                if (RecordFormat.Checksum(hasher, header[..RecordFormat.ChecksumOffset], body) == RecordFormat.ReadChecksum(header))
                {
                    return candidate;
                }
            }
            if (windowStart + count >= fileLength)
            {
                break;
            }
            windowStart += lastCandidate + 1;
        }
        return -1;
    }

    /// <summary>
    /// Whether the bad frame this scanner stopped at is where the data ends in a segment preallocated
    /// with zeros (<see cref="JournalWriterOptions.PreallocateBytes"/>): a zero length field, or a
    /// header cut off, with nothing but zero bytes from there to the end of the file.
    /// </summary>
    public bool AtZeroTail(FrameDefect defect) =>
        (defect is FrameDefect.ZeroLength or FrameDefect.IncompleteHeader) && IsZeroFrom(_file, Position, FileLength);

    /// <summary>Whether every byte of <paramref name="file"/> in [<paramref name="from"/>, <paramref name="fileLength"/>) is zero.</summary>
    public static bool IsZeroFrom(SafeFileHandle file, long from, long fileLength)
    {
        var window = new byte[(int)Math.Clamp(fileLength - from, 1, 256 * 1024)];
        for (var offset = from; offset < fileLength;)
        {
            var count = (int)Math.Min(window.Length, fileLength - offset);
            ReadExactly(file, window.AsSpan(0, count), offset);
            if (window.AsSpan(0, count).ContainsAnyExcept((byte)0))
            {
                return false;
            }
            offset += count;
        }
        return true;
    }

    internal static void ReadExactly(SafeFileHandle file, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(file, destination, offset);
            if (read <= 0)
            {
                throw new EndOfStreamException($"Unexpected end of file at offset {offset}.");
            }
            destination = destination[read..];
            offset += read;
        }
    }

    public void Dispose()
    {
        if (_ownsFile)
        {
            _file.Dispose();
        }
    }
}
