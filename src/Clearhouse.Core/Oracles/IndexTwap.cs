using Clearhouse.Core.Numerics;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Oracles;

/// <summary>
/// Time-weighted average of an underlying's index over a rolling window, from samples taken on
/// a fixed schedule (every <see cref="SampleIntervalMicros"/>, on the boundaries of sequencer
/// time). Deribit samples its index every 6 s for its 30-minute settlement average (300 samples);
/// that is the default. Equal spacing makes the time weighting a plain mean, rounded down.
/// </summary>
public sealed class IndexTwap
{
    public const long DefaultSampleIntervalMicros = 6_000_000;
    public const int DefaultWindowSamples = 300;

    private readonly long[] prices;
    private readonly long[] times;
    private int head;

    public IndexTwap(long sampleIntervalMicros = DefaultSampleIntervalMicros, int windowSamples = DefaultWindowSamples)
    {
        SampleIntervalMicros = sampleIntervalMicros;
        prices = new long[windowSamples];
        times = new long[windowSamples];
    }

    public long SampleIntervalMicros { get; }

    public int WindowSamples => prices.Length;

    public int Count { get; private set; }

    /// <summary>Time of the newest sample; 0 before the first.</summary>
    public long LastSampleMicros => Count == 0 ? 0 : times[(head - 1 + prices.Length) % prices.Length];

    internal void Add(long timeMicros, Price index)
    {
        prices[head] = index.Micros;
        times[head] = timeMicros;
        head = (head + 1) % prices.Length;
        Count = Math.Min(Count + 1, prices.Length);
    }

    /// <summary>
    /// Mean of the samples taken in the window <c>(end − window, end]</c>, rounded down, and how
    /// many there were; zero samples gives false.
    /// </summary>
    public bool TryAverage(long endMicros, out Price average, out int samples)
    {
        long windowMicros = SampleIntervalMicros * prices.Length;
        Int128 sum = 0;
        samples = 0;
        for (int i = 0; i < Count; i++)
        {
            long t = times[i];
            if (t <= endMicros && t > endMicros - windowMicros)
            {
                sum += prices[i];
                samples++;
            }
        }

        average = samples == 0 ? Price.Zero : new Price((long)(sum / samples));
        return samples > 0;
    }

    internal void Write(CanonicalWriter w)
    {
        w.Int(Count);
        for (int k = Count; k > 0; k--)
        {
            int i = (head - k + prices.Length) % prices.Length;
            w.Long(times[i]);
            w.Long(prices[i]);
        }
    }

    internal void Read(ref CanonicalReader r)
    {
        int count = r.Int();
        if (count < 0 || count > prices.Length)
        {
            throw new FormatException($"Invalid TWAP sample count {count}.");
        }

        for (int k = 0; k < count; k++)
        {
            long time = r.Long();
            Add(time, new Price(r.Long()));
        }
    }
}
