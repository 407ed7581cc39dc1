using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Tests.Engine;
using NSec.Cryptography;

namespace Clearhouse.Core.Tests.Oracles;

/// <summary>A venue whose BTC index comes from five signed reporters (quorum 3, stale after 10 s, 5% band).</summary>
internal sealed class OracleVenue
{
    public readonly Venue Venue = new();
    public readonly Key[] Keys = [.. Enumerable.Range(1, 5).Select(i => PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)i, 32).ToArray()))];
    public readonly int[] Reporters = new int[5];
    public readonly int Btc;

    public OracleVenue(int quorum = 3)
    {
        Btc = Venue.ListBtcPerpetual(takerFeePpm: 0);
        Venue.Accept(new ConfigureOracle("BTC", new OracleParameters(quorum, 10_000_000, 1_000_000, 50_000)));
        for (int i = 0; i < Keys.Length; i++)
        {
            Venue.Accept(new RegisterReporter("BTC", PriceReport.PublicKeyOf(Keys[i])));
            Reporters[i] = Venue.Events[0].ReporterId;
        }
    }

    public long Now => Venue.Engine.LastTimestampMicros;

    public Underlying Btcu => Venue.Engine.TryGetUnderlying("BTC", out var u) ? u : throw new InvalidOperationException();

    public PriceReport Report(int reporter, decimal price, long? publish = null) =>
        PriceReport.Sign(Keys[reporter], "BTC", Price.FromDecimal(price), publish ?? Now + 1_000, Reporters[reporter]);

    public RejectReason Submit(int reporter, decimal price, long? publish = null) => Venue.Apply(new SubmitPriceReport(Report(reporter, price, publish)));

    public void AllReport(params decimal[] prices)
    {
        for (int i = 0; i < prices.Length; i++)
        {
            Assert.Equal(RejectReason.None, Submit(i, prices[i]));
        }
    }

    /// <summary>Lets sequencer time pass with ticks (each Venue command adds 1 ms).</summary>
    public void Wait(long micros)
    {
        long until = Now + micros;
        while (Now < until)
        {
            Venue.Apply(new Tick { });
        }
    }
}

public class OracleTests
{
    [Fact]
    public void The_index_is_the_median_of_fresh_agreeing_reports_never_an_average()
    {
        var o = new OracleVenue();
        o.AllReport(100_000m, 100_100m, 99_900m, 100_300m);
        Assert.Equal(Price.FromWhole(100_000), o.Btcu.IndexPrice); // lower median of four: a signed price, not 100,050
        Assert.Equal(RejectReason.None, o.Submit(4, 100_200m));
        Assert.Equal(Price.FromWhole(100_100), o.Btcu.IndexPrice);
        Assert.Equal(OracleStatus.Healthy, o.Btcu.StatusAt(o.Now));
    }

    [Fact]
    public void Below_quorum_the_index_does_not_move_and_the_oracle_is_stale()
    {
        var o = new OracleVenue();
        Assert.Equal(OracleStatus.Stale, o.Btcu.StatusAt(o.Now));
        o.AllReport(90_000m, 90_000m);
        Assert.Equal(Price.FromWhole(100_000), o.Btcu.IndexPrice); // still the genesis index
        Assert.Equal(RejectReason.None, o.Submit(2, 90_000m));
        Assert.Equal(Price.FromWhole(90_000), o.Btcu.IndexPrice);
        Assert.Equal(OracleStatus.Degraded, o.Btcu.StatusAt(o.Now)); // three of five fresh
    }

    [Fact]
    public void Synthetix_sKRW_2019_one_source_at_1000x_while_two_of_five_are_stale_moves_nothing_and_the_market_goes_reduce_only()
    {
        var o = new OracleVenue();
        o.AllReport(100_000m, 100_000m, 100_000m, 100_000m, 100_000m);
        o.Wait(6_000_000);
        o.AllReport(100_000m, 100_050m, 100_000_000m); // reporters 4 and 5 say nothing more
        o.Wait(5_000_000);                                // their reports pass the 10 s staleness limit
        Assert.Equal(RejectReason.None, o.Submit(2, 100_000_000m));

        Assert.Equal(Price.FromWhole(100_000), o.Btcu.IndexPrice);
        Assert.Equal(OracleStatus.Stale, o.Btcu.StatusAt(o.Now));
        Assert.Contains(o.Venue.Events, e => e.Kind == EventKind.OracleReportIgnored && e.ReporterId == o.Reporters[2]);
        Assert.True(o.Btcu.Oracle!.Reporters[2].OutlierCount >= 1);

        // Reduce-only while stale: a new position is refused, closing one is not.
        int trader = o.Venue.NewAccount(100_000m);
        Assert.Equal(RejectReason.OracleStaleRiskReducingOnly, o.Venue.TryPlace(trader, o.Btc, Side.Buy, 100_000m, 0.1m));
    }

    [Fact]
    public void One_lagging_source_does_not_move_the_median()
    {
        var o = new OracleVenue();
        o.AllReport(100_000m, 100_010m, 99_990m, 100_020m, 97_000m);
        Assert.Equal(Price.FromWhole(100_000), o.Btcu.IndexPrice);
        Assert.Equal(OracleStatus.Healthy, o.Btcu.StatusAt(o.Now));
    }

