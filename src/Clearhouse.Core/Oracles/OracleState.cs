using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Oracles;

/// <summary>A reporter registered for an underlying, with its latest accepted report.</summary>
public sealed class ReporterSlot(int id, byte[] publicKey)
{
    public int Id { get; } = id;

    public byte[] PublicKey { get; } = publicKey;

    public Price LastPrice { get; internal set; }

    /// <summary>Publish time of the latest accepted report; 0 before the first.</summary>
    public long LastPublishMicros { get; internal set; }

    /// <summary>How many of its reports were ignored for deviating from the other reporters.</summary>
    public long OutlierCount { get; internal set; }
}

/// <summary>What an aggregation found.</summary>
public readonly record struct OracleAggregate(OracleStatus Status, Price Index, int Fresh, int Agreeing);

/// <summary>
/// The oracle of one underlying: its parameters, its reporters and their latest reports.
/// <para>
/// Aggregation at time <c>t</c>: a report is fresh when <c>t − publish ≤ staleness</c>. Let
/// <c>m</c> be the median of all fresh prices; reports within the deviation band of <c>m</c> agree.
/// With at least a quorum agreeing, the index is the median of the agreeing prices; otherwise the
/// oracle is stale and the index stays where it was. With an even count the median is the lower
/// of the two middle prices: an index is always a price some reporter signed, never an average.
/// </para>
/// </summary>
public sealed class OracleState(OracleParameters parameters)
{
    private readonly List<ReporterSlot> reporters = [];

    public OracleParameters Parameters { get; internal set; } = parameters;

    /// <summary>Reporters in id order.</summary>
    public IReadOnlyList<ReporterSlot> Reporters => reporters;

    /// <summary>The status at the last aggregation (reports and ticks re-aggregate).</summary>
    public OracleStatus LastStatus { get; internal set; } = OracleStatus.Stale;

    internal ReporterSlot AddReporter(int id, byte[] publicKey)
    {
        var slot = new ReporterSlot(id, publicKey);
        reporters.Add(slot);
        return slot;
    }

    public ReporterSlot? FindReporter(int id)
    {
        foreach (var r in reporters)
        {
            if (r.Id == id)
            {
                return r;
            }
        }

        return null;
    }

    /// <summary>Aggregates the latest reports as of <paramref name="nowMicros"/>; <paramref name="currentIndex"/> is kept when stale.</summary>
    public OracleAggregate Aggregate(long nowMicros, Price currentIndex)
    {
        Span<long> fresh = stackalloc long[reporters.Count];
        int freshCount = 0;
        foreach (var r in reporters)
        {
            if (r.LastPublishMicros > 0 && nowMicros - r.LastPublishMicros <= Parameters.StalenessMicros)
            {
                fresh[freshCount++] = r.LastPrice.Micros;
            }
        }

        if (freshCount == 0)
        {
            return new OracleAggregate(OracleStatus.Stale, currentIndex, 0, 0);
        }

        fresh = fresh[..freshCount];
        fresh.Sort();
        long median = LowerMedian(fresh);
        Span<long> agreeing = stackalloc long[freshCount];
        int agreeingCount = 0;
        foreach (long price in fresh)
        {
            if (Agrees(price, median))
            {
                agreeing[agreeingCount++] = price;
            }
        }

        if (agreeingCount < Parameters.Quorum)
        {
            return new OracleAggregate(OracleStatus.Stale, currentIndex, freshCount, agreeingCount);
        }

        var status = agreeingCount == reporters.Count ? OracleStatus.Healthy : OracleStatus.Degraded;
        return new OracleAggregate(status, new Price(LowerMedian(agreeing[..agreeingCount])), freshCount, agreeingCount);
    }

    /// <summary>True when <paramref name="price"/> is within the deviation band of the median of the fresh reports at <paramref name="nowMicros"/>.</summary>
    public bool AgreesWithFreshMedian(Price price, long nowMicros)
    {
        Span<long> fresh = stackalloc long[reporters.Count];
        int freshCount = 0;
        foreach (var r in reporters)
        {
            if (r.LastPublishMicros > 0 && nowMicros - r.LastPublishMicros <= Parameters.StalenessMicros)
            {
                fresh[freshCount++] = r.LastPrice.Micros;
            }
        }

        fresh = fresh[..freshCount];
        fresh.Sort();
        return freshCount == 0 || Agrees(price.Micros, LowerMedian(fresh));
    }

    internal void Write(CanonicalWriter w)
    {
        w.Int(Parameters.Quorum);
        w.Long(Parameters.StalenessMicros);
        w.Long(Parameters.MaxFutureMicros);
        w.Int(Parameters.DeviationBandPpm);
        w.Byte((byte)LastStatus);
        w.Int(reporters.Count);
        foreach (var r in reporters)
        {
            w.Int(r.Id);
            w.Bytes(r.PublicKey);
            w.Long(r.LastPrice.Micros);
            w.Long(r.LastPublishMicros);
            w.Long(r.OutlierCount);
        }
    }

    internal static OracleState Read(ref CanonicalReader r)
    {
        var state = new OracleState(new OracleParameters(r.Int(), r.Long(), r.Long(), r.Int())) { LastStatus = (OracleStatus)r.Byte() };
        int count = r.Int();
        for (int i = 0; i < count; i++)
        {
            var slot = state.AddReporter(r.Int(), r.Bytes().ToArray());
            slot.LastPrice = new Price(r.Long());
            slot.LastPublishMicros = r.Long();
            slot.OutlierCount = r.Long();
        }

        return state;
    }

    private bool Agrees(long price, long median) =>
        Math.Abs(price - median) <= FixedMath.MulDiv(median, Parameters.DeviationBandPpm, 1_000_000, Rounding.Floor);

    private static long LowerMedian(ReadOnlySpan<long> sorted) => sorted[(sorted.Length - 1) / 2];
}
