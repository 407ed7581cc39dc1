using Clearhouse.Core.Merkle;

namespace Clearhouse.Server.Durability;

/// <summary>
/// The block headers the venue serves, readable from any thread: every header in
/// <c>blocks/blocks.log</c> at start, then each new one once it is persisted (its commands
/// durable in the journal and the header itself fsynced). A header is never served before that, so a
/// crash can never take back a block a client has seen. Heights are 1, 2, 3, ... without gaps.
/// All headers stay in memory (about 250 bytes each, some 20 MB a day at one block a second).
/// </summary>
public sealed class PublishedBlocks
{
    private readonly object gate = new();
    private readonly List<BlockHeader> headers = [];
    private TaskCompletionSource added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Height of the latest published block; 0 before the first.</summary>
    public long LastHeight
    {
        get
        {
            lock (gate)
            {
                return headers.Count;
            }
        }
    }

    /// <summary>The latest published header, or null before the first.</summary>
    public BlockHeader? Latest
    {
        get
        {
            lock (gate)
            {
                return headers.Count == 0 ? null : headers[^1];
            }
        }
    }

    public bool TryGet(long height, out BlockHeader header)
    {
        lock (gate)
        {
            if (height >= 1 && height <= headers.Count)
            {
                header = headers[(int)(height - 1)];
                return true;
            }
        }

        header = null!;
        return false;
    }

    /// <summary>Up to <paramref name="limit"/> headers from height <paramref name="from"/> on, ascending.</summary>
    public BlockHeader[] Range(long from, int limit)
    {
        lock (gate)
        {
            long start = Math.Max(1, from);
            if (start > headers.Count || limit <= 0)
            {
                return [];
            }

            int count = (int)Math.Min(limit, headers.Count - start + 1);
            return headers.GetRange((int)(start - 1), count).ToArray();
        }
    }

    /// <summary>Publishes the next header; its height must follow the last one's.</summary>
    public void Add(BlockHeader header)
    {
        TaskCompletionSource signal;
        lock (gate)
        {
            if (header.Height != headers.Count + 1)
            {
                throw new InvalidOperationException($"Block {header.Height} cannot follow block {headers.Count}.");
            }

            headers.Add(header);
            signal = added;
            added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }

    /// <summary>Completes once block <paramref name="height"/> is published.</summary>
    public async Task WaitForHeightAsync(long height, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (gate)
            {
                if (headers.Count >= height)
                {
                    return;
                }

                next = added.Task;
            }

            await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