    [Fact]
    public void Forged_replayed_duplicate_future_dated_and_too_old_reports_are_rejected_and_change_nothing()
    {
        var o = new OracleVenue();
        o.AllReport(100_000m, 100_000m, 100_000m);
        var accepted = o.Report(0, 100_100m);
        Assert.Equal(RejectReason.None, o.Venue.Apply(new SubmitPriceReport(accepted)));
        string before = o.Venue.Engine.ComputeStateHashHex();

        var forged = accepted with { Price = Price.FromWhole(1_000_000), PublishMicros = accepted.PublishMicros + 5 };
        var otherKey = PriceReport.Sign(o.Keys[1], "BTC", Price.FromWhole(100_000), o.Now + 10, o.Reporters[0]);
        var cases = new (SubmitPriceReport Command, RejectReason Expected)[]
        {
            (new SubmitPriceReport(forged), RejectReason.ReportSignatureInvalid),
            (new SubmitPriceReport(otherKey), RejectReason.ReportSignatureInvalid),
            (new SubmitPriceReport(accepted), RejectReason.ReportDuplicate),
            (new SubmitPriceReport(o.Report(0, 100_000m, accepted.PublishMicros - 1)), RejectReason.ReportReplayed),
            (new SubmitPriceReport(o.Report(0, 100_000m, o.Now + 60_000_000)), RejectReason.ReportFromFuture),
            (new SubmitPriceReport(o.Report(3, 100_000m, o.Now - 11_000_000)), RejectReason.ReportTooOld),
            (new SubmitPriceReport(o.Report(0, 100_000m) with { ReporterId = 99 }), RejectReason.UnknownReporter),
            (new SubmitPriceReport(o.Report(0, 100_000m) with { Underlying = "ETH" }), RejectReason.UnknownUnderlying),
        };
        foreach (var (command, expected) in cases)
        {
            Assert.Equal(expected, o.Venue.Apply(command));
            Assert.Equal(before, o.Venue.Engine.ComputeStateHashHex());
        }
    }

    [Fact]
    public void The_trusted_index_command_is_refused_once_an_oracle_drives_the_underlying()
    {
        var o = new OracleVenue();
        Assert.Equal(RejectReason.IndexSetByOracle, o.Venue.Apply(new SetIndexPrice("BTC", Price.FromWhole(1))));
    }

    [Fact]
    public void Reports_go_stale_with_time_alone_and_a_withdrawal_against_positions_is_held()
    {
        var o = new OracleVenue();
        int maker = o.Venue.NewAccount(1_000_000m);
        int trader = o.Venue.NewAccount(100_000m);
        o.AllReport(100_000m, 100_000m, 100_000m, 100_000m, 100_000m);
        o.Venue.Sell(maker, o.Btc, 100_000m, 0.1m);
        o.Venue.Buy(trader, o.Btc, 100_000m, 0.1m);
        o.Wait(11_000_000);

        Assert.Equal(OracleStatus.Stale, o.Btcu.StatusAt(o.Now));
        Assert.Equal(RejectReason.WithdrawalHeldOracleStale, o.Venue.Apply(new Withdraw(trader, Money.FromWhole(10))));
        Assert.Equal(RejectReason.None, o.Venue.TryPlace(trader, o.Btc, Side.Sell, 100_000m, 0.1m)); // closing is allowed
    }

    [Fact]
    public void A_reporter_key_must_be_a_valid_ed25519_key_and_registered_once()
    {
        var o = new OracleVenue();
        Assert.Equal(RejectReason.InvalidReporterKey, o.Venue.Apply(new RegisterReporter("BTC", new byte[31])));
        Assert.Equal(RejectReason.ReporterAlreadyRegistered, o.Venue.Apply(new RegisterReporter("BTC", PriceReport.PublicKeyOf(o.Keys[0]))));
        Assert.Equal(RejectReason.InvalidOracleParameters, o.Venue.Apply(new ConfigureOracle("BTC", new OracleParameters(0, 1, 0, 10))));
    }

    [Fact]
    public void The_index_twap_averages_the_samples_of_the_last_window()
    {
        var venue = new Venue(new EngineConfig { TwapSampleIntervalMicros = 1_000_000, TwapWindowSamples = 10 });
        venue.ListBtcPerpetual(index: 100m);
        venue.Accept(new Tick());
        for (int second = 1; second <= 20; second++)
        {
            venue.SetIndex("BTC", 100m + second);
            for (int i = 0; i < 1000; i++)
            {
                venue.Accept(new Tick()); // 1 ms each: one second per loop
            }
        }

        Assert.True(venue.Engine.TryGetUnderlying("BTC", out var btc));
        Assert.True(btc.Twap.TryAverage(venue.Engine.LastTimestampMicros, out var twap, out int samples));
        Assert.Equal(10, samples);
        // Samples are taken at each whole second with the index then in force: 111 … 120.
        Assert.Equal(Price.FromDecimal(115.5m), twap);
    }
}
