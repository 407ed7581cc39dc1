using Clearhouse.Core.Engine;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Genesis;

/// <summary>
/// Applies the <see cref="GenesisPlan"/> through the sequencer when the host starts, before the
/// API accepts requests — only on a fresh venue: a venue recovered from its journal already has
/// its instruments, and genesis is not repeated. A rejected genesis command stops the start: a
/// venue without its instruments is not worth serving.
/// </summary>
public sealed class VenueGenesis(Sequencer sequencer, TimeProvider clock, ILogger<VenueGenesis> logger) : IHostedService
{
    private readonly TaskCompletionSource<IReadOnlyList<string>> listed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the names listed once genesis has been applied.</summary>
    public Task<IReadOnlyList<string>> Listed => listed.Task;

    /// <summary>True once this process applied genesis (a fresh venue); false for a recovered one. Read it after <see cref="Listed"/> completes.</summary>
    public bool Fresh { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await sequencer.QueryAsync(e => e.Instruments.Count, cancellationToken) > 0)
            {
                var recovered = sequencer.Instruments.Names;
                logger.LogInformation("Recovered venue lists {Count} instruments; genesis skipped.", recovered.Count);
                listed.TrySetResult(recovered);
                return;
            }

            foreach (var command in GenesisPlan.Commands(GenesisPlan.Default, clock.GetUtcNow()))
            {
                var result = await sequencer.SubmitAsync(command, cancellationToken);
                if (!result.IsAccepted)
                {
                    throw new InvalidOperationException($"Genesis command {command} was rejected: {result.Reason} ({RejectReasons.Describe(result.Reason)})");
                }
            }

            var names = sequencer.Instruments.Names;
            Fresh = true;
            logger.LogDebug("Genesis listed {Count} instruments.", names.Count);
            listed.TrySetResult(names);
        }
        catch (Exception ex)
        {
            listed.TrySetException(ex);
            throw;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
