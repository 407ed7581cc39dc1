using Clearhouse.Core.Engine;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Tests;

/// <summary>
/// Answers complete when the journal says their command is durable: on the thread that reports it
/// (the flusher), in order, as one <see cref="AnswerBatch"/> whose deferred writes happen once at
/// its end; an answer whose command was already durable when the engine queued it is completed on
/// the thread pool, never on the engine thread that queued it.
/// </summary>
public sealed class DurableAcknowledgementsTests
{
    [Fact]
    public void Release_completes_the_durable_answers_in_order_on_the_calling_thread_as_one_batch()
    {
        var acknowledgements = new DurableAcknowledgements();
        var output = new CountingOutput();
        var completedOn = new List<(long Sequence, int Thread, bool Deferred)>();
        var completions = new List<TaskCompletionSource<CommandResult>>();
        for (long sequence = 1; sequence <= 5; sequence++)
        {
            var completion = new TaskCompletionSource<CommandResult>();
            completion.Task.ContinueWith(
                t => completedOn.Add((t.Result.Sequence, Environment.CurrentManagedThreadId, AnswerBatch.TryDefer(output))),
                TaskContinuationOptions.ExecuteSynchronously);
            completions.Add(completion);
            acknowledgements.Add(sequence, completion, Result(sequence));
        }

        acknowledgements.Release(3);

        int me = Environment.CurrentManagedThreadId;
        Assert.Equal([(1, me, true), (2, me, true), (3, me, true)], completedOn);
        Assert.Equal(1, output.Flushes); // three deferrals, one flush at the end of the batch
        Assert.False(completions[3].Task.IsCompleted);
        Assert.Equal(2, acknowledgements.Count);
        Assert.False(AnswerBatch.TryDefer(output)); // the batch is over
    }

    [Fact]
    public async Task A_large_batch_is_completed_on_another_thread_so_the_flusher_can_fsync_the_next()
    {
        var acknowledgements = new DurableAcknowledgements();
        int[] threads = await ReleaseBatchAsync(acknowledgements, acknowledgements.InlineBatchLimit + 1);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);
        Assert.Single(threads.Distinct()); // one work item answers the whole batch
    }

    [Fact]
    public async Task An_answer_already_durable_when_queued_completes_on_another_thread()
    {
        var acknowledgements = new DurableAcknowledgements();
        acknowledgements.Release(10);
        var completion = new TaskCompletionSource<CommandResult>();
        int completedOn = 0;
        var continuation = completion.Task.ContinueWith(_ => completedOn = Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);

        acknowledgements.Add(7, completion, Result(7));

        await continuation.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(Environment.CurrentManagedThreadId, completedOn);
        Assert.Equal(7, (await completion.Task).Sequence);
    }

    [Theory]
    [InlineData(0, 1, false)]  // 0: every batch goes to the thread pool, even one answer
    [InlineData(32, 32, true)] // a larger limit keeps a batch of 32 on the releasing thread
    [InlineData(32, 33, false)]
    public async Task The_inline_limit_decides_which_batches_the_releasing_thread_answers_itself(int limit, int batch, bool inline)
    {
        int[] threads = await ReleaseBatchAsync(new DurableAcknowledgements(limit), batch);
        Assert.Equal(inline, threads.All(thread => thread == Environment.CurrentManagedThreadId));
        Assert.Single(threads.Distinct());
    }

    /// <summary>Queues answers 1..<paramref name="count"/>, releases them together, and returns the thread each completed on.</summary>
    private static async Task<int[]> ReleaseBatchAsync(DurableAcknowledgements acknowledgements, int count)
    {
        var threads = new int[count];
        var continuations = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            int index = i;
            var completion = new TaskCompletionSource<CommandResult>();
            continuations.Add(completion.Task.ContinueWith(_ => threads[index] = Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously));
            acknowledgements.Add(i + 1, completion, Result(i + 1));
        }

        acknowledgements.Release(count);
        await Task.WhenAll(continuations).WaitAsync(TimeSpan.FromSeconds(10));
        return threads;
    }

    private static CommandResult Result(long sequence) => new(sequence, sequence, RejectReason.None, []);

    private sealed class CountingOutput : IBatchedOutput
    {
        public int Flushes { get; private set; }

        public void Flush() => Flushes++;
    }
}
