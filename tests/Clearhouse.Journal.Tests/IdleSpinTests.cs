using System.Diagnostics;

namespace Clearhouse.Journal.Tests;

public class IdleSpinTests
{
    [Fact]
    public void No_spin_looks_not_at_all()
    {
        int looks = 0;
        Assert.False(IdleSpin.Until(TimeSpan.Zero, 0, _ => ++looks > 0));
        Assert.Equal(0, looks);
    }

    [Fact]
    public void Work_that_is_there_is_found_at_the_first_look()
    {
        int looks = 0;
        Assert.True(IdleSpin.Until(TimeSpan.FromSeconds(10), 0, _ => ++looks > 0));
        Assert.Equal(1, looks);
    }

    [Fact]
    public void Work_that_arrives_while_spinning_ends_the_spin()
    {
        var found = new ManualResetEventSlim();
        var arrive = new Thread(() =>
        {
            Thread.Sleep(20);
            found.Set();
        });
        arrive.Start();
        long started = Stopwatch.GetTimestamp();
        Assert.True(IdleSpin.Until(TimeSpan.FromSeconds(30), found, f => f.IsSet));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30), "the spin ran to its end although the work had come");
        arrive.Join();
    }

    [Fact]
    public void Without_work_the_spin_gives_up_after_its_time()
    {
        long started = Stopwatch.GetTimestamp();
        int looks = 0;
        Assert.False(IdleSpin.Until(TimeSpan.FromMilliseconds(30), 0, _ => ++looks < 0));
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(30), "gave up before its time");
        Assert.True(looks > 1, "it looked only once");
    }
}
