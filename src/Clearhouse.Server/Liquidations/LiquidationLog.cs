using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;

namespace Clearhouse.Server.Liquidations;

/// <summary>
/// The liquidation steps the venue served last: the newest <see cref="Capacity"/> of them (default
/// 10,000), each with its proof and its events (<see cref="LiquidationRecord"/>), keyed by
/// (sequence, index) — the command during which the step ran and its place among that command's
/// steps (<see cref="EngineEvent.ProofIndex"/>).
/// <para>
/// Proofs are not stored anywhere: the journal holds commands, and the engine produces the same
/// proofs whenever it applies the same commands. So the log is filled from every
/// <see cref="Engine.Apply"/> — by the sequencer for live commands and by recovery for the journal
/// it replays at start (<see cref="Durability.VenueRecovery"/>) — and a restarted server serves
/// the proofs of the liquidations before the crash again, identical to the byte.
/// </para>
/// <para>
/// Written by the engine thread (or recovery, before the sequencer starts) through
/// <see cref="Capture"/>; read by request threads. A lock keeps the two apart; a command without
/// liquidations costs one count check and never takes it.
/// </para>
/// </summary>
public sealed class LiquidationLog
{
    public const int DefaultCapacity = 10_000;

    private readonly Lock gate = new();
    private readonly LiquidationRecord?[] ring;
    private readonly Dictionary<(long Sequence, int Index), LiquidationRecord> byKey = [];
    private readonly List<LiquidationRecord> scratch = [];
    private int next;
    private int count;
    private long captured;
    private (long Sequence, int Index) last = (0, -1);

    public LiquidationLog(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ring = new LiquidationRecord?[capacity];
    }

    /// <summary>How many steps are kept at most; older ones are forgotten (a replay of the journal regenerates them).</summary>
    public int Capacity => ring.Length;

    /// <summary>Steps kept now.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return count;
            }
        }
    }

    /// <summary>Steps captured since the process started, live or replayed, including those no longer kept.</summary>
    public long Captured
    {
        get
        {
            lock (gate)
            {
                return captured;
            }
        }
    }

    /// <summary>
    /// Keeps the liquidation steps of the command just applied (<paramref name="events"/> and
    /// <paramref name="proofs"/> are the engine's <see cref="Engine.Events"/> and
    /// <see cref="Engine.Liquidations"/>). Steps must come in (sequence, index) order; one already
    /// kept, or older than the newest kept, is ignored.
    /// </summary>
    public void Capture(long sequence, long timestampMicros, ReadOnlySpan<EngineEvent> events, IReadOnlyList<LiquidationProof> proofs)
    {
        if (proofs.Count == 0)
        {
            return;
        }

        scratch.Clear();
        LiquidationRecord.Read(sequence, timestampMicros, events, proofs, scratch);
        lock (gate)
        {
            foreach (var record in scratch)
            {
                var key = (record.Sequence, record.Index);
                if (key.CompareTo(last) <= 0)
                {
                    continue;
                }

                if (ring[next] is { } evicted)
                {
                    byKey.Remove((evicted.Sequence, evicted.Index));
                }
                else
                {
                    count++;
                }

                ring[next] = record;
                next = (next + 1) % ring.Length;
                byKey[key] = record;
                last = key;
                captured++;
            }
        }

        scratch.Clear();
    }

    /// <summary>Forgets every step (recovery drops what a replay could not vouch for).</summary>
    public void Clear()
    {
        lock (gate)
        {
            Array.Clear(ring);
            byKey.Clear();
            next = 0;
            count = 0;
            captured = 0;
            last = (0, -1);
        }
    }

    public bool TryGet(long sequence, int index, out LiquidationRecord record)
    {
        lock (gate)
        {
            return byKey.TryGetValue((sequence, index), out record!);
        }
    }

    /// <summary>The newest steps first, at most <paramref name="limit"/>; only those of <paramref name="accountId"/> when it is given.</summary>
    public List<LiquidationRecord> Recent(int? accountId, int limit)
    {
        var result = new List<LiquidationRecord>(Math.Min(limit, 64));
        lock (gate)
        {
            for (int i = 1; i <= count && result.Count < limit; i++)
            {
                var record = ring[(next - i + ring.Length) % ring.Length]!;
                if (accountId is not { } id || record.AccountId == id)
                {
                    result.Add(record);
                }
            }
        }

        return result;
    }
}
