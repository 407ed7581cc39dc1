using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Accounts;

/// <summary>
/// A trading account: its cash in the ledger and its positions by instrument. Positions live in
/// an array indexed by instrument id; <see cref="ActiveInstruments"/> lists the instruments with
/// a position or open orders, so margin work is proportional to what the account holds, not to
/// how many instruments are listed.
/// </summary>
public sealed class Account
{
    private Position[] positions;
    private int[] active = new int[4];

    internal Account(int id, int instrumentCapacity)
    {
        Id = id;
        positions = new Position[Math.Max(4, instrumentCapacity)];
    }

    public int Id { get; }

    /// <summary>
    /// The ledger balance: deposits − withdrawals − fees + rebates ± the cash of every fill. It goes
    /// negative while a long position is held on margin; <see cref="Position.OpenCost"/> explains it.
    /// </summary>
    public Money Cash { get; internal set; }

    public int OpenOrderCount { get; internal set; }

    /// <summary>Standard (per position) or portfolio margin for the account's cross positions.</summary>
    public Margin.MarginMode MarginMode { get; internal set; }

    public int ActiveCount { get; private set; }

    public ReadOnlySpan<int> ActiveInstruments => active.AsSpan(0, ActiveCount);

    public ref Position PositionIn(int instrumentId)
    {
        if (instrumentId >= positions.Length)
        {
            Array.Resize(ref positions, Math.Max(instrumentId + 1, positions.Length * 2));
        }

        return ref positions[instrumentId];
    }

    internal void Restore(Money cash, int openOrderCount)
    {
        Cash = cash;
        OpenOrderCount = openOrderCount;
    }

    public Position GetPosition(int instrumentId) => instrumentId < positions.Length ? positions[instrumentId] : default;

    /// <summary>Marks an instrument as held; idempotent. True when it was not held before.</summary>
    internal bool Activate(int instrumentId)
    {
        for (int i = 0; i < ActiveCount; i++)
        {
            if (active[i] == instrumentId)
            {
                return false;
            }
        }

        if (ActiveCount == active.Length)
        {
            Array.Resize(ref active, active.Length * 2);
        }

        // Kept sorted so that every walk over an account's instruments is in a canonical order.
        int at = ActiveCount;
        while (at > 0 && active[at - 1] > instrumentId)
        {
            active[at] = active[at - 1];
            at--;
        }

        active[at] = instrumentId;
        ActiveCount++;
        return true;
    }

    /// <summary>Forgets an instrument once the account has neither a position nor orders in it. True when it was forgotten now.</summary>
    internal bool DeactivateIfIdle(int instrumentId)
    {
        if (instrumentId >= positions.Length || !positions[instrumentId].IsFlatAndIdle)
        {
            return false;
        }

        for (int i = 0; i < ActiveCount; i++)
        {
            if (active[i] == instrumentId)
            {
                Array.Copy(active, i + 1, active, i, ActiveCount - i - 1);
                ActiveCount--;
                return true;
            }
        }

        return false;
    }
}
