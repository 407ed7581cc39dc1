using Clearhouse.Server.Sequencing;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The server with its engine thread and journal flusher spinning before they sleep
/// (<c>--IdleSpinMicros</c>, on by default only with 4 or more cores, so set here explicitly):
/// every durable answer still comes, whether the command arrives while they spin or after they slept.
/// </summary>
public sealed class IdleSpinServerTests
{
    [Fact]
    public async Task Orders_are_answered_whether_they_come_during_the_spin_or_after_the_threads_slept()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--IdleSpinMicros", "2000", "--TickMillis", "0");
        Assert.Equal(2000, server.Services.GetRequiredService<ServerOptions>().IdleSpinMicros);
        Assert.Equal(TimeSpan.FromMilliseconds(2), server.Services.GetRequiredService<SequencerOptions>().IdleSpin);

        int accountId = await server.OpenFundedAccountAsync("250000");
        var sequencer = server.Services.GetRequiredService<Sequencer>();
        for (int i = 0; i < 10; i++)
        {
            await Task.Delay(i % 2 == 0 ? 0 : 20); // within the 2 ms spin, or well after it
            long before = sequencer.LastDurableSequence;
            await server.PlaceOkAsync(new { accountId, instrument = "BTC_USDC-PERPETUAL", side = i % 2 == 0 ? "buy" : "sell", price = i % 2 == 0 ? "90000" : "110000", amount = "0.01" });
            Assert.True(sequencer.LastDurableSequence > before, "answered before the journal had it");
        }
    }
}
