using System.Collections.Concurrent;

namespace Clearhouse.Journal.Tests;

public class GroupCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0)]
    [InlineData(200)] // the flusher spins before it sleeps: it must still see every record, and sleep in the gaps
    public async Task Durable_sequence_reaches_the_last_appended_while_one_thread_appends_and_the_flusher_runs(int idleSpinMicros)
    {
        using var dir = new TempDirectory();
        var published = new ConcurrentQueue<long>();
        const int Records = 200_000;
        var payload = new byte[64];
        long batches;
        using (var writer = JournalWriter.Open(dir.Path, new JournalWriterOptions { OnDurable = published.Enqueue, IdleSpin = TimeSpan.FromMicroseconds(idleSpinMicros) }))
        {
            for (long sequence = 1; sequence <= Records; sequence++)
            {
                payload[0] = (byte)sequence;
                writer.Append(sequence, payload);
            }
            await writer.WaitForDurableAsync(Records).WaitAsync(Patience);
            Assert.Equal(Records, writer.DurableSequence);
            Assert.Equal(Records, writer.LastAppendedSequence);
            batches = writer.BatchCount;
        }

        // Batches formed: fewer fsyncs than records (each fsync takes far longer than an append).
        Assert.InRange(batches, 1, Records - 1);
        var sequences = published.ToArray();
        Assert.Equal(batches, sequences.Length);
        Assert.Equal(Records, sequences[^1]);
        Assert.True(sequences.Zip(sequences.Skip(1)).All(p => p.First < p.Second), "durable sequence only grows");
        Assert.Equal(Records, JournalReader.Recover(dir.Path).RecordCount);
    }

    [Fact]
    public async Task A_flusher_that_spins_before_it_sleeps_is_woken_for_records_that_come_later()
    {
        using var dir = new TempDirectory();
        using var writer = JournalWriter.Open(dir.Path, new JournalWriterOptions { IdleSpin = TimeSpan.FromMilliseconds(2) });
        for (long sequence = 1; sequence <= 6; sequence++)
        {
            Thread.Sleep(sequence % 2 == 0 ? 0 : 10); // alternately within the spin and after it, asleep
            writer.Append(sequence, Journals.Payload(sequence));
            await writer.WaitForDurableAsync(sequence).WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task Each_commit_reports_its_records_bytes_and_where_its_time_went()
    {
        using var dir = new TempDirectory();
        var commits = new ConcurrentQueue<(JournalCommit Commit, int Writes)>();
        // Slow writes and a quick fsync tell the two timings apart: each write's 100 ms must show in
        // WriteTime, and SyncTime must hold the fsync's 10 ms but no write.
        int writes = 0; // the flusher's thread only: it writes, syncs and reports
        int writesReported = 0;
        var options = new JournalWriterOptions
        {
            OpenFile = (path, mode) => new FaultyFile(path, mode)
            {
                BeforeWrite = () =>
                {
                    writes++;
                    Thread.Sleep(100);
                },
                BeforeFlush = () => Thread.Sleep(10),
            },
            OnCommitted = commit =>
            {
                commits.Enqueue((commit, writes - writesReported));
                writesReported = writes;
            },
        };
        const int Records = 40;
        long bytes;
        long batches;
        using (var writer = JournalWriter.Open(dir.Path, options))
        {
            for (long sequence = 1; sequence <= Records; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence));
            }
            await writer.WaitForDurableAsync(Records).WaitAsync(Patience);
            bytes = writer.BytesWritten;
            batches = writer.BatchCount;
        }

        var reported = commits.ToArray();
        Assert.Equal(batches, reported.Length);
        Assert.Equal(Records, reported.Sum(c => c.Commit.Records));
        Assert.Equal(bytes, reported.Sum(c => c.Commit.Bytes));
        Assert.All(reported, c =>
        {
            Assert.True(c.Commit.Records > 0 && c.Commit.Bytes > 0 && c.Writes > 0, $"an empty commit was reported: {c}");
            Assert.True(c.Commit.WriteTime >= TimeSpan.FromMilliseconds(100 * c.Writes - 1), $"{c.Writes} writes of 100 ms are missing from WriteTime: {c}");
            Assert.InRange(c.Commit.SyncTime, TimeSpan.FromMilliseconds(9), TimeSpan.FromMilliseconds(99));
        });
    }

    [Fact]
    public async Task Waiters_complete_only_after_their_sequence_is_durable()
    {
        using var dir = new TempDirectory();
        using var fsyncGate = new ManualResetEventSlim(false);
        using var fsyncEntered = new ManualResetEventSlim(false);
        var options = new JournalWriterOptions
        {
            OpenFile = (path, mode) => new FaultyFile(path, mode)
            {
                BeforeFlush = () =>
                {
                    fsyncEntered.Set();
                    fsyncGate.Wait(Patience);
                },
            },
        };
        using var writer = JournalWriter.Open(dir.Path, options);
        var observed = new ConcurrentBag<(long Sequence, long DurableWhenCompleted)>();
        var waits = new List<Task>();
        for (long sequence = 1; sequence <= 50; sequence++)
        {
            writer.Append(sequence, [(byte)sequence]);
            var expected = sequence;
            waits.Add(writer.WaitForDurableAsync(sequence).ContinueWith(_ => observed.Add((expected, writer.DurableSequence))));
        }

        // The flusher is now inside fsync, holding written but not yet durable records: nothing may complete.
        Assert.True(fsyncEntered.Wait(Patience), "the flusher never reached fsync");
        Assert.Equal(0, writer.DurableSequence);
        Assert.Empty(observed);

        fsyncGate.Set();
        await Task.WhenAll(waits).WaitAsync(Patience);
        Assert.Equal(50, writer.DurableSequence);
        Assert.All(observed, o => Assert.True(o.DurableWhenCompleted >= o.Sequence));
        Assert.True(writer.WaitForDurableAsync(50).IsCompletedSuccessfully);
    }

    [Fact]
    public void Flush_blocks_until_everything_appended_is_durable()
    {
        using var dir = new TempDirectory();
        using var writer = JournalWriter.Open(dir.Path);
        for (long sequence = 1; sequence <= 1000; sequence++)
        {
            writer.Append(sequence, Journals.Payload(sequence));
        }
        writer.Flush();
        Assert.Equal(1000, writer.DurableSequence);
        Assert.Equal(1000, Journals.ReadAll(dir.Path, to: 1000).Count);
        writer.Flush(); // nothing new: returns at once
    }

    [Fact]
    public void Without_the_background_flusher_nothing_is_durable_until_flush()
    {
        using var dir = new TempDirectory();
        using var writer = JournalWriter.Open(dir.Path, Journals.Inline);
        writer.Append(1, [1]);
        writer.Append(2, [2]);
        Assert.Equal(0, writer.DurableSequence);
        Assert.False(writer.WaitForDurableAsync(2).IsCompleted);
        writer.Flush();
        Assert.Equal(2, writer.DurableSequence);
        Assert.Equal(1, writer.BatchCount);
    }

    [Fact]
    public async Task Disposing_makes_everything_appended_durable_and_fails_waiters_for_sequences_never_appended()
    {
        using var dir = new TempDirectory();
        Task beyond;
        using (var writer = JournalWriter.Open(dir.Path))
        {
            for (long sequence = 1; sequence <= 100; sequence++)
            {
                writer.Append(sequence, [(byte)sequence]);
            }
            beyond = writer.WaitForDurableAsync(101);
        }
        Assert.Equal(100, JournalReader.Recover(dir.Path).LastSequence);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => beyond.WaitAsync(Patience));
    }

    [Fact]
    public void The_producer_waits_for_the_flusher_when_the_buffer_is_full_and_loses_nothing()
    {
        using var dir = new TempDirectory();
        var options = new JournalWriterOptions
        {
            BufferSizeBytes = 1024,
            MaxBufferSizeBytes = 4096,
            SegmentSizeBytes = 64 * 1024,
            // A slow disk: each fsync takes a millisecond, so the small buffer fills up.
            OpenFile = (path, mode) => new FaultyFile(path, mode) { BeforeFlush = () => Thread.Sleep(1) },
        };
        using (var writer = JournalWriter.Open(dir.Path, options))
        {
            for (long sequence = 1; sequence <= 5000; sequence++)
            {
                writer.Append(sequence, Journals.Payload(sequence, 100));
            }
            writer.Flush();
            Assert.Equal(5000, writer.DurableSequence);
        }
        var read = Journals.ReadAll(dir.Path);
        Assert.Equal(5000, read.Count);
        Assert.Equal(Journals.Payload(4321, 100), read[4320].Payload);
    }

    [Fact]
    public async Task A_failed_fsync_calls_the_fatal_handler_once_and_the_writer_accepts_nothing_more()
    {
        using var dir = new TempDirectory();
        var fatal = new ConcurrentQueue<Exception>();
        var options = new JournalWriterOptions
        {
            FatalHandler = fatal.Enqueue,
            OpenFile = (path, mode) => new FaultyFile(path, mode) { BeforeFlush = () => throw new IOException("simulated EIO from fsync") },
        };
        using var writer = JournalWriter.Open(dir.Path, options);
        writer.Append(1, [1]);
        var waiter = writer.WaitForDurableAsync(1);

        await Assert.ThrowsAsync<JournalFailedException>(() => waiter.WaitAsync(Patience));
        var reported = Assert.Single(fatal);
        Assert.Contains("simulated EIO from fsync", reported.Message);
        Assert.Equal(0, writer.DurableSequence);
        Assert.Throws<JournalFailedException>(() => writer.Append(2, [2]));
        Assert.Throws<JournalFailedException>(() => writer.Flush());
        Assert.True(writer.WaitForDurableAsync(2).IsFaulted);
        Assert.Single(fatal);
    }

    [Fact]
    public void A_failed_write_calls_the_fatal_handler_and_flush_throws()
    {
        using var dir = new TempDirectory();
        var fatal = new ConcurrentQueue<Exception>();
        var options = new JournalWriterOptions
        {
            BackgroundFlush = false,
            FatalHandler = fatal.Enqueue,
            OpenFile = (path, mode) => new FaultyFile(path, mode) { BeforeWrite = () => throw new IOException("simulated ENOSPC") },
        };
        using var writer = JournalWriter.Open(dir.Path, options);
        writer.Append(1, [1]);
        Assert.Throws<JournalFailedException>(() => writer.Flush());
        Assert.Contains("simulated ENOSPC", Assert.Single(fatal).Message);
        Assert.Equal(0, writer.DurableSequence);
    }

    [Fact]
    public void An_exception_from_the_durable_callback_is_treated_as_fatal()
    {
        using var dir = new TempDirectory();
        var fatal = new ConcurrentQueue<Exception>();
        var options = new JournalWriterOptions
        {
            BackgroundFlush = false,
            FatalHandler = fatal.Enqueue,
            OnDurable = _ => throw new InvalidOperationException("callback bug"),
        };
        using var writer = JournalWriter.Open(dir.Path, options);
        writer.Append(1, [1]);
        Assert.Throws<JournalFailedException>(() => writer.Flush());
        Assert.Single(fatal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Records_encoded_in_place_with_BeginAppend_read_back_like_appended_ones_across_chunks_and_segments(bool background)
    {
        using var dir = new TempDirectory();
        var options = new JournalWriterOptions
        {
            BackgroundFlush = background,
            BufferSizeBytes = 1024,
            MaxBufferSizeBytes = 4096,
            SegmentSizeBytes = 8 * 1024,
        };
        using (var writer = JournalWriter.Open(dir.Path, options))
        {
            Assert.Throws<InvalidOperationException>(() => writer.CommitAppend(1, 1));
            for (long sequence = 1; sequence <= 3000; sequence++)
            {
                var expected = Journals.Payload(sequence, 300);
                if (sequence % 3 == 0)
                {
                    writer.Append(sequence, expected);
                    continue;
                }
                if (sequence % 7 == 0)
                {
                    // An abandoned reservation leaves nothing behind.
                    writer.BeginAppend(5).Fill(0xEE);
                }
                var span = writer.BeginAppend(expected.Length);
                Assert.True(span.Length >= expected.Length);
                expected.CopyTo(span);
                writer.CommitAppend(sequence, expected.Length);
                Assert.Throws<InvalidOperationException>(() => writer.CommitAppend(sequence + 1, 1));
            }
            // A record larger than a chunk gets one of its own.
            var large = Journals.Payload(3001, 5000);
            large = large.Length < 2000 ? new byte[5000] : large;
            writer.Append(3001, large);
            writer.Flush();
            Assert.Equal(3001, writer.DurableSequence);
        }
        var read = Journals.ReadAll(dir.Path);
        Assert.Equal(3001, read.Count);
        for (int i = 0; i < 3000; i++)
        {
            Assert.Equal(i + 1, read[i].Sequence);
            Assert.Equal(Journals.Payload(i + 1, 300), read[i].Payload);
        }
        Assert.True(SegmentFiles.List(dir.Path).Count > 10);
    }
}
