using CsCheck;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Tests;

/// <summary>The engine thread's lock-free inbox: nothing lost, nothing twice, each writer's order kept, the bound held, and closing final.</summary>
public sealed class WorkQueueTests
{
    private sealed record Item(int Writer, int Index);

    [Fact]
    public void Concurrent_writers_lose_nothing_and_each_keeps_its_order_whatever_the_bound()
    {
        // Random writer counts, item counts and capacities (down to 1, so writers wait for room
        // all the time); one reader, as the engine thread, while the writers run.
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 2_000], Gen.Int[1, 64]).Sample((writers, perWriter, capacity) =>
        {
            var queue = new WorkQueue<Item>(capacity);
            var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (int i = 0; i < perWriter; i++)
                {
                    Assert.True(await queue.WriteAsync(new Item(w, i), CancellationToken.None));
                }
            })).ToArray();

            var next = new int[writers];
            int read = 0;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (read < writers * perWriter)
            {
                Assert.True(DateTime.UtcNow < deadline, $"stuck after {read} items");
                Assert.InRange(queue.Count, 0, capacity);
                if (queue.TryRead(out var item))
                {
                    Assert.Equal(next[item.Writer]++, item.Index); // in order, none skipped or repeated
                    read++;
                }
            }

            Task.WaitAll(writing, TimeSpan.FromSeconds(30));
            Assert.All(next, n => Assert.Equal(perWriter, n));
            Assert.False(queue.TryRead(out _));
            Assert.Equal(0, queue.Count);
        }, iter: 40);
    }

    [Fact]
    public async Task A_full_queue_refuses_a_write_and_makes_a_waiting_writer_wait_for_room()
    {
        var queue = new WorkQueue<Item>(2);
        Assert.Equal(WorkQueue<Item>.WriteResult.Written, queue.TryWrite(new Item(0, 0)));
        Assert.Equal(WorkQueue<Item>.WriteResult.Written, queue.TryWrite(new Item(0, 1)));
        Assert.Equal(WorkQueue<Item>.WriteResult.Full, queue.TryWrite(new Item(0, 2)));

        var waiting = queue.WriteAsync(new Item(0, 2), CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        Assert.True(queue.TryRead(out var first));
        Assert.Equal(0, first.Index);
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public async Task Closing_refuses_new_writes_keeps_the_written_ones_and_releases_waiting_writers()
    {
        var queue = new WorkQueue<Item>(1);
        Assert.Equal(WorkQueue<Item>.WriteResult.Written, queue.TryWrite(new Item(0, 0)));
        var waiting = queue.WriteAsync(new Item(0, 1), CancellationToken.None).AsTask();
        Assert.False(queue.IsDrained);

        queue.Close();

        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(10))); // not written
        Assert.Equal(WorkQueue<Item>.WriteResult.Closed, queue.TryWrite(new Item(0, 2)));
        Assert.False(queue.IsDrained); // the item written before the close is still there
        Assert.True(queue.TryRead(out var kept));
        Assert.Equal(0, kept.Index);
        Assert.False(queue.TryRead(out _));
        Assert.True(queue.IsDrained);
    }

    [Fact]
    public async Task A_writer_waiting_for_room_can_give_up()
    {
        var queue = new WorkQueue<Item>(1);
        queue.TryWrite(new Item(0, 0));
        using var cancel = new CancellationTokenSource();
        var waiting = queue.WriteAsync(new Item(0, 1), cancel.Token).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // The one written is read, and the cancelled one was never written.
        Assert.True(queue.TryRead(out _));
        Assert.False(queue.TryRead(out _));
        Assert.Equal(WorkQueue<Item>.WriteResult.Written, queue.TryWrite(new Item(0, 2)));
    }
}
