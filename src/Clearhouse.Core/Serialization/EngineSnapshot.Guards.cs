using Clearhouse.Core.Engine;
using Clearhouse.Core.Guards;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Serialization;

/// <summary>
/// The guards' part of a snapshot (docs/guards.md): a trailing section, written only when some
/// guard is on or holds state (venue default, an instrument's parameters, a breaker halt or mark
/// samples, an open order with an expiry). While every guard is off it is absent, so the snapshot
/// and its hash are exactly what they were before guards existed.
/// </summary>
public static partial class EngineSnapshot
{
    private const string GuardSectionTag = "clearhouse/snapshot/guards/v1";

    private static void WriteGuardSection(CanonicalWriter w, Engine.Engine engine)
    {
        var venue = engine.Config.Guards;
        var expiries = engine.OpenOrderExpiries().ToList();
        bool any = !venue.IsOff || expiries.Count > 0;
        foreach (var instrument in engine.Instruments)
        {
            any |= !instrument.Guard.IsDefault(GuardParameters.Off);
        }

        if (!any)
        {
            return;
        }

        w.String(GuardSectionTag);
        CommandCodec.WriteGuards(w, venue);
        foreach (var instrument in engine.Instruments)
        {
            var guard = instrument.Guard;
            CommandCodec.WriteGuards(w, guard.Parameters);
            w.Long(guard.HaltedUntilMicros);
            w.Int(guard.Samples.Count);
            foreach (var sample in guard.Samples)
            {
                w.Long(sample.TimeMicros);
                w.Long(sample.Mark.Micros);
            }
        }

        w.Int(expiries.Count);
        foreach (var (orderId, expiresAt) in expiries)
        {
            w.Long(orderId);
            w.Long(expiresAt);
        }
    }

    private static void ReadGuardSection(ref CanonicalReader r, Engine.Engine engine, EngineConfig config)
    {
        if (r.AtEnd)
        {
            if (!config.Guards.IsOff)
            {
                throw new FormatException("The snapshot was taken with every guard off; the configured venue guards are on.");
            }

            return;
        }

        if (r.String() != GuardSectionTag)
        {
            throw new FormatException($"Expected the guard section ({GuardSectionTag}).");
        }

        if (!CommandCodec.ReadGuards(ref r).Equals(config.Guards))
        {
            throw new FormatException("The snapshot was taken under different venue guard defaults.");
        }

        foreach (var instrument in engine.Instruments)
        {
            var guard = instrument.Guard;
            var parameters = CommandCodec.ReadGuards(ref r);
            if (!parameters.TryValidate(out string? error))
            {
                throw new FormatException(error);
            }

            guard.Parameters = parameters;
            guard.HaltedUntilMicros = r.Long();
            int samples = Count(ref r);
            for (int i = 0; i < samples; i++)
            {
                guard.AddSample(new MarkSample(r.Long(), new Price(r.Long())));
            }
        }

        int expiries = Count(ref r);
        for (int i = 0; i < expiries; i++)
        {
            engine.RestoreOrderExpiry(r.Long(), r.Long());
        }
    }
}
