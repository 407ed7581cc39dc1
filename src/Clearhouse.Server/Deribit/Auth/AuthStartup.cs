namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// Loads the auth state when the server starts rather than at the first request: the API keys
/// (a damaged <c>api-keys.json</c> stops the start with a message) and the used nonces (the replay
/// ledger is compacted), and says what was loaded.
/// </summary>
public sealed class AuthStartup(ApiKeyStore keys, ReplayGuard replays, ILogger<AuthStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation(
            "API keys: {Count} ({Where}); signed requests remembered against replay: {Nonces}.",
            keys.All.Count,
            keys.FilePath ?? "in memory only",
            replays.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
