using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Liquidations;

/// <summary>
/// One liquidation step as the venue ran it: its <see cref="Proof"/> (what made it due and how it
/// was sized), the events that belong to it — the account's orders cancelled before it, the
/// liquidation order and its fills through the book, the insurance fund's takeover, the
/// auto-deleveraging fills, the liquidation fee, a deficit the fund covered, the end of the
/// liquidation — and the totals read from them. Immutable; built on the engine thread by
/// <see cref="LiquidationLog"/> and read from any thread.
/// </summary>
public sealed class LiquidationRecord
{
    private LiquidationRecord(long sequence, long timestampMicros, int index, LiquidationProof proof, Side side, EngineEvent[] events)
    {
        Sequence = sequence;
        TimestampMicros = timestampMicros;
        Index = index;
        Proof = proof;
        Side = side;
        Events = events;
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case EventKind.TradeExecuted:
                    FilledThroughBook += e.Quantity;
                    break;
                case EventKind.BackstopTakeover:
                    TakenOver += e.Quantity;
                    break;
                case EventKind.AutoDeleveraged:
                    Deleveraged += e.Quantity;
                    break;
                case EventKind.LiquidationFeeCharged:
                    Fee += e.Amount;
                    break;
                case EventKind.InsuranceDeficitCovered:
                    DeficitCovered += e.Amount;
                    break;
                case EventKind.LiquidationEnded:
                    Ended = true;
                    break;
            }
        }
    }

    /// <summary>The command during which the step ran.</summary>
    public long Sequence { get; }

    public long TimestampMicros { get; }

    /// <summary>The step's place among the steps of its command (<see cref="EngineEvent.ProofIndex"/>).</summary>
    public int Index { get; }

    public LiquidationProof Proof { get; }

    public int AccountId => Proof.AccountId;

    /// <summary>The instrument whose position the step closed (part of).</summary>
    public int InstrumentId => Proof.ChosenInstrumentId;

    /// <summary>The side the liquidated account traded on: sell to close a long, buy to close a short.</summary>
    public Side Side { get; }

    /// <summary>The step's events, in the order the engine emitted them.</summary>
    public IReadOnlyList<EngineEvent> Events { get; }

    /// <summary>What the liquidation order filled against resting orders, at or better than the bankruptcy price.</summary>
    public Quantity FilledThroughBook { get; }

    /// <summary>What the insurance fund took over at the bankruptcy price.</summary>
    public Quantity TakenOver { get; }

    /// <summary>What was closed against opposite positions at the bankruptcy price.</summary>
    public Quantity Deleveraged { get; }

    /// <summary>The liquidation fee the fund received for the book fills.</summary>
    public Money Fee { get; }

    /// <summary>What the fund paid for an account left with negative equity and nothing to close.</summary>
    public Money DeficitCovered { get; }

    /// <summary>True when the account (or isolated position) left the liquidation queue after this step.</summary>
    public bool Ended { get; }

    /// <summary>
    /// The steps of one applied command: one record per proof, each with the events that belong to
    /// it. A step's events run from its <see cref="EventKind.LiquidationStep"/> to the next step's;
    /// within that stretch they are told apart from other accounts' by account (and proof index),
    /// and the account's orders cancelled for the step are the liquidation cancellations just before it.
    /// </summary>
    public static void Read(long sequence, long timestampMicros, ReadOnlySpan<EngineEvent> events, IReadOnlyList<LiquidationProof> proofs, List<LiquidationRecord> output)
    {
        int previousStep = -1;
        for (int i = 0; i < events.Length; i++)
        {
            if (events[i].Kind != EventKind.LiquidationStep)
            {
                continue;
            }

            int next = i + 1;
            while (next < events.Length && events[next].Kind != EventKind.LiquidationStep)
            {
                next++;
            }

            var step = events[i];
            if ((uint)step.ProofIndex < (uint)proofs.Count)
            {
                output.Add(new LiquidationRecord(sequence, timestampMicros, step.ProofIndex, proofs[step.ProofIndex], step.Side, Belonging(events, previousStep + 1, i, next, proofs[step.ProofIndex])));
            }

            previousStep = i;
            i = next - 1;
        }
    }

    private static EngineEvent[] Belonging(ReadOnlySpan<EngineEvent> events, int floor, int start, int end, LiquidationProof proof)
    {
        var step = events[start];
        int accountId = step.AccountId;
        var belonging = new List<EngineEvent>();

        // The orders the step cancelled come just before it.
        int first = start;
        while (first > floor && events[first - 1] is { Kind: EventKind.OrderCancelled, CancelReason: CancelReason.Liquidation } cancelled && cancelled.AccountId == accountId)
        {
            first--;
        }

        for (int j = first; j <= start; j++)
        {
            belonging.Add(events[j]);
        }

        long liquidationOrderId = 0;
        for (int j = start + 1; j < end; j++)
        {
            var e = events[j];
            bool mine = e.Kind switch
            {
                EventKind.OrderAccepted => e.AccountId == accountId && liquidationOrderId == 0,
                EventKind.TradeExecuted => e.Liquidation && e.AccountId == accountId && e.OrderId == liquidationOrderId,
                EventKind.OrderCancelled => e.AccountId == accountId && e.OrderId == liquidationOrderId && e.OrderId != 0,
                EventKind.BackstopTakeover or EventKind.AutoDeleveraged => e.AccountId == accountId && e.ProofIndex == step.ProofIndex,
                EventKind.LiquidationFeeCharged => e.AccountId == accountId && e.InstrumentId == step.InstrumentId,
                EventKind.InsuranceDeficitCovered => e.AccountId == accountId,
                EventKind.IsolatedMarginTransferred or EventKind.IsolatedDeficitCovered => e.AccountId == accountId && e.InstrumentId == step.InstrumentId,
                EventKind.LiquidationEnded => e.AccountId == accountId && e.InstrumentId == proof.IsolatedInstrumentId,
                _ => false,
            };
            if (!mine)
            {
                continue;
            }

            if (e.Kind == EventKind.OrderAccepted)
            {
                liquidationOrderId = e.OrderId;
            }

            belonging.Add(e);
        }

        return [.. belonging];
    }
}
