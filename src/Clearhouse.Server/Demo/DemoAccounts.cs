using System.Text.Json;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Demo;

/// <summary>
/// The demo's own accounts (one maker per underlying, the taker), found again after a restart:
/// their ids are kept in <c>demo-accounts.json</c> in the data directory (not part of the venue's
/// state — the engine has no notion of "the demo"). On restart each recorded account that still
/// exists is reused and its stale orders cancelled (<c>CancelAllOrders</c>), so the makers re-quote
/// around the new random walk instead of leaving a dead maker's quotes in the books; anything not
/// found is opened and funded anew and recorded. With the journal off nothing is recorded.
/// </summary>
public sealed class DemoAccounts(Sequencer sequencer, ServerOptions options, ILogger logger)
{
    public const string FileName = "demo-accounts.json";

    private readonly Dictionary<string, int> recorded = Load(options, logger);

    private string? Path => options.Journal ? System.IO.Path.Combine(options.DataDirectory, FileName) : null;

    /// <summary>The account recorded for <paramref name="role"/> (orders cancelled), or a new one funded with <paramref name="funding"/>.</summary>
    public async Task<int> FindOrOpenAsync(string role, Money funding, CancellationToken ct)
    {
        if (recorded.TryGetValue(role, out int existing) && await sequencer.QueryAsync(e => e.TryGetAccount(existing, out _), ct))
        {
            await sequencer.SubmitAsync(new CancelAllOrders(existing), ct);
            return existing;
        }

        var created = await sequencer.SubmitAsync(new CreateAccount(), ct);
        if (!created.IsAccepted)
        {
            throw new InvalidOperationException($"Demo account refused: {created.Reason}");
        }

        int accountId = created.Events[0].AccountId;
        var deposit = await sequencer.SubmitAsync(new Deposit(accountId, funding), ct);
        if (!deposit.IsAccepted)
        {
            throw new InvalidOperationException($"Demo deposit refused: {deposit.Reason}");
        }

        recorded[role] = accountId;
        Save();
        return accountId;
    }

    private void Save()
    {
        if (Path is not { } path)
        {
            return;
        }

        try
        {
            File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(recorded));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not record the demo accounts in {Path} ({Reason}); a restart will open new ones.", path, ex.Message);
        }
    }

    private static Dictionary<string, int> Load(ServerOptions options, ILogger logger)
    {
        string path = System.IO.Path.Combine(options.DataDirectory, FileName);
        if (!options.Journal || !File.Exists(path))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path)) ?? [];
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            logger.LogWarning("Ignoring {Path} ({Reason}); the demo opens new accounts.", path, ex.Message);
            return [];
        }
    }
}
