using Clearhouse.Server.Sequencing;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The real server with its thread settings changed (docs/operations.md): the engine thread and
/// the journal flusher spinning before they sleep (<c>--IdleSpinMicros</c>, on by default only
/// with 4 or more cores, so set here explicitly), and every answer batch handed to the thread pool
/// (<c>--AnswerInlineBatch 0</c>). Every durable answer still comes.
/// </summary>
public sealed class ThreadSettingsServerTests
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

    [Fact]
    public async Task With_every_answer_batch_on_the_thread_pool_orders_are_still_answered_once_durable()
    {
        await using var server = await RunningServer.StartAsync(demo: false, "--AnswerInlineBatch", "0", "--TickMillis", "0");
        var sequencer = server.Services.GetRequiredService<Sequencer>();
        Assert.Equal(0, sequencer.Venue.Acknowledgements.InlineBatchLimit);

        int accountId = await server.OpenFundedAccountAsync("250000");
        for (int i = 0; i < 5; i++)
        {
            long before = sequencer.LastDurableSequence;
            await server.PlaceOkAsync(new { accountId, instrument = "BTC_USDC-PERPETUAL", side = "buy", price = "90000", amount = "0.01" });
            Assert.True(sequencer.LastDurableSequence > before, "answered before the journal had it");
        }
    }
}
