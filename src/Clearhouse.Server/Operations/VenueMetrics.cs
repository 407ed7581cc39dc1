using Clearhouse.Core.Engine;
using Clearhouse.Core.Oracles;
using Clearhouse.Server.Deribit.Transport;
using Clearhouse.Server.Sequencing;
using Prometheus;

namespace Clearhouse.Server.Operations;

/// <summary>
/// The venue's Prometheus metrics, served at <c>/metrics</c> (docs/operations.md). Three sources:
/// <list type="bullet">
/// <item>an <see cref="ICommandObserver"/> on the engine thread that counts rejections by reason
/// code and liquidation events into plain arrays (a few increments per command, no locks);</item>
/// <item>the API dispatcher, which records each call's outcome and the order-to-ack latency
/// (<see cref="ObserveCall"/>);</item>
/// <item>values read at scrape time: the sequencer's counters, and one engine query for the
/// insurance fund and each underlying's oracle status and staleness.</item>
/// </list>
/// Each server builds its own <see cref="CollectorRegistry"/>, so that two servers in one test
/// process never share counters.
/// </summary>
public sealed class VenueMetrics : ICommandObserver
{
    private static readonly double[] LatencyBuckets =
        [0.000_025, 0.000_05, 0.000_1, 0.000_2, 0.000_3, 0.000_5, 0.000_75, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    /// <summary>Records per commit: powers of two, up to the largest batch a burst makes.</summary>
    private static readonly double[] CommitSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];

    private static readonly string[] GenerationLabels = ["0", "1", "2"];

    private readonly long[] rejectsByCode = new long[1024];
    private long liquidationSteps;
    private long backstopTakeovers;
    private long autoDeleverages;
    private long tradesExecuted;

    private readonly Counter commands;
    private readonly Counter rejects;
    private readonly Counter liquidations;
    private readonly Counter trades;
    private readonly Gauge insuranceFund;
    private readonly Gauge oracleStaleness;
    private readonly Gauge oracleStatus;
    private readonly Gauge queueLength;
    private readonly Gauge awaitingDurability;
    private readonly Gauge lastSequence;
    private readonly Gauge connections;
    private readonly Histogram orderAck;
    private readonly Counter apiCalls;
    private readonly Counter gcCollections;
    private readonly Counter gcPause;
    private readonly Counter gcAllocated;
    private readonly Histogram commitSeconds;
    private readonly Counter blocksSealed;
    private readonly Counter sealSeconds;
    private readonly Gauge snapshotSerializeSeconds;
    private readonly Histogram commitRecords;

    public VenueMetrics(Sequencer sequencer, DeribitConnections webSocketConnections, TimeProvider clock)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        commands = factory.CreateCounter("clearhouse_commands_total", "Commands the sequencer stamped, by outcome (rate() gives commands per second).", "outcome");
        rejects = factory.CreateCounter("clearhouse_rejects_total", "Commands the engine rejected, by reject code (docs/engine.md).", "code", "reason");
        liquidations = factory.CreateCounter("clearhouse_liquidation_events_total", "Liquidation events: steps, backstop takeovers, auto-deleverages.", "kind");
        trades = factory.CreateCounter("clearhouse_trades_total", "Fills executed by the matching engine.");
        insuranceFund = factory.CreateGauge("clearhouse_insurance_fund_usdc", "Cash of the insurance fund, in USDC.");
        oracleStaleness = factory.CreateGauge("clearhouse_oracle_staleness_seconds", "Seconds since the underlying's index price last changed.", "underlying");
        oracleStatus = factory.CreateGauge("clearhouse_oracle_status", "Oracle status of the underlying: 0 manual (set by governance), 1 healthy, 2 degraded, 3 stale.", "underlying");
        queueLength = factory.CreateGauge("clearhouse_sequencer_queue_length", "Commands and queries waiting for the engine thread.");
        awaitingDurability = factory.CreateGauge("clearhouse_journal_awaiting_durability", "Applied commands whose answer waits for the journal's fsync.");
        lastSequence = factory.CreateGauge("clearhouse_last_sequence", "The last sequence number stamped on a command.");
        connections = factory.CreateGauge("clearhouse_api_websocket_connections", "Open WebSocket connections of the Deribit-compatible API.");
        orderAck = factory.CreateHistogram("clearhouse_order_ack_seconds", "Order-to-ack latency of order entry calls (buy, sell, edit, cancel) on the Deribit API: from the request's arrival to its answer, durable.", new HistogramConfiguration
        {
            LabelNames = ["method"],
            Buckets = LatencyBuckets,
        });
        apiCalls = factory.CreateCounter("clearhouse_api_calls_total", "Deribit API calls by method and outcome (0: success, else the Deribit error code).", "method", "code");
        gcCollections = factory.CreateCounter("clearhouse_gc_collections_total", "Garbage collections of the server process, by generation (0, 1, 2).", "generation");
        gcPause = factory.CreateCounter("clearhouse_gc_pause_seconds_total", "Time the garbage collector has paused the server process's threads.");
        gcAllocated = factory.CreateCounter("clearhouse_gc_allocated_bytes_total", "Bytes allocated on the managed heap by the server process.");
        commitSeconds = factory.CreateHistogram("clearhouse_journal_commit_seconds", "Duration of each journal group commit, by phase: write (checksum and write the records) and sync (the fsync or fdatasync). Every durable answer waits for its commit's write and sync.", new HistogramConfiguration
        {
            LabelNames = ["phase"],
            Buckets = LatencyBuckets,
        });
        commitRecords = factory.CreateHistogram("clearhouse_journal_commit_records", "Records (commands) made durable by each journal group commit.", new HistogramConfiguration
        {
            Buckets = CommitSizeBuckets,
        });
        blocksSealed = factory.CreateCounter("clearhouse_blocks_sealed_total", "Blocks sealed by this process.");
        sealSeconds = factory.CreateCounter("clearhouse_block_seal_seconds_total", "Time the engine thread spent sealing blocks (no command is applied meanwhile).");
        snapshotSerializeSeconds = factory.CreateGauge("clearhouse_snapshot_serialize_seconds", "How long the engine thread took to serialize the last snapshot (no command is applied meanwhile).");
        var commitWrite = commitSeconds.WithLabels("write");
        var commitSync = commitSeconds.WithLabels("sync");
        sequencer.Venue.Commits.Observe(commit =>
        {
            commitWrite.Observe(commit.WriteTime.TotalSeconds);
            commitSync.Observe(commit.SyncTime.TotalSeconds);
            commitRecords.Observe(commit.Records);
        });

