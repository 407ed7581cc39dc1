using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Server.Sequencing;
using NSec.Cryptography;

namespace Clearhouse.Server.Demo;

/// <summary>
/// Simulated signed reporters for one underlying: five Ed25519 keys derived from the underlying's
/// name (demo keys, public by construction — never use them for a real venue), each reporting the
/// random-walk price with a little noise of its own, so the index is a real median of signed
/// reports. Reporter 5 is a laggard that reports only every third step, so the oracle shows as
/// degraded part of the time, as real ones do.
/// </summary>
public sealed class DemoOracle
{
    public const int ReporterCount = 5;

    /// <summary>Quorum 3 of 5, stale after 10 s, 1 s of clock skew, 2% deviation band.</summary>
    public static readonly OracleParameters Parameters = new(3, 10_000_000, 1_000_000, 20_000);

    private readonly Sequencer sequencer;
    private readonly TimeProvider clock;
    private readonly Random random;
    private readonly Key[] keys;
    private readonly int[] reporterIds = new int[ReporterCount];
    private long steps;
    private double atmVolatility;

    public DemoOracle(Sequencer sequencer, string underlying, TimeProvider clock, Random random)
    {
        this.sequencer = sequencer;
        this.clock = clock;
        this.random = random;
        Underlying = underlying;
        atmVolatility = underlying == "BTC" ? 0.55 : 0.65;
        keys = [.. Enumerable.Range(1, ReporterCount).Select(i => PriceReport.SigningKeyFromSeed(SHA256.HashData(Encoding.UTF8.GetBytes($"clearhouse-demo-reporter/{underlying}/{i}"))))];
    }

    public string Underlying { get; }

    /// <summary>Configures the oracle and registers the reporters, or finds them again after a restart.</summary>
    public async Task SetUpAsync(CancellationToken ct)
    {
        await Expect(sequencer.SubmitAsync(new ConfigureOracle(Underlying, Parameters), ct), "configure the oracle");
        for (int i = 0; i < ReporterCount; i++)
        {
            byte[] publicKey = PriceReport.PublicKeyOf(keys[i]);
            int existing = await sequencer.QueryAsync(engine =>
                engine.TryGetUnderlying(Underlying, out var u) && u.Oracle is { } oracle
                    ? oracle.Reporters.FirstOrDefault(r => r.PublicKey.AsSpan().SequenceEqual(publicKey))?.Id ?? 0
                    : 0, ct);
            if (existing != 0)
            {
                reporterIds[i] = existing;
                continue;
            }

            var result = await Expect(sequencer.SubmitAsync(new RegisterReporter(Underlying, publicKey), ct), "register a reporter");
            reporterIds[i] = result.Events[0].ReporterId;
        }
    }

    /// <summary>Every reporter (the laggard every third step) signs and submits the price with ±2 bps of noise.</summary>
    public async Task ReportAsync(Price price, CancellationToken ct)
    {
        steps++;
        long publish = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1_000;
        for (int i = 0; i < ReporterCount; i++)
        {
            if (i == ReporterCount - 1 && steps % 3 != 0)
            {
                continue;
            }

            double noise = (random.NextDouble() * 2 - 1) * 0.0002;
            var reported = new Price(Math.Max(1, (long)(price.Micros * (1 + noise))));
            var report = PriceReport.Sign(keys[i], Underlying, reported, publish + i, reporterIds[i]);
            await sequencer.SubmitAsync(new SubmitPriceReport(report), ct);
        }
    }

    /// <summary>Steps between two published volatility surfaces.</summary>
    public const int SurfaceEverySteps = 20;

    /// <summary>
    /// Every <see cref="SurfaceEverySteps"/> steps (and on the first), reporter 1 signs and publishes
    /// an SVI surface for every option expiry listed on the underlying: an at-the-money volatility
    /// that random-walks (about 55% for BTC, 65% for ETH), a mild put skew (ρ −0.3) and a smile whose
    /// wings scale with time to expiry, so the surface is calendar- and butterfly-free.
    /// </summary>
    public async Task PublishSurfaceIfDueAsync(CancellationToken ct)
    {
        if ((steps - 1) % SurfaceEverySteps != 0)
        {
            return;
        }

        long now = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1_000;
        var expiries = await sequencer.QueryAsync(engine => engine.Instruments
            .Where(i => i.Kind == Core.Instruments.InstrumentKind.Option && i.Underlying.Name == Underlying && i.Spec.Terms.ExpiryMicros > now)
            .Select(i => i.Spec.Terms.ExpiryMicros)
            .Distinct()
            .Order()
            .ToList(), ct);
        if (expiries.Count == 0)
        {
            return;
        }

        atmVolatility = Math.Clamp(atmVolatility * (1 + ((random.NextDouble() * 2) - 1) * 0.01), 0.3, 1.2);
        var slices = expiries.Select(expiry =>
        {
            double years = (expiry - now) / (365.0 * 86_400_000_000);
            double b = 0.1 * years;
            double sigma = 0.2;
            double a = (atmVolatility * atmVolatility * years) - (b * sigma); // w(0) = a + b·σ = σ_atm²·T
            return new Core.Pricing.SviSliceParameters(expiry, (long)(a * 1e9), (long)(b * 1e9), -300_000_000, 0, (long)(sigma * 1e9));
        }).ToImmutableArray();
        var update = VolSurfaceUpdate.Sign(keys[0], new Core.Pricing.VolSurfaceParameters(Underlying, now, slices), reporterIds[0]);
        await sequencer.SubmitAsync(new SetVolatilitySurface(update), ct);
    }

    private static async Task<CommandResult> Expect(Task<CommandResult> submission, string what)
    {
        var result = await submission;
        return result.IsAccepted ? result : throw new InvalidOperationException($"Demo oracle could not {what}: {result.Reason}.");
    }
}
