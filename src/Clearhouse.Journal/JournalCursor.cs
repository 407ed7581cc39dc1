using Clearhouse.Journal.Framing;

namespace Clearhouse.Journal;

/// <summary>
/// A forward-only pass over journal records, streaming each segment through one reusable 1 MiB
/// buffer. <see cref="Payload"/> is a view into that buffer, valid until the next
/// <see cref="MoveNext"/>; copy it if you keep it. Supports <c>foreach</c> (it is its own
/// enumerator, disposed by the loop). Every frame is checksummed and sequences are checked to
/// increase; damage throws <see cref="JournalCorruptedException"/> naming file and offset.
/// </summary>
public sealed class JournalCursor : IDisposable
{
    private readonly IReadOnlyList<SegmentFiles.Segment> _segments;
    private readonly long _from;
    private readonly long _to;
    private int _nextSegment;
    private FrameScanner? _scanner;
    private byte[]? _buffer;
    private SegmentFiles.Segment _segment;
    private bool _firstInSegment;
    private long _previous;
    private bool _done;

    internal JournalCursor(IReadOnlyList<SegmentFiles.Segment> segments, long fromSequence, long toSequence)
    {
        _segments = segments;
        _from = fromSequence;
        _to = toSequence;
        // Start at the last segment whose first sequence is at or below fromSequence: every earlier
        // segment holds only smaller sequences, so it is skipped without being opened.
        for (var i = segments.Count - 1; i > 0; i--)
        {
            if (segments[i].FirstSequence <= fromSequence)
            {
                _nextSegment = i;
                break;
            }
        }
        _done = fromSequence > toSequence;
    }

    /// <summary>Sequence of the current record.</summary>
    public long Sequence { get; private set; }

    /// <summary>Payload of the current record, valid until the next <see cref="MoveNext"/>.</summary>
    public ReadOnlySpan<byte> Payload => _scanner is null ? default : _scanner.LastPayload;

    /// <summary>The current record (for <c>foreach</c>).</summary>
    public JournalRecord Current => new(Sequence, Payload);

    public JournalCursor GetEnumerator() => this;

    /// <summary>Advances to the next record in range; false at the end.</summary>
    public bool MoveNext()
    {
        while (!_done)
        {
            if (_scanner is null && !OpenNextSegment())
            {
                break;
            }
            var defect = _scanner!.Next(out var atEnd, out var sequence, out _, out var offset);
            if (defect != FrameDefect.None && _nextSegment == _segments.Count && _scanner.AtZeroTail(defect))
            {
                // The last segment's preallocated zeros: its data ends here.
                CloseSegment();
                continue;
            }
            if (defect != FrameDefect.None)
            {
                throw new JournalCorruptedException(_segment.Path, offset, defect,
                    "Found while reading; run recovery first if the writer crashed.");
            }
            if (atEnd)
            {
                CloseSegment();
                continue;
            }
            CheckOrder(sequence, offset);
            if (sequence < _from)
            {
                continue;
            }
            if (sequence > _to)
            {
                break;
            }
            Sequence = sequence;
            // Never read past the bound: a live writer may be mid-way through the next record.
            _done = sequence == _to;
            return true;
        }
        _done = true;
        return false;
    }

    private void CheckOrder(long sequence, long offset)
    {
        if (_firstInSegment && sequence != _segment.FirstSequence)
        {
            throw new JournalCorruptedException(_segment.Path, offset, FrameDefect.SegmentNameMismatch,
                $"The file name promises first sequence {_segment.FirstSequence} but the first record has sequence {sequence}.");
        }
        if (sequence <= _previous)
        {
            throw new JournalCorruptedException(_segment.Path, offset, FrameDefect.SequenceNotIncreasing,
                $"Record sequence {sequence} does not follow the previous sequence {_previous}.");
        }
        _firstInSegment = false;
        _previous = sequence;
    }

    private bool OpenNextSegment()
    {
        if (_nextSegment >= _segments.Count)
        {
            return false;
        }
        _segment = _segments[_nextSegment++];
        var handle = File.OpenHandle(_segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        _buffer ??= new byte[FrameScanner.DefaultBufferSize];
        _scanner = new FrameScanner(handle, RandomAccess.GetLength(handle), ownsFile: true, _buffer);
        _firstInSegment = true;
        return true;
    }

    private void CloseSegment()
    {
        if (_scanner is not null)
        {
            _buffer = _scanner.Buffer;
        }
        _scanner?.Dispose();
        _scanner = null;
    }

    public void Dispose()
    {
        _done = true;
        CloseSegment();
    }
}

/// <summary>One journal record as seen through a <see cref="JournalCursor"/>; the payload is a view, valid until the cursor moves.</summary>
public readonly ref struct JournalRecord
{
    public JournalRecord(long sequence, ReadOnlySpan<byte> payload)
    {
        Sequence = sequence;
        Payload = payload;
    }

    public long Sequence { get; }

    public ReadOnlySpan<byte> Payload { get; }
}
