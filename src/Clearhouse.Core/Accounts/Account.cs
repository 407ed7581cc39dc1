using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Accounts;

/// <summary>
/// A trading account: its cash in the ledger and its positions by instrument. Positions are
/// stored compactly, sorted by instrument id (an account holds a handful of the venue's possibly
/// thousands of instruments, so neither memory nor a margin pass should scale with the listing);
/// <see cref="ActiveInstruments"/> lists the instruments with a position or open orders, so margin
/// work is proportional to what the account holds.
/// </summary>
/// <remarks>
/// A <c>ref</c> from <see cref="PositionIn"/> stays valid until the next <see cref="PositionIn"/> of
/// an instrument the account has never held (which may move the others): use it at once.
/// </remarks>
public sealed class Account
{
    private int[] positionIds;
    private Position[] positions;
    private int positionCount;
    private int[] active = new int[4];

    internal Account(int id, int expectedPositions = 4)
    {
        Id = id;
        int capacity = Math.Clamp(expectedPositions, 2, 8);
        positionIds = new int[capacity];
        positions = new Position[capacity];
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

    /// <summary>The account's position in an instrument, created empty the first time.</summary>
    public ref Position PositionIn(int instrumentId)
    {
        int at = Find(instrumentId);
        if (at < 0)
        {
            at = ~at;
            if (positionCount == positions.Length)
            {
                Array.Resize(ref positions, positions.Length * 2);
                Array.Resize(ref positionIds, positionIds.Length * 2);
            }

            Array.Copy(positions, at, positions, at + 1, positionCount - at);
            Array.Copy(positionIds, at, positionIds, at + 1, positionCount - at);
            positions[at] = default;
            positionIds[at] = instrumentId;
            positionCount++;
        }

        return ref positions[at];
    }

    /// <summary>Instruments with a stored position (possibly flat but carrying realized PnL or a margin mode), ascending.</summary>
    public ReadOnlySpan<int> StoredInstruments => positionIds.AsSpan(0, positionCount);

    /// <summary>A read-only view of the account's position in an instrument (an empty one when it has none), without copying it.</summary>
    public ref readonly Position Peek(int instrumentId)
    {
        int at = Find(instrumentId);
        if (at < 0)
        {
            return ref Empty;
        }

        return ref positions[at];
    }

    private static readonly Position Empty;

    private int Find(int instrumentId) => Array.BinarySearch(positionIds, 0, positionCount, instrumentId);

    internal void Restore(Money cash, int openOrderCount)
    {
        Cash = cash;
        OpenOrderCount = openOrderCount;
    }

    public Position GetPosition(int instrumentId)
    {
        int at = Find(instrumentId);
        return at >= 0 ? positions[at] : default;
    }

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
        int at = Find(instrumentId);
        if (at >= 0 && !positions[at].IsFlatAndIdle)
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
