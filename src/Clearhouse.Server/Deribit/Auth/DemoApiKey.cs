using Clearhouse.Core.Numerics;
using Clearhouse.Server.Demo;

namespace Clearhouse.Server.Deribit.Auth;

/// <summary>
/// The demo venue's API key: a funded trader account (<see cref="Role"/>) with a key that may do
/// everything (read, trade, withdraw), made on the first start and found again on a restart with
/// the same data directory (by account and <see cref="KeyName"/> in <see cref="ApiKeyStore"/>).
/// Its client id and secret are printed on standard output as <c>client_id=...</c> and
/// <c>client_secret=...</c> lines, so that a person or a script can pick them up; in-process
/// callers await <see cref="Ready"/>.
/// </summary>
public sealed class DemoApiKey(ApiKeyStore keys, ILogger<DemoApiKey> logger)
{
    /// <summary>The demo's account role (<see cref="DemoAccounts"/>).</summary>
    public const string Role = "api-demo";

    public const string KeyName = "demo";

    public static readonly Money Funding = Money.FromWhole(1_000_000);

    private readonly TaskCompletionSource<ApiKey> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the key once the demo has set it up (never, without the demo).</summary>
    public Task<ApiKey> Ready => ready.Task;

    /// <summary>Opens or finds the demo trader account, finds or makes its key, and prints it.</summary>
    public async Task<ApiKey> SetUpAsync(DemoAccounts accounts, CancellationToken ct)
    {
        try
        {
            int accountId = await accounts.FindOrOpenAsync(Role, Funding, ct);
            var key = keys.All.FirstOrDefault(k => k.AccountId == accountId && k.Name == KeyName)
                ?? await keys.CreateAsync(accountId, ApiScopes.Read | ApiScopes.Trade | ApiScopes.Withdraw, KeyName, ct);
            Console.Out.WriteLine($"client_id={key.ClientId}");
            Console.Out.WriteLine($"client_secret={key.ClientSecret}");
            Console.Out.Flush();
            logger.LogInformation(
                "Demo API key {ClientId} for account {Account} (read, trade, withdraw); its id and secret are printed on standard output.",
                key.ClientId,
                accountId);
            ready.TrySetResult(key);
            return key;
        }
        catch (Exception ex)
        {
            ready.TrySetException(ex);
            throw;
        }
    }
}
