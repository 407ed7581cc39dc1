namespace Clearhouse.Core.Engine;

/// <summary>
/// The accounts exposed to one underlying, with how many of its instruments each holds, so that
/// re-margining after a mark update visits exactly the accounts it can affect. Add and remove are
/// O(1) (swap-remove); members come in no canonical order.
/// </summary>
public sealed class ExposureIndex
{
    private readonly List<int> members = [];
    private int[] countByAccount = new int[16];
    private int[] slotByAccount = new int[16];

    public IReadOnlyList<int> Members => members;

    /// <summary>The members without an enumerator (valid until the index next changes).</summary>
    public ReadOnlySpan<int> MemberSpan => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(members);

    public int Count => members.Count;

    public bool Contains(int accountId) => accountId < countByAccount.Length && countByAccount[accountId] > 0;

    /// <summary>One more instrument of the underlying held by <paramref name="accountId"/>.</summary>
    internal void Add(int accountId)
    {
        if (accountId >= countByAccount.Length)
        {
            int size = Math.Max(accountId + 1, countByAccount.Length * 2);
            Array.Resize(ref countByAccount, size);
            Array.Resize(ref slotByAccount, size);
        }

        if (countByAccount[accountId]++ == 0)
        {
            slotByAccount[accountId] = members.Count;
            members.Add(accountId);
        }
    }

    /// <summary>One instrument fewer.</summary>
    internal void Remove(int accountId)
    {
        if (--countByAccount[accountId] > 0)
        {
            return;
        }

        int slot = slotByAccount[accountId];
        int last = members[^1];
        members[slot] = last;
        slotByAccount[last] = slot;
        members.RemoveAt(members.Count - 1);
    }
}

/// <summary>One line of a re-margining pass: an account's cross figures (<see cref="InstrumentId"/> 0) or one isolated position's.</summary>
public readonly record struct AccountHealth(int AccountId, int InstrumentId, Numerics.Money Equity, Numerics.Money Maintenance)
{
    /// <summary>Equity strictly below maintenance (equal is not liquidatable).</summary>
    public bool BelowMaintenance => Equity < Maintenance;
}
