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
