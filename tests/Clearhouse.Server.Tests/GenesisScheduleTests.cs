using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Genesis;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The demo venue's own schedule, on synthetic sequencer time: genesis at 07:00 UTC on Wednesday
/// 25 November 2026, then a tick every 6 s past 08:00. The day's daily expires and settles at
/// 08:00 and the next daily (27 NOV) is listed on the same tick (docs/settlement.md).
/// </summary>
public sealed class GenesisScheduleTests
{
    [Theory]
    [InlineData(0, "95000", "5000")]
    [InlineData(0, "90250", "5000")] // the demo's walk stays within 5% of the start
    [InlineData(0, "99750", "5000")]
    [InlineData(0, "94999.999999", "5000")] // a share giving exactly 5,000 at 95,000 gave 2,000 here: a second grid of strikes
    [InlineData(0, "68000", "5000")]
    [InlineData(0, "135000", "5000")]
    [InlineData(1, "3500", "200")]
    [InlineData(1, "2600", "200")]
    [InlineData(1, "6000", "200")]
    public void The_demo_schedules_strike_step_stays_the_genesis_step_while_the_index_wanders(int underlying, string index, string step) =>
        Assert.Equal(Price.FromDecimal(decimal.Parse(step, System.Globalization.CultureInfo.InvariantCulture)),
            GenesisPlan.Schedule(GenesisPlan.Default[underlying]).StrikeStep(Price.FromDecimal(decimal.Parse(index, System.Globalization.CultureInfo.InvariantCulture))));

    [Fact]
    public void The_demo_schedule_lists_dailies_settles_the_expiring_one_at_08_00_and_lists_the_next()
    {
        var start = DateTimeOffset.Parse("2026-11-25T07:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var engine = new Engine();
        long sequence = 0;
        long now = start.ToUnixTimeMilliseconds() * 1_000;
        var events = new List<EngineEvent>();
        void Apply(Command command)
        {
            Assert.Equal(RejectReason.None, engine.Apply(command with { Sequence = ++sequence, TimestampMicros = now }));
            events.AddRange(engine.Events.ToArray());
        }

        foreach (var command in GenesisPlan.Commands(GenesisPlan.Default, start))
        {
            Apply(command);
        }

        var names = engine.Instruments.Select(i => i.Name).ToHashSet();
        Assert.Contains("BTC_USDC-25NOV26", names);
        Assert.Contains("BTC_USDC-26NOV26", names);
        Assert.Contains("BTC_USDC-25NOV26-95000-C", names);
        Assert.Contains("ETH_USDC-26NOV26-3400-P", names); // ETH: step 200, 3,500 / 200 = 17.5 rounds up to 3,600 at the money
        Assert.DoesNotContain("BTC_USDC-27NOV26", names);

        long expiry = UnixMicros.AtHour(new DateOnly(2026, 11, 25), 8);
        for (now = ((now / 6_000_000) + 1) * 6_000_000; now <= expiry + UnixMicros.PerMinute; now += 6_000_000)
        {
            Apply(new Tick());
        }

        Assert.True(engine.TryGetInstrument("BTC_USDC-25NOV26-95000-C", out var expired));
        Assert.Equal(InstrumentState.Settled, expired.State);
        Assert.Equal(Price.FromWhole(95_000), expired.SettlementPrice);
        Assert.True(engine.TryGetInstrument("BTC_USDC-27NOV26", out var next));
        Assert.Equal(InstrumentState.Active, next.State);
        Assert.Equal(expiry, next.ListedMicros);
        Assert.True(engine.TryGetInstrument("ETH_USDC-27NOV26-3600-C", out _));
        Assert.Equal(InstrumentState.Active, engine.Instruments.Single(i => i.Name == "BTC_USDC-26NOV26").State);
        Assert.Equal(2 * 7, events.Count(e => e.Kind == EventKind.InstrumentSettled));
    }
}
