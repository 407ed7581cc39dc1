namespace Clearhouse.Core.Engine;

/// <summary>
/// Ids (accounts or instruments) whose state changed since the state tree last looked, so that
/// sealing a block rehashes only those leaves. Marking is two stores; nothing allocates once
/// the arrays have grown to the number of ids.
/// </summary>
internal sealed class DirtySet
{
    private bool[] flags = new bool[64];
    private int[] ids = new int[64];

    public int Count { get; private set; }

    public void Mark(int id)
    {
        if (id >= flags.Length)
        {
            Array.Resize(ref flags, Math.Max(id + 1, flags.Length * 2));
        }

        if (flags[id])
        {
            return;
        }

        flags[id] = true;
        if (Count == ids.Length)
        {
            Array.Resize(ref ids, ids.Length * 2);
        }

        ids[Count++] = id;
    }

    /// <summary>Returns the marked ids in ascending order and clears the set.</summary>
    public int[] Drain()
    {
        var result = ids.AsSpan(0, Count).ToArray();
        Array.Sort(result);
        foreach (int id in result)
        {
            flags[id] = false;
        }

        Count = 0;
        return result;
    }
}
