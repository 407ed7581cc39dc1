using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Guards;

/// <summary>One mark sample of the circuit breaker, at a boundary of sequencer time.</summary>
public readonly record struct MarkSample(long TimeMicros, Price Mark);

/// <summary>
/// The guard state of one instrument: its parameters, whether the circuit breaker has halted it
/// and until when, and the mark samples the breaker compares against (oldest first, at most one
/// window long). Part of the state hash.
/// </summary>
public sealed class InstrumentGuardState
{
    private readonly Queue<MarkSample> samples = new();

    public GuardParameters Parameters { get; internal set; } = GuardParameters.Off;

    /// <summary>Sequencer time at which a breaker halt ends; 0 when the breaker has not halted the instrument.</summary>
    public long HaltedUntilMicros { get; internal set; }

    public IReadOnlyCollection<MarkSample> Samples => samples;

    /// <summary>True when there is nothing to store beyond the venue default parameters.</summary>
    internal bool IsDefault(GuardParameters venueDefault) =>
        Parameters.Equals(venueDefault) && HaltedUntilMicros == 0 && samples.Count == 0;

    internal void AddSample(MarkSample sample) => samples.Enqueue(sample);

    internal void ClearSamples() => samples.Clear();

    /// <summary>Drops samples taken before <paramref name="oldestMicros"/>.</summary>
    internal void Prune(long oldestMicros)
    {
        while (samples.Count > 0 && samples.Peek().TimeMicros < oldestMicros)
        {
            samples.Dequeue();
        }
    }

    /// <summary>
    /// Whether <paramref name="mark"/> has moved more than <paramref name="thresholdPpm"/> from any
    /// sample (exactly: <c>|mark − sample| × 10⁶ &gt; threshold × sample</c>); the first such move, in ppm
    /// of its sample rounded toward zero (positive: up), in <paramref name="movePpm"/>.
    /// </summary>
    internal bool Exceeds(Price mark, int thresholdPpm, out long movePpm)
    {
        foreach (var sample in samples)
        {
            long reference = sample.Mark.Micros;
            if (reference <= 0)
            {
                continue;
            }

            long difference = mark.Micros - reference;
            if ((Int128)Math.Abs(difference) * 1_000_000 > (Int128)thresholdPpm * reference)
            {
                long magnitude = FixedMath.MulDiv(Math.Abs(difference), 1_000_000, reference, Rounding.Floor);
                movePpm = difference < 0 ? -magnitude : magnitude;
                return true;
            }
        }

        movePpm = 0;
        return false;
    }
}
