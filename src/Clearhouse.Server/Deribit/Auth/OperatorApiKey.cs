using Clearhouse.Server.Genesis;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// The operator's way to make an API key without any HTTP endpoint: start the server with
/// <c>--CreateApiKey ACCOUNT[:SCOPES[:NAME]]</c> (<see cref="ServerOptions.CreateApiKey"/>). Once the
/// venue is up, the key named NAME on that account is found or made, and printed on standard
/// output as one <c>api_key account=... name=... scopes=... client_id=... client_secret=...</c> line.
/// An account that does not exist is reported in the log and nothing is made.
/// </summary>
public sealed class OperatorApiKey(ServerOptions options, ApiKeyStore keys, VenueGenesis genesis, ILogger<OperatorApiKey> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.CreateApiKey is not { } request)
        {
            return;
        }

        try
        {
            await genesis.Listed.WaitAsync(stoppingToken);
            var key = keys.All.FirstOrDefault(k => k.AccountId == request.AccountId && k.Name == request.Name)
                ?? await keys.CreateAsync(request.AccountId, request.Scopes, request.Name, stoppingToken);
            Console.Out.WriteLine($"api_key account={key.AccountId} name={key.Name} scopes={string.Join(',', ScopeWords.Of(key.Scopes))} client_id={key.ClientId} client_secret={key.ClientSecret}");
            Console.Out.Flush();
            logger.LogInformation("API key {ClientId} ({Name}) for account {Account} printed on standard output.", key.ClientId, key.Name, key.AccountId);
        }
        catch (ArgumentException ex)
        {
            logger.LogError("--CreateApiKey: no key made: {Reason}", ex.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
