namespace Clearhouse.Core.Engine;

/// <summary>The events of the command being applied, in a reused array so that emitting allocates nothing.</summary>
internal sealed class EventBuffer
{
    private EngineEvent[] items = new EngineEvent[64];

    public int Count { get; private set; }

    public ReadOnlySpan<EngineEvent> AsSpan() => items.AsSpan(0, Count);

    public void Clear() => Count = 0;

    public ref EngineEvent Add(EventKind kind, long sequence, long timestampMicros)
    {
        if (Count == items.Length)
        {
            Array.Resize(ref items, items.Length * 2);
        }

        ref var e = ref items[Count++];
        e = default;
        e.Kind = kind;
        e.Sequence = sequence;
        e.TimestampMicros = timestampMicros;
        return ref e;
    }
}
