using Clearhouse.Server.Deribit.Auth;

namespace Clearhouse.Server.Api;

/// <summary>
/// The operator's API-key console (docs/native-api.md): make a key for an account, list an
/// account's keys (never their secrets), revoke a key. Creating and revoking need the operator
/// token like every state-changing native endpoint; the key itself is for the Deribit-compatible
/// API (docs/api.md).
/// </summary>
public static class ApiKeysApi
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/accounts/{accountId}/api-keys", Create);
        api.MapGet("/accounts/{accountId}/api-keys", List);
        api.MapDelete("/api-keys/{clientId}", Revoke);
    }

    public sealed record ApiKeyView(string ClientId, int AccountId, string[] Scopes, string Name, long CreatedMillis, string? ClientSecret = null);

    private static async Task<IResult> Create(string accountId, HttpRequest request, ApiKeyStore keys, CancellationToken ct) =>
        await NativeApi.Guard(async () =>
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            string scopesText = fields.String("scopes", required: false) ?? "read,trade";
            string name = fields.String("name", required: false) ?? "operator";
            fields.RejectUnknownFields();
            if (!NativeApi.TryParseId(accountId, "accountId", out int id, out var idError))
            {
                return idError.ToResult();
            }

            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            var scopes = ApiScopes.None;
            foreach (string word in scopesText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (ScopeWords.Parse(word) is not { } scope)
                {
                    return ApiError.From(GatewayReason.InvalidValue, "scopes", $"'{word}' is not a scope: use read, trade and/or withdraw, separated by commas.").ToResult();
                }

                scopes |= scope;
            }

            if (name.Length is 0 or > 64)
            {
                return ApiError.From(GatewayReason.InvalidValue, "name", "'name' must be 1 to 64 characters.").ToResult();
            }

            try
            {
                var key = await keys.CreateAsync(id, scopes, name, ct);
                return Results.Json(View(key, withSecret: true), statusCode: StatusCodes.Status201Created);
            }
            catch (ArgumentException ex) when (ex.ParamName == "accountId")
            {
                return ApiError.From(Core.Engine.RejectReason.UnknownAccount).ToResult();
            }
            catch (ArgumentException ex)
            {
                return ApiError.From(GatewayReason.InvalidValue, "scopes", ex.Message).ToResult();
            }
        });

    private static async Task<IResult> List(string accountId, ApiKeyStore keys, Sequencing.Sequencer sequencer, CancellationToken ct)
    {
        if (!NativeApi.TryParseId(accountId, "accountId", out int id, out var error))
        {
            return error.ToResult();
        }

        // An unknown account is 404, as on every per-account read, not an empty list.
        if (!await sequencer.QueryAsync(e => e.TryGetAccount(id, out _), ct))
        {
            return ApiError.From(Core.Engine.RejectReason.UnknownAccount).ToResult();
        }

        return Results.Json(keys.All.Where(k => k.AccountId == id).Select(k => View(k, withSecret: false)).ToArray());
    }

    // Revoking rewrites and fsyncs the key file: done on the thread pool, never on a socket thread
    // (with --InlineSocketIo, request code runs there and a wait would hold up every connection).
    private static async Task<IResult> Revoke(string clientId, ApiKeyStore keys) =>
        await Task.Run(() => keys.Revoke(clientId))
            ? Results.Json(new { revoked = clientId })
            : ApiError.From(GatewayReason.InvalidValue, "clientId", $"There is no API key '{clientId}'.").ToResult();

    private static ApiKeyView View(ApiKey key, bool withSecret) =>
        new(key.ClientId, key.AccountId, ScopeWords.Of(key.Scopes), key.Name, key.CreatedMillis, withSecret ? key.ClientSecret : null);
}