        Registry.AddBeforeCollectCallback(async cancel =>
        {
            commands.WithLabels("applied").IncTo(sequencer.AppliedCount);
            commands.WithLabels("rejected").IncTo(sequencer.RejectedCount);
            queueLength.Set(Math.Max(0, sequencer.QueueLength));
            awaitingDurability.Set(sequencer.AwaitingDurability);
            lastSequence.Set(sequencer.LastStampedSequence);
            blocksSealed.IncTo(sequencer.BlocksSealed);
            sealSeconds.IncTo(sequencer.TotalSealTime.TotalSeconds);
            snapshotSerializeSeconds.Set(sequencer.LastSnapshotSerializeMillis / 1000);
            connections.Set(webSocketConnections.Count);
            for (int generation = 0; generation <= 2; generation++)
            {
                gcCollections.WithLabels(GenerationLabels[generation]).IncTo(GC.CollectionCount(generation));
            }

            gcPause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
            gcAllocated.IncTo(GC.GetTotalAllocatedBytes());
            for (int code = 0; code < rejectsByCode.Length; code++)
            {
                long count = Volatile.Read(ref rejectsByCode[code]);
                if (count > 0)
                {
                    rejects.WithLabels(code.ToString(System.Globalization.CultureInfo.InvariantCulture), ((RejectReason)code).ToString()).IncTo(count);
                }
            }

            liquidations.WithLabels("step").IncTo(Volatile.Read(ref liquidationSteps));
            liquidations.WithLabels("backstop_takeover").IncTo(Volatile.Read(ref backstopTakeovers));
            liquidations.WithLabels("auto_deleverage").IncTo(Volatile.Read(ref autoDeleverages));
            trades.IncTo(Volatile.Read(ref tradesExecuted));

            long now = (clock.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
            try
            {
                var (fund, oracles) = await sequencer.QueryAsync(e => (
                    e.Ledger.InsuranceFund.ToDecimal(),
                    e.Underlyings.Select(u => (u.Name, u.IndexUpdatedMicros, u.StatusAt(now))).ToArray()), cancel).WaitAsync(TimeSpan.FromSeconds(2), cancel);
                insuranceFund.Set((double)fund);
                foreach (var (name, updated, status) in oracles)
                {
                    oracleStaleness.WithLabels(name).Set(updated == 0 ? double.NaN : Math.Max(0, now - updated) / 1e6);
                    oracleStatus.WithLabels(name).Set((int)status);
                }
            }
            catch (Exception ex) when (ex is TimeoutException or SequencerStoppedException or OperationCanceledException)
            {
                // The engine did not answer in time: the engine-read gauges keep their last values.
            }
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Records one API call: its outcome, and for order entry the latency from arrival to answer.</summary>
    public void ObserveCall(string method, int errorCode, long usIn, long usOut, bool orderEntry)
    {
        // The labelled children are looked up once per (method, code) and kept: no label lookup
        // and no code-to-string allocation per call.
        if (!apiCallChildren.TryGetValue((method, errorCode), out var calls))
        {
            calls = apiCallChildren.GetOrAdd((method, errorCode), key => apiCalls.WithLabels(key.Method, key.Code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        calls.Inc();
        if (orderEntry)
        {
            if (!orderAckChildren.TryGetValue(method, out var ack))
            {
                ack = orderAckChildren.GetOrAdd(method, name => orderAck.WithLabels(name));
            }

            ack.Observe(Math.Max(0, usOut - usIn) / 1e6);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Method, int Code), Counter.Child> apiCallChildren = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Histogram.Child> orderAckChildren = new(StringComparer.Ordinal);

    public void OnApplied(Command command, RejectReason reason, ReadOnlySpan<EngineEvent> events, Engine engine)
    {
        if (reason != RejectReason.None && (int)reason < rejectsByCode.Length)
        {
            Interlocked.Increment(ref rejectsByCode[(int)reason]);
        }

        foreach (ref readonly var e in events)
        {
            switch (e.Kind)
            {
                case EventKind.TradeExecuted:
                    tradesExecuted++;
                    break;
                case EventKind.LiquidationStep:
                    liquidationSteps++;
                    break;
                case EventKind.BackstopTakeover:
                    backstopTakeovers++;
                    break;
                case EventKind.AutoDeleveraged:
                    autoDeleverages++;
                    break;
            }
        }
    }
}
