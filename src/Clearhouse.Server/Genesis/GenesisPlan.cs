using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Genesis;

/// <summary>One underlying the venue lists at start: its contracts' parameters and its first index price.</summary>
/// <param name="Underlying">Currency code, e.g. <c>BTC</c>.</param>
/// <param name="TickSize">Price increment of its perpetual and futures.</param>
/// <param name="MinAmount">Lot size of its perpetual and futures.</param>
/// <param name="InitialIndexPrice">Index price set at genesis, so the venue can trade before any feed runs.</param>
/// <param name="StrikeStep">Spacing of the listed option strikes around the initial index.</param>
/// <param name="OptionTickSize">Price increment of its options.</param>
/// <param name="OptionMinAmount">Lot size of its options.</param>
public sealed record GenesisUnderlying(string Underlying, Price TickSize, Quantity MinAmount, Price InitialIndexPrice, Price StrikeStep, Price OptionTickSize, Quantity OptionMinAmount);

/// <summary>
/// The commands that bring an empty venue to life: list a perpetual and the next quarterly futures
/// for each underlying, European calls and puts on the first quarterly at
/// <see cref="StrikesPerSide"/> strikes each side of the initial index (spaced by the underlying's
/// strike step), then set each underlying's first index price. Options trade once they have a mark,
/// which comes from the underlying's volatility surface (published by its oracle). Which quarters those are
/// depends on today's date, which is why this lives in the server and not in Core: the commands it
/// produces are what the journal records, so replay does not depend on the date it runs. Last, each
/// underlying gets a listing schedule (<see cref="Schedule"/>): from then on the engine lists,
/// expires, settles and re-lists on its own, driven by sequencer time.
/// </summary>
public static class GenesisPlan
{
    /// <summary>
    /// BTC (tick 0.5, lot 0.001, index 95,000; options every 5,000, tick 5, lot 0.01) and
    /// ETH (tick 0.05, lot 0.01, index 3,500; options every 200, tick 0.5, lot 0.1).
    /// </summary>
    public static IReadOnlyList<GenesisUnderlying> Default { get; } =
    [
        new("BTC", Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), Price.FromWhole(95_000), Price.FromWhole(5_000), Price.FromWhole(5), Quantity.FromDecimal(0.01m)),
        new("ETH", Price.FromDecimal(0.05m), Quantity.FromDecimal(0.01m), Price.FromWhole(3_500), Price.FromWhole(200), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.1m)),
    ];

    public const int QuarterlyFutures = 2;

    /// <summary>Strikes listed below and above the at-the-money strike (so 2·n + 1 strikes, each a call and a put).</summary>
    public const int StrikesPerSide = 2;

    public static IReadOnlyList<Command> Commands(IReadOnlyList<GenesisUnderlying> underlyings, DateTimeOffset nowUtc)
    {
        var expiries = QuarterlyExpiries.Next(nowUtc, QuarterlyFutures);
        var commands = new List<Command>();
        foreach (var u in underlyings)
        {
            commands.Add(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual(u.Underlying), u.TickSize, u.MinAmount)));
            foreach (var expiry in expiries)
            {
                commands.Add(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Future(u.Underlying, expiry), u.TickSize, u.MinAmount)));
            }

            long atTheMoney = u.InitialIndexPrice.Micros / u.StrikeStep.Micros * u.StrikeStep.Micros;
            for (int k = -StrikesPerSide; k <= StrikesPerSide; k++)
            {
                var strike = new Price(atTheMoney + (k * u.StrikeStep.Micros));
                foreach (var right in new[] { OptionRight.Call, OptionRight.Put })
                {
                    commands.Add(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option(u.Underlying, expiries[0], strike, right), u.OptionTickSize, u.OptionMinAmount)));
                }
            }
        }

        foreach (var u in underlyings)
        {
            commands.Add(new SetIndexPrice(u.Underlying, u.InitialIndexPrice));
        }

        foreach (var u in underlyings)
        {
            commands.Add(new SetListingSchedule(u.Underlying, Schedule(u)));
        }

        return commands;
    }

    /// <summary>
    /// The demo's listing schedule (docs/settlement.md): two dailies — so something expires and
    /// settles every day at 08:00 UTC and the next day is listed in its place — and the two
    /// quarterlies that genesis listed by hand (re-listed as they expire), each with a future and
    /// a call and a put at <see cref="ScheduledStrikesPerSide"/> strikes each side of the index,
    /// spaced like the genesis strikes. The schedule's step is a share of the index rounded down to
    /// 1, 2 or 5 × 10ⁿ (docs/settlement.md), so a share that gives exactly the genesis step at the
    /// initial index would give the next step down (2,000 instead of 5,000 for BTC) as soon as the
    /// index dipped below it, and list a second grid of strikes: the share is 1.4 times that, which
    /// gives the same step for any index from 0.71 to 1.42 times (BTC) or to 1.78 times (ETH) the
    /// initial one, wider than the demo's random walk ever goes.
    /// </summary>
    public static ListingSchedule Schedule(GenesisUnderlying u) => new(
        Dailies: 2,
        Weeklies: 0,
        Monthlies: 0,
        Quarterlies: QuarterlyFutures,
        ListFutures: true,
        StrikesPerSide: ScheduledStrikesPerSide,
        StrikeStepPpm: (int)FixedMath.MulDiv(u.StrikeStep.Micros * 7, 1_000_000, u.InitialIndexPrice.Micros * 5, Rounding.Ceiling),
        FutureTickSize: u.TickSize,
        FutureMinAmount: u.MinAmount,
        OptionTickSize: u.OptionTickSize,
        OptionMinAmount: u.OptionMinAmount);

    /// <summary>Strikes each side of the index that the schedule keeps listed per expiry.</summary>
    public const int ScheduledStrikesPerSide = 1;
}
