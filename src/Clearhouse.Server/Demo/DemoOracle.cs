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

    public DemoOracle(Sequencer sequencer, string underlying, TimeProvider clock, Random random)
    {
        this.sequencer = sequencer;
        this.clock = clock;
        this.random = random;
        Underlying = underlying;
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

    private static async Task<CommandResult> Expect(Task<CommandResult> submission, string what)
    {
        var result = await submission;
        return result.IsAccepted ? result : throw new InvalidOperationException($"Demo oracle could not {what}: {result.Reason}.");
    }
}
