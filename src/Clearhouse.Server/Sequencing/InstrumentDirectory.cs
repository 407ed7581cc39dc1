using System.Collections.Immutable;
using Clearhouse.Core.Engine;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// Instrument names and ids as listed so far, readable from any thread without a trip to the
/// engine thread: the gateway resolves <c>BTC_USDC-PERPETUAL</c> to its id before it builds a
/// command. Only the engine thread writes it, when it sees an <see cref="EventKind.InstrumentListed"/>
/// event; readers see an immutable snapshot. Instruments are never unlisted (a settled one keeps its id).
/// </summary>
public sealed class InstrumentDirectory
{
    private volatile Snapshot current = new(ImmutableDictionary.Create<string, int>(StringComparer.Ordinal), ImmutableDictionary<int, string>.Empty);

    public bool TryGetId(string name, out int instrumentId) => current.ByName.TryGetValue(name, out instrumentId);

    public bool TryGetName(int instrumentId, out string name) => current.ById.TryGetValue(instrumentId, out name!);

    public string NameOf(int instrumentId) => TryGetName(instrumentId, out string name) ? name : instrumentId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every listed name, in listing (id) order.</summary>
    public IReadOnlyList<string> Names => [.. current.ById.OrderBy(p => p.Key).Select(p => p.Value)];

    /// <summary>Takes every instrument the engine already lists (a recovered venue), before the engine thread starts.</summary>
    internal void ObserveAll(Engine engine)
    {
        var byName = current.ByName;
        var byId = current.ById;
        foreach (var instrument in engine.Instruments)
        {
            byName = byName.SetItem(instrument.Name, instrument.Id);
            byId = byId.SetItem(instrument.Id, instrument.Name);
        }

        current = new Snapshot(byName, byId);
    }

    /// <summary>Called on the engine thread after each applied command.</summary>
    internal void Observe(Engine engine, ReadOnlySpan<EngineEvent> events)
    {
        foreach (ref readonly var e in events)
        {
            if (e.Kind == EventKind.InstrumentListed && engine.TryGetInstrument(e.InstrumentId, out var instrument))
            {
                var snapshot = current;
                current = new Snapshot(snapshot.ByName.SetItem(instrument.Name, instrument.Id), snapshot.ById.SetItem(instrument.Id, instrument.Name));
            }
        }
    }

    private sealed record Snapshot(ImmutableDictionary<string, int> ByName, ImmutableDictionary<int, string> ById);
}
