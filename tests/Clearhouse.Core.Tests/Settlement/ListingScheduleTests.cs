using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Settlement;

public sealed class ListingScheduleTests
{
    /// <summary>2 dailies, 2 weeklies, 2 monthlies, 2 quarterlies; futures; 2 strikes each side, 2.5% apart (BTC at 100,000: 2,000).</summary>
    internal static readonly ListingSchedule Deribit = new(2, 2, 2, 2, true, 2, 25_000, Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), Price.FromWhole(5), Quantity.FromDecimal(0.01m));

    private static long At(int year, int month, int day, int hour, int minute = 0) =>
        UnixMicros.AtHour(new DateOnly(year, month, day), hour) + (minute * UnixMicros.PerMinute);

    [Theory]
    [InlineData(9, "2026-01-03 2026-01-04 2026-01-09 2026-01-16 2026-01-30 2026-02-27 2026-03-27 2026-06-26")]
    [InlineData(7, "2026-01-02 2026-01-03 2026-01-09 2026-01-30 2026-02-27 2026-03-27 2026-06-26")]
    public void Expiries_on_Friday_2_January_2026_are_the_Deribit_set(int hour, string expected)
    {
        // Before 08:00 the day's own expiry is still ahead: it counts as a daily and as this week's Friday.
        var dates = Deribit.Expiries(At(2026, 1, 2, hour));
        Assert.Equal(expected, string.Join(' ', dates.Select(d => d.ToString("yyyy-MM-dd"))));
    }

    [Theory]
    [InlineData(2026, 3, "2026-03-27")]
    [InlineData(2026, 5, "2026-05-29")]
    [InlineData(2026, 7, "2026-07-31")]
    [InlineData(2026, 12, "2026-12-25")]
    public void Last_Friday_of_the_month(int year, int month, string expected) =>
        Assert.Equal(expected, ListingSchedule.LastFriday(year, month).ToString("yyyy-MM-dd"));

    [Theory]
    [InlineData(100_000, 25_000, 2_000)] // 2,500 → 2,000
    [InlineData(95_000, 25_000, 2_000)] // 2,375 → 2,000
    [InlineData(3_500, 25_000, 50)] // 87.5 → 50
    [InlineData(100_000, 50_000, 5_000)] // 5,000 → 5,000
    [InlineData(100_000, 10_000, 1_000)] // 1,000 → 1,000
    public void Strike_step_is_the_share_of_the_index_rounded_down_to_1_2_or_5_times_a_power_of_ten(long index, int ppm, long step) =>
        Assert.Equal(Price.FromWhole(step), (Deribit with { StrikeStepPpm = ppm }).StrikeStep(Price.FromWhole(index)));

    [Fact]
    public void Strikes_are_centred_on_the_nearest_step_to_the_index() => // 101,234 / 2,000 = 50.6 → 51 × 2,000
        Assert.Equal(
            new long[] { 98_000, 100_000, 102_000, 104_000, 106_000 }.Select(Price.FromWhole),
            Deribit.Strikes(Price.FromWhole(101_234)));

    private static (CoreEngine Engine, Func<Command, RejectReason> Apply, Action<long> AdvanceTo) NewVenue(long start)
    {
        var engine = new CoreEngine();
        long sequence = 0;
        long now = start;
        RejectReason Apply(Command c) => engine.Apply(c with { Sequence = ++sequence, TimestampMicros = now });
        return (engine, Apply, t => now = t);
    }

    [Fact]
    public void Setting_a_schedule_lists_every_expiry_future_and_strike_at_once()
    {
        var (engine, apply, _) = NewVenue(At(2026, 1, 2, 9));
        Assert.Equal(RejectReason.None, apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m)))));
        Assert.Equal(RejectReason.None, apply(new SetIndexPrice("BTC", Price.FromWhole(100_000))));
        Assert.Equal(RejectReason.None, apply(new SetListingSchedule("BTC", Deribit)));

        // 8 expiries × (1 future + 5 strikes × 2 rights) = 88, after the perpetual.
        Assert.Equal(89, engine.Instruments.Count);
        var names = engine.Instruments.Select(i => i.Name).ToHashSet();
        Assert.Contains("BTC_USDC-3JAN26", names);
        Assert.Contains("BTC_USDC-26JUN26", names);
        Assert.Contains("BTC_USDC-3JAN26-96000-C", names);
        Assert.Contains("BTC_USDC-27FEB26-104000-P", names);
        Assert.DoesNotContain("BTC_USDC-2JAN26", names);
        Assert.Equal(88, engine.Events.ToArray().Count(e => e.Kind == EventKind.InstrumentListed));
    }

    [Fact]
    public void A_schedule_needs_a_known_underlying_and_valid_parameters()
    {
        var (engine, apply, _) = NewVenue(At(2026, 1, 2, 9));
        Assert.Equal(RejectReason.UnknownUnderlying, apply(new SetListingSchedule("BTC", Deribit)));
        apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m))));
        var hash = engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InvalidListingSchedule, apply(new SetListingSchedule("BTC", Deribit with { Dailies = 9 })));
        Assert.Equal(RejectReason.InvalidListingSchedule, apply(new SetListingSchedule("BTC", Deribit with { StrikeStepPpm = 10 })));
        Assert.Equal(RejectReason.InvalidListingSchedule, apply(new SetListingSchedule("BTC", Deribit with { OptionTickSize = Price.Zero })));
        Assert.Equal(hash, engine.ComputeStateHashHex());
    }

    [Fact]
    public void After_a_daily_expires_and_settles_the_next_one_is_listed_on_the_minute()
    {
        // Dailies only, futures only, manual index: the 2 JAN daily settles at 08:00, and 4 JAN is listed.
        var schedule = Deribit with { Weeklies = 0, Monthlies = 0, Quarterlies = 0, StrikesPerSide = 0 };
        long start = At(2026, 1, 2, 7);
        var (engine, apply, advance) = NewVenue(start);
        apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m))));
        apply(new SetIndexPrice("BTC", Price.FromWhole(100_000)));
        Assert.Equal(RejectReason.None, apply(new SetListingSchedule("BTC", schedule)));
        Assert.Equal(new[] { "BTC_USDC-PERPETUAL", "BTC_USDC-2JAN26", "BTC_USDC-3JAN26" }, engine.Instruments.Select(i => i.Name));

        long expiry = At(2026, 1, 2, 8);
        var listedAt = new Dictionary<string, long>();
        for (long t = start; t <= expiry + (2 * UnixMicros.PerMinute); t += 6_000_000)
        {
            advance(t);
            Assert.Equal(RejectReason.None, apply(new Tick()));
            foreach (var e in engine.Events)
            {
                if (e.Kind == EventKind.InstrumentListed)
                {
                    listedAt[engine.Instruments[e.InstrumentId - 1].Name] = t;
                }
            }
        }

        Assert.True(engine.TryGetInstrument("BTC_USDC-2JAN26", out var expired));
        Assert.Equal(InstrumentState.Settled, expired.State);
        Assert.Equal(Price.FromWhole(100_000), expired.SettlementPrice);
        Assert.Equal(expiry, listedAt["BTC_USDC-4JAN26"]);
        Assert.Equal(4, engine.Instruments.Count);

        // Restored from a snapshot, the schedule goes on the same way.
        var restored = EngineSnapshot.Read(EngineSnapshot.Write(engine));
        Assert.Equal(engine.ComputeStateHashHex(), restored.ComputeStateHashHex());
        Assert.Equal(schedule, restored.Underlyings[0].Listing);
    }

    [Fact]
    public void The_first_tick_of_a_minute_lists_even_when_other_commands_came_first_in_that_minute()
    {
        // On a live venue orders and oracle reports arrive between ticks: at 08:00 a deposit is the
        // first command of the minute, and the tick right after it still lists the next daily.
        var schedule = Deribit with { Weeklies = 0, Monthlies = 0, Quarterlies = 0, StrikesPerSide = 0 };
        long start = At(2026, 1, 2, 7, 59);
        var (engine, apply, advance) = NewVenue(start);
        apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m))));
        apply(new SetIndexPrice("BTC", Price.FromWhole(100_000)));
        Assert.Equal(RejectReason.None, apply(new SetListingSchedule("BTC", schedule)));
        Assert.Equal(RejectReason.None, apply(new Tick()));
        apply(new CreateAccount());

        long expiry = At(2026, 1, 2, 8);
        advance(expiry);
        Assert.Equal(RejectReason.None, apply(new Deposit(1, Money.FromWhole(1))));
        advance(expiry + 250_000);
        Assert.Equal(RejectReason.None, apply(new Tick()));
        Assert.True(engine.TryGetInstrument("BTC_USDC-4JAN26", out _), "the 08:00 tick did not list the next daily");

        // Later ticks in the same minute do not run the listing again (nothing new to list either way).
        advance(expiry + 500_000);
        Assert.Equal(RejectReason.None, apply(new Tick()));
        Assert.DoesNotContain(engine.Events.ToArray(), e => e.Kind == EventKind.InstrumentListed);
    }

    [Fact]
    public void The_command_round_trips_through_the_codec()
    {
        var command = new SetListingSchedule("ETH", Deribit with { MakerFeePpm = -100, TakerFeePpm = 300 }) { Sequence = 7, TimestampMicros = 1_000 };
        var decoded = (SetListingSchedule)CommandCodec.Decode(CommandCodec.Encode(command));
        Assert.Equal(command, decoded);
        var cleared = new SetListingSchedule("ETH", null) { Sequence = 8, TimestampMicros = 2_000 };
        Assert.Equal(cleared, CommandCodec.Decode(CommandCodec.Encode(cleared)));
    }
}
