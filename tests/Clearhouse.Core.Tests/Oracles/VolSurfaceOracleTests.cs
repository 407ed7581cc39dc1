using System.Collections.Immutable;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Pricing;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Tests.Oracles;

public class VolSurfaceOracleTests
{
    private static readonly DateOnly Expiry = new(2026, 3, 27);

    /// <summary>SVI with a 60% at-the-money volatility for the expiry, a mild negative skew.</summary>
    private static VolSurfaceParameters Surface(long publishedMicros, long aPpb = 0)
    {
        long expiry = InstrumentTerms.Future("BTC", Expiry).ExpiryMicros;
        double years = (expiry - publishedMicros) / (365.0 * 86_400_000_000);
        long a = aPpb != 0 ? aPpb : (long)(0.34 * years * 1e9);
        long b = (long)(0.1 * years * 1e9);
        return new VolSurfaceParameters("BTC", publishedMicros, [new SviSliceParameters(expiry, a, b, -300_000_000, 0, 200_000_000)]);
    }

    private static (OracleVenue O, int Call) VenueWithOption()
    {
        var o = new OracleVenue();
        o.Venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", Expiry, Price.FromWhole(110_000), OptionRight.Call), Price.FromWhole(5), Quantity.FromDecimal(0.01m))));
        int call = o.Venue.Events[0].InstrumentId;
        o.AllReport(100_000m, 100_000m, 100_000m, 100_000m, 100_000m);
        return (o, call);
    }

    [Fact]
    public void A_signed_surface_gives_listed_options_a_black76_mark_on_the_index()
    {
        var (o, call) = VenueWithOption();
        var parameters = Surface(o.Now);
        o.Venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(o.Keys[0], parameters, o.Reporters[0])));

        var expected = OptionMarks.Mark(VolSurface.Create(parameters), OptionRight.Call, Price.FromWhole(110_000),
            InstrumentTerms.Future("BTC", Expiry).ExpiryMicros, Price.FromWhole(100_000), o.Now, 0.0, Rounding.Floor);
        var mark = o.Venue.Engine.Instruments[call - 1].MarkPrice;
        Assert.Equal(expected, mark);
        Assert.InRange(mark.ToDecimal(), 1_000m, 20_000m); // a 10% OTM call, ~60% vol, a few months out
        Assert.Contains(o.Venue.Events, e => e.Kind == EventKind.VolSurfaceSet);
    }

    /// <summary>
    /// A call struck at 100 times the index is worth far less than one micro-USDC. Its mark is one
    /// micro, not zero: zero means "no mark", and an option without one cannot trade, so nobody
    /// short could buy it back before it expires (seen on the demo's daily options hours before
    /// expiry). An option the surface does not price keeps no mark.
    /// </summary>
    [Fact]
    public void An_option_priced_below_one_micro_is_marked_at_one_micro_and_still_trades()
    {
        var o = new OracleVenue();
        o.Venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", Expiry, Price.FromWhole(10_000_000), OptionRight.Call), Price.FromWhole(5), Quantity.FromDecimal(0.01m))));
        int farCall = o.Venue.Events[0].InstrumentId;
        o.AllReport(100_000m, 100_000m, 100_000m, 100_000m, 100_000m);
        int buyer = o.Venue.NewAccount(1_000m);
        Assert.Equal(RejectReason.NoMarkPrice, o.Venue.TryPlace(buyer, farCall, Side.Buy, 5m, 0.01m)); // no surface yet: no mark

        var parameters = Surface(o.Now);
        o.Venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(o.Keys[0], parameters, o.Reporters[0])));
        var floored = OptionMarks.Mark(VolSurface.Create(parameters), OptionRight.Call, Price.FromWhole(10_000_000),
            InstrumentTerms.Future("BTC", Expiry).ExpiryMicros, Price.FromWhole(100_000), o.Now, 0.0, Rounding.Floor);
        Assert.Equal(Price.Zero, floored); // the premise: Black-76 rounds it down to nothing
        Assert.Equal(new Price(1), o.Venue.Engine.Instruments[farCall - 1].MarkPrice);
        Assert.Equal(RejectReason.None, o.Venue.TryPlace(buyer, farCall, Side.Buy, 5m, 0.01m));
    }

    [Fact]
    public void Option_marks_follow_the_index_on_the_next_second_of_the_clock()
    {
        var (o, call) = VenueWithOption();
        o.Venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(o.Keys[0], Surface(o.Now), o.Reporters[0])));
        var before = o.Venue.Engine.Instruments[call - 1].MarkPrice;
        o.Venue.Accept(new Tick());
        o.AllReport(105_000m, 105_000m, 105_000m, 105_000m, 105_000m);
        Assert.Equal(before, o.Venue.Engine.Instruments[call - 1].MarkPrice); // not until the clock's next second
        o.Wait(1_100_000);
        Assert.True(o.Venue.Engine.Instruments[call - 1].MarkPrice > before, "a call is worth more when the underlying rises");
    }

    [Fact]
    public void Forged_replayed_and_arbitrageable_surfaces_are_rejected_and_change_nothing()
    {
        var (o, _) = VenueWithOption();
        var accepted = VolSurfaceUpdate.Sign(o.Keys[0], Surface(o.Now), o.Reporters[0]);
        o.Venue.Accept(new SetVolatilitySurface(accepted));
        string before = o.Venue.Engine.ComputeStateHashHex();

        var forged = accepted with { Parameters = Surface(o.Now + 10, aPpb: 1_000_000) };
        var arbitrage = Surface(o.Now + 20) with
        {
            Slices = [new SviSliceParameters(InstrumentTerms.Future("BTC", Expiry).ExpiryMicros, -41_000_000, 133_100_000, 306_000_000, 358_600_000, 415_300_000)],
        };
        Assert.Equal(RejectReason.ReportSignatureInvalid, o.Venue.Apply(new SetVolatilitySurface(forged)));
        Assert.Equal(RejectReason.VolSurfaceReplayed, o.Venue.Apply(new SetVolatilitySurface(accepted)));
        Assert.Equal(RejectReason.VolSurfaceInvalid, o.Venue.Apply(new SetVolatilitySurface(VolSurfaceUpdate.Sign(o.Keys[0], arbitrage, o.Reporters[0]))));
        Assert.Equal(RejectReason.UnknownReporter, o.Venue.Apply(new SetVolatilitySurface(VolSurfaceUpdate.Sign(o.Keys[0], Surface(o.Now + 30), 99))));
        Assert.Equal(before, o.Venue.Engine.ComputeStateHashHex());
    }

    [Fact]
    public void A_surface_survives_the_journal_codec_and_a_snapshot()
    {
        var (o, call) = VenueWithOption();
        var command = new SetVolatilitySurface(VolSurfaceUpdate.Sign(o.Keys[0], Surface(o.Now), o.Reporters[0])) { Sequence = 7, TimestampMicros = 9 };
        byte[] bytes = CommandCodec.Encode(command);
        Assert.Equal(bytes, CommandCodec.Encode(CommandCodec.Decode(bytes)));

        o.Venue.Accept(new SetVolatilitySurface(command.Update));
        var restored = EngineSnapshot.Read(EngineSnapshot.Write(o.Venue.Engine));
        Assert.Equal(o.Venue.Engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        Assert.Equal(o.Venue.Engine.Instruments[call - 1].MarkPrice, restored.Instruments[call - 1].MarkPrice);
    }
}
