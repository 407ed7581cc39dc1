using Clearhouse.Core.Engine;
using CsCheck;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;
using Clearhouse.Journal;
using Clearhouse.Journal.Blocks;
using Clearhouse.Server.Durability;
using Clearhouse.Server.Sequencing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clearhouse.Server.Tests;

public sealed class SequencerTests
{
    [Fact]
    public async Task Sequence_numbers_always_increase_even_after_rejections_and_gaps_are_allowed()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var sequencer = Started(new Engine(), clock);

        var created = await sequencer.SubmitAsync(new CreateAccount());
        var rejected = await sequencer.SubmitAsync(new Deposit(AccountId: 99, Money.FromWhole(1)));
        var deposited = await sequencer.SubmitAsync(new Deposit(created.Events[0].AccountId, Money.FromWhole(1)));

        Assert.True(created.IsAccepted);
        Assert.Equal(RejectReason.UnknownAccount, rejected.Reason);
        Assert.True(deposited.IsAccepted, deposited.Reason.ToString());
        Assert.True(created.Sequence < rejected.Sequence && rejected.Sequence < deposited.Sequence);
        Assert.Equal(deposited.Sequence, await sequencer.QueryAsync(e => e.LastSequence));
    }

    [Fact]
    public async Task Timestamps_come_from_the_clock_in_Unix_microseconds_and_never_go_backwards()
    {
        var start = DateTimeOffset.Parse("2026-11-25T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var clock = new ManualClock(start);
        using var sequencer = Started(new Engine(), clock);

        var first = await sequencer.SubmitAsync(new CreateAccount());
        clock.Now = start.AddSeconds(-30); // the wall clock steps back
        var second = await sequencer.SubmitAsync(new CreateAccount());
        clock.Now = start.AddTicks(15); // 1.5 µs later
        var third = await sequencer.SubmitAsync(new CreateAccount());

        long startMicros = start.ToUnixTimeMilliseconds() * 1000;
        Assert.Equal(startMicros, first.TimestampMicros);
        Assert.Equal(startMicros, second.TimestampMicros);
        Assert.Equal(startMicros + 1, third.TimestampMicros);
        Assert.True(second.IsAccepted && third.IsAccepted);
    }

    [Fact]
    public async Task Events_are_copied_so_they_survive_the_next_command()
    {
        using var sequencer = Started(new Engine(), new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)));
        var first = await sequencer.SubmitAsync(new CreateAccount());
        var second = await sequencer.SubmitAsync(new CreateAccount());
        Assert.Equal(1, first.Events[0].AccountId);
        Assert.Equal(2, second.Events[0].AccountId);
    }

    [Fact]
    public async Task Listing_an_instrument_puts_it_in_the_directory_for_the_gateway()
    {
        using var sequencer = Started(new Engine(), new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)));
        var spec = InstrumentSpec.Create(InstrumentTerms.Perpetual("SOL"), Price.FromDecimal(0.01m), Quantity.FromDecimal(0.1m));
        Assert.False(sequencer.Instruments.TryGetId("SOL_USDC-PERPETUAL", out _));

        var listed = await sequencer.SubmitAsync(new ListInstrument(spec));

        Assert.True(listed.IsAccepted);
        Assert.True(sequencer.Instruments.TryGetId("SOL_USDC-PERPETUAL", out int id));
        Assert.Equal("SOL_USDC-PERPETUAL", sequencer.Instruments.NameOf(id));
    }

    [Fact]
    public async Task Queries_run_on_the_engine_thread_and_a_failing_query_fails_only_its_caller()
    {
        using var sequencer = Started(new Engine(), new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)));
        string? engineThread = await sequencer.QueryAsync(_ => Thread.CurrentThread.Name);
        Assert.Equal("Clearhouse engine", engineThread);

        await Assert.ThrowsAsync<InvalidOperationException>(() => sequencer.QueryAsync<int>(_ => throw new InvalidOperationException("boom")));
        Assert.True((await sequencer.SubmitAsync(new CreateAccount())).IsAccepted);
    }

    [Fact]
    public async Task After_stopping_new_commands_are_refused_and_queued_ones_were_applied()
    {
        var sequencer = Started(new Engine(), new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)));
        var queued = Enumerable.Range(0, 100).Select(_ => sequencer.SubmitAsync(new CreateAccount())).ToList();
        await sequencer.StopAsync(CancellationToken.None);

        Assert.All(await Task.WhenAll(queued), r => Assert.True(r.IsAccepted));
        await Assert.ThrowsAsync<SequencerStoppedException>(() => sequencer.SubmitAsync(new CreateAccount()));
        sequencer.Dispose();
    }

    [Fact]
    public async Task A_command_is_answered_only_once_the_journal_has_it_on_disk_and_rejections_are_journaled_too()
    {
        string directory = TemporaryDirectory.Create("acks");
        try
        {
            // No flusher thread: nothing reaches the disk until Flush, so the wait is visible.
            var (sequencer, journal) = Journaled(directory, new SequencerOptions());
            using (sequencer)
            {
                var created = sequencer.SubmitAsync(new CreateAccount());
                var rejected = sequencer.SubmitAsync(new Deposit(AccountId: 42, Money.FromWhole(1)));
                Assert.Equal(1, await sequencer.QueryAsync(e => e.AccountCount)); // applied, and visible to queries...
                Assert.False(created.IsCompleted); // ...but not acknowledged
                Assert.False(rejected.IsCompleted);

                journal.Flush();

                Assert.True((await created.WaitAsync(TimeSpan.FromSeconds(10))).IsAccepted);
                Assert.Equal(RejectReason.UnknownAccount, (await rejected.WaitAsync(TimeSpan.FromSeconds(10))).Reason);
                Assert.Equal(2, sequencer.LastDurableSequence);
                await sequencer.StopAsync(CancellationToken.None);
            }

            var journaled = new List<Command>();
            foreach (var record in JournalReader.Read(directory))
            {
                journaled.Add(CommandCodec.Decode(record.Payload));
            }

            Assert.Equal([new CreateAccount(), new Deposit(42, Money.FromWhole(1))], journaled.Select(c => c with { Sequence = 0, TimestampMicros = 0 }));
            Assert.Equal([1L, 2L], journaled.Select(c => c.Sequence));
        }
        finally
        {
            TemporaryDirectory.Delete(directory);
        }
    }

    [Fact]
    public async Task An_engine_thread_that_spins_before_it_sleeps_still_takes_every_command_and_stops()
    {
        var venue = RecoveredVenue.InMemory(new Engine());
        var sequencer = new Sequencer(venue, new SequencerOptions { IdleSpin = TimeSpan.FromMilliseconds(2) }, new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)), NullLogger<Sequencer>.Instance);
        using (sequencer)
        {
            sequencer.Start();
            for (int i = 1; i <= 20; i++)
            {
                // Alternately within the spin and after it, when the thread sleeps and must be woken.
                await Task.Delay(i % 2 == 0 ? 0 : 10);
                var created = await sequencer.SubmitAsync(new CreateAccount()).WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(i, created.Events[0].AccountId);
            }

            await sequencer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Clock_ticks_go_through_the_journal_like_any_command()
    {
        string directory = TemporaryDirectory.Create("ticks");
        try
        {
            var (sequencer, journal) = Journaled(directory, new SequencerOptions { TickInterval = TimeSpan.FromMilliseconds(10) });
            using (sequencer)
            {
                Assert.True(await RunningServer.EventuallyAsync(() => Task.FromResult(sequencer.LastStampedSequence >= 3), TimeSpan.FromSeconds(20)));
                await sequencer.StopAsync(CancellationToken.None);
            }

            var kinds = new List<Type>();
            foreach (var record in JournalReader.Read(directory))
            {
                kinds.Add(CommandCodec.Decode(record.Payload).GetType());
            }

            Assert.True(kinds.Count >= 3);
            Assert.All(kinds, kind => Assert.Equal(typeof(Tick), kind));
        }
        finally
        {
            TemporaryDirectory.Delete(directory);
        }
    }

    [Fact]
    public async Task With_ApplyInline_a_command_on_a_quiet_venue_is_applied_on_the_callers_thread()
    {
        var venue = RecoveredVenue.InMemory(new Engine());
        using var sequencer = new Sequencer(venue, new SequencerOptions { ApplyInline = true }, new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)), NullLogger<Sequencer>.Instance);
        sequencer.Start();

        // Once the engine thread has found nothing to do and sleeps, the caller runs the query itself
        // (a query takes the same path as a command, and says where it ran).
        string? appliedOn = null;
        Assert.True(await RunningServer.EventuallyAsync(async () =>
        {
            appliedOn = await sequencer.QueryAsync(_ => Thread.CurrentThread.Name);
            return appliedOn != "Clearhouse engine";
        }, TimeSpan.FromSeconds(10)), "every query ran on the engine thread");
        var created = await sequencer.SubmitAsync(new CreateAccount()).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(created.IsAccepted);
        Assert.Equal(1, await sequencer.QueryAsync(e => e.AccountCount));
        await sequencer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void With_ApplyInline_callers_and_the_engine_thread_apply_one_at_a_time_in_queue_order_and_the_journal_replays_to_the_same_state()
    {
        // Random streams from 1–4 writers (commands whose outcome depends on the order: a deposit to an
        // account not yet created is rejected, and queries), with pauses that let the engine thread
        // fall asleep, so that callers claim the engine, hand it back, and race the engine thread and
        // the clock's ticks (in half the runs: they would also hide a lost wake-up) for it; half the
        // runs stop the sequencer while the writers still write.
        int appliedInline = 0, appliedOnEngineThread = 0;
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 300], Gen.Int[0, 3], Gen.Bool, Gen.Bool, Gen.Int[1, 20], Gen.Int).Sample((writers, perWriter, pauseEvery, ticks, stopEarly, blockSize, seed) =>
        {
            string directory = TemporaryDirectory.Create("apply-inline");
            try
            {
                var guard = new OneAtATime();
                var acknowledgements = new DurableAcknowledgements();
                var journal = JournalWriter.Open(directory, new JournalWriterOptions { OnDurable = acknowledgements.Release });
                var venue = new RecoveredVenue(new Engine(), new BlockSealer(maxCommands: blockSize), new PublishedBlocks(), new StartupRecovery(), 0, 0, 0, journal, acknowledgements, null, null);
                var options = new SequencerOptions { ApplyInline = true, InlineApplyLimit = 4, TickInterval = ticks ? TimeSpan.FromMilliseconds(1) : null };
                using var sequencer = new Sequencer(venue, options, TimeProvider.System, NullLogger<Sequencer>.Instance);
                sequencer.AddObserver(guard);
                sequencer.Start();

                var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
                {
                    var random = new Random(seed + w);
                    var answers = new List<Task<CommandResult>>();
                    try
                    {
                        for (int i = 0; i < perWriter; i++)
                        {
                            if (pauseEvery > 0 && random.Next(pauseEvery * 8) == 0)
                            {
                                Thread.Sleep(random.Next(2)); // long enough for the engine thread to sleep
                            }

                            if (random.Next(10) == 0)
                            {
                                await sequencer.QueryAsync(e => e.AccountCount);
                                continue;
                            }

                            answers.Add(random.Next(3) == 0
                                ? sequencer.SubmitAsync(new CreateAccount())
                                : sequencer.SubmitAsync(new Deposit(random.Next(1, 12), Money.FromWhole(random.Next(1, 100)))));
                        }
                    }
                    catch (SequencerStoppedException) when (stopEarly)
                    {
                        // The sequencer stopped under this writer: what it queued before still gets answered.
                    }

                    foreach (var answer in answers)
                    {
                        try
                        {
                            await answer.WaitAsync(TimeSpan.FromSeconds(20));
                        }
                        catch (SequencerStoppedException) when (stopEarly)
                        {
                            // Refused at the door after the stop: never queued, so never applied.
                        }
                    }
                })).ToArray();

                if (stopEarly)
                {
                    Thread.Sleep(seed & 3);
                    sequencer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
                    Task.WaitAll(writing, TimeSpan.FromSeconds(30));
                }
                else
                {
                    Task.WaitAll(writing, TimeSpan.FromSeconds(30));
                    sequencer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
                }

                Assert.All(writing, t => Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString() ?? "a writer is stuck"));
                Assert.Equal(0, guard.Overlaps);
                Assert.Equal(Enumerable.Range(1, guard.Sequences.Count).Select(n => (long)n), guard.Sequences); // every sequence once, in order

                // The journal replayed, with the same block rule, gives the live state and the live
                // blocks: every seal came right after its block's last command, whoever applied it.
                var replayed = new Engine();
                var sealer = new BlockSealer(maxCommands: blockSize);
                var blocks = new List<string>();
                int records = 0;
                foreach (var record in JournalReader.Read(directory))
                {
                    var command = CommandCodec.Decode(record.Payload);
                    replayed.Apply(command);
                    if (sealer.Append(command.Sequence, command.TimestampMicros, record.Payload, replayed) is { } header)
                    {
                        blocks.Add(Convert.ToHexStringLower(header.Hash()));
                    }

                    records++;
                }

                Assert.Equal(guard.Sequences.Count, records);
                Assert.Equal(venue.Engine.ComputeStateHashHex(), replayed.ComputeStateHashHex());
                var liveBlocks = Enumerable.Range(1, (int)venue.Blocks.LastHeight).Select(h => venue.Blocks.TryGet(h, out var b) ? Convert.ToHexStringLower(b.Hash()) : "missing");
                Assert.Equal(blocks, liveBlocks);
                appliedInline += guard.AppliedOffEngineThread;
                appliedOnEngineThread += guard.Sequences.Count - guard.AppliedOffEngineThread;
            }
            finally
            {
                TemporaryDirectory.Delete(directory);
            }
        }, iter: 30, threads: 1);

        Assert.True(appliedInline > 0, "no caller ever applied a command itself");
        Assert.True(appliedOnEngineThread > 0, "the engine thread never applied a command");
    }

    [Fact]
    public async Task A_caller_applying_inline_leaves_the_block_seal_to_the_engine_thread_and_what_is_queued_after_it()
    {
        // Every command closes a block. Caller A claims the engine with a query that holds it until
        // three commands are queued behind; A applies the first, which closes a block, and must then
        // hand over: the seal and the two commands after it run on the engine thread.
        var venue = RecoveredVenue.InMemory(new Engine(), blockMaxCommands: 1);
        using var sequencer = new Sequencer(venue, new SequencerOptions { ApplyInline = true }, new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)), NullLogger<Sequencer>.Instance);
        var appliedOn = new ThreadOfEachCommand();
        sequencer.AddObserver(appliedOn);
        sequencer.Start();
        Assert.True(await RunningServer.EventuallyAsync(async () => await sequencer.QueryAsync(_ => Thread.CurrentThread.Name) != "Clearhouse engine", TimeSpan.FromSeconds(10)));

        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var callerA = Task.Run(() => sequencer.QueryAsync(_ =>
        {
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            return Thread.CurrentThread.Name;
        }));
        Assert.True(holding.Wait(TimeSpan.FromSeconds(10)));
        var queued = new[] { sequencer.SubmitAsync(new CreateAccount()), sequencer.SubmitAsync(new CreateAccount()), sequencer.SubmitAsync(new CreateAccount()) };
        release.Set();

        Assert.NotEqual("Clearhouse engine", await callerA.WaitAsync(TimeSpan.FromSeconds(10)));
        var results = await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, r => Assert.True(r.IsAccepted));
        Assert.NotEqual("Clearhouse engine", appliedOn[results[0].Sequence]);
        Assert.Equal("Clearhouse engine", appliedOn[results[1].Sequence]);
        Assert.Equal("Clearhouse engine", appliedOn[results[2].Sequence]);
        Assert.Equal(3, sequencer.BlocksSealed);
        Assert.Equal(results[2].Sequence, venue.Blocks.Latest!.LastSequence);
        await sequencer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_command_submitted_by_an_answers_continuation_on_the_journals_flusher_is_not_applied_there()
    {
        // Handlers that await one command and then submit the next run on the thread that completed
        // the first: for a small batch, the journal's flusher. It must not take on the engine's work
        // there (it would hold up the next fsync, and an append waiting for room would wait for itself).
        string directory = TemporaryDirectory.Create("flusher-inline");
        try
        {
            var acknowledgements = new DurableAcknowledgements();
            var journal = JournalWriter.Open(directory, new JournalWriterOptions { OnDurable = acknowledgements.Release });
            var venue = new RecoveredVenue(new Engine(), new BlockSealer(), new PublishedBlocks(), new StartupRecovery(), 0, 0, 0, journal, acknowledgements, null, null);
            using var sequencer = new Sequencer(venue, new SequencerOptions { ApplyInline = true }, TimeProvider.System, NullLogger<Sequencer>.Instance);
            var appliedOn = new ThreadOfEachCommand();
            sequencer.AddObserver(appliedOn);
            sequencer.Start();

            int continuedOnFlusher = 0;
            for (int i = 0; i < 20; i++)
            {
                var second = await sequencer.SubmitAsync(new CreateAccount()).ContinueWith(
                    _ =>
                    {
                        if (Thread.CurrentThread.Name == "journal-flusher")
                        {
                            continuedOnFlusher++;
                        }

                        return sequencer.SubmitAsync(new CreateAccount());
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default).Unwrap().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.NotEqual("journal-flusher", appliedOn[second.Sequence]);
            }

            Assert.True(continuedOnFlusher > 0, "no answer was completed on the flusher: the case was not exercised");
            await sequencer.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            TemporaryDirectory.Delete(directory);
        }
    }

    /// <summary>The name of the thread each sequence was applied on.</summary>
    private sealed class ThreadOfEachCommand : ICommandObserver
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<long, string?> threads = new();

        public string? this[long sequence] => threads[sequence];

        public void OnApplied(Command command, RejectReason reason, ReadOnlySpan<EngineEvent> events, Engine engine) =>
            threads[command.Sequence] = Thread.CurrentThread.Name;
    }

    /// <summary>Records every applied sequence and the thread it ran on, and counts applications that overlapped.</summary>
    private sealed class OneAtATime : ICommandObserver
    {
        private int inside;

        public List<long> Sequences { get; } = [];

        public int Overlaps { get; private set; }

        public int AppliedOffEngineThread { get; private set; }

        public void OnApplied(Command command, RejectReason reason, ReadOnlySpan<EngineEvent> events, Engine engine)
        {
            if (Interlocked.Increment(ref inside) != 1)
            {
                Overlaps++;
            }

            Sequences.Add(command.Sequence);
            if (Thread.CurrentThread.Name != "Clearhouse engine")
            {
                AppliedOffEngineThread++;
            }

            Thread.SpinWait(20); // widen the window in which a second applier would be caught
            Interlocked.Decrement(ref inside);
        }
    }

    /// <summary>A started sequencer on a fresh journal without a flusher thread (durable only after <see cref="JournalWriter.Flush"/>).</summary>
    private static (Sequencer Sequencer, JournalWriter Journal) Journaled(string directory, SequencerOptions options)
    {
        var acknowledgements = new DurableAcknowledgements();
        var journal = JournalWriter.Open(directory, new JournalWriterOptions { BackgroundFlush = false, OnDurable = acknowledgements.Release });
        var venue = new RecoveredVenue(new Engine(), new BlockSealer(), new PublishedBlocks(), new StartupRecovery(), 0, 0, 0, journal, acknowledgements, null, null);
        var sequencer = new Sequencer(venue, options, new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20_000)), NullLogger<Sequencer>.Instance);
        sequencer.Start();
        return (sequencer, journal);
    }

    private static Sequencer Started(Engine engine, TimeProvider clock)
    {
        var sequencer = new Sequencer(engine, clock, NullLogger<Sequencer>.Instance);
        sequencer.Start();
        return sequencer;
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
