using System.Diagnostics;

namespace Clearhouse.Journal;

/// <summary>
/// A dedicated thread's short busy wait for new work before it sleeps: the journal's flusher and
/// the server's engine thread. Waking a sleeping thread costs the waker a system call and the
/// sleeper a reschedule, tens of microseconds on a virtual machine; when work comes every few
/// microseconds, looking again for a little while is cheaper for both. It never yields or sleeps,
/// so it suits only machines with cores to spare (the caller chooses the duration; zero skips it).
/// </summary>
public static class IdleSpin
{
    /// <summary>
    /// Spins until <paramref name="found"/> is true (returns true) or <paramref name="duration"/>
    /// has passed without it (returns false). Zero or less returns false at once.
    /// </summary>
    public static bool Until<TState>(TimeSpan duration, TState state, Func<TState, bool> found)
    {
        if (duration <= TimeSpan.Zero)
        {
            return false;
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        do
        {
            if (found(state))
            {
                return true;
            }

            Thread.SpinWait(10); // a few hundred nanoseconds of pause instructions between looks
        }
        while (Stopwatch.GetTimestamp() < deadline);

        return found(state);
    }
}
