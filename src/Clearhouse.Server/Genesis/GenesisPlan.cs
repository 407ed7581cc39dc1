using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Genesis;

/// <summary>One underlying the venue lists at start: its contracts' parameters and its first index price.</summary>
/// <param name="Underlying">Currency code, e.g. <c>BTC</c>.</param>
/// <param name="TickSize">Price increment of its perpetual and futures.</param>
/// <param name="MinAmount">Lot size of its perpetual and futures.</param>
/// <param name="InitialIndexPrice">Index price set at genesis, so the venue can trade before any feed runs.</param>
public sealed record GenesisUnderlying(string Underlying, Price TickSize, Quantity MinAmount, Price InitialIndexPrice);

/// <summary>
/// The commands that bring an empty venue to life: list a perpetual and the next quarterly futures
/// for each underlying, then set each underlying's first index price. Which quarters those are
/// depends on today's date, which is why this lives in the server and not in Core: the commands it
/// produces are what the journal records, so replay does not depend on the date it runs.
/// </summary>
public static class GenesisPlan
{
    /// <summary>BTC (tick 0.5, lot 0.001, index 95,000) and ETH (tick 0.05, lot 0.01, index 3,500).</summary>
    public static IReadOnlyList<GenesisUnderlying> Default { get; } =
    [
        new("BTC", Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), Price.FromWhole(95_000)),
        new("ETH", Price.FromDecimal(0.05m), Quantity.FromDecimal(0.01m), Price.FromWhole(3_500)),
    ];

    public const int QuarterlyFutures = 2;

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
        }

        foreach (var u in underlyings)
        {
            commands.Add(new SetIndexPrice(u.Underlying, u.InitialIndexPrice));
        }

        return commands;
    }
}
