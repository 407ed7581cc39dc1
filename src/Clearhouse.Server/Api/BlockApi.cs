using Clearhouse.Core.Engine;
using Clearhouse.Core.Merkle;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Api;

/// <summary>
/// Block headers and account proofs (docs/proofs.md). Headers are served once persisted — their
/// commands durable and the header fsynced — so a header a client has seen is never taken back by
/// a crash. An account proof is against the latest sealed block and is answered only once that
/// block is published, so <c>GET /api/blocks/{height}</c> always knows the block a proof names.
/// </summary>
public static class BlockApi
{
    public const int DefaultBlockPage = 100;
    public const int MaxBlockPage = 1_000;

    /// <summary>How long a proof waits for its block's header to reach the disk.</summary>
    public static readonly TimeSpan PublishPatience = TimeSpan.FromSeconds(10);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/blocks/latest", GetLatest);
        api.MapGet("/blocks/{height}", GetBlock);
        api.MapGet("/blocks", GetBlocks);
        api.MapGet("/accounts/{accountId}/proof", GetProof);
    }

    private static IResult GetLatest(Sequencer sequencer) =>
        sequencer.Venue.Blocks.Latest is { } header ? Results.Json(BlockView.From(header)) : NoBlock("No block has been sealed yet.");

    private static IResult GetBlock(string height, Sequencer sequencer)
    {
        var fields = RequestFields.FromQuery(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["height"] = height }));
        long h = fields.Integer("height", 1, long.MaxValue);
        if (fields.Error is { } error)
        {
            return error.ToResult();
        }

        return sequencer.Venue.Blocks.TryGet(h, out var header)
            ? Results.Json(BlockView.From(header))
            : NoBlock($"No block has been sealed at height {h} yet (the latest is {sequencer.Venue.Blocks.LastHeight}).");
    }

    private static IResult GetBlocks(HttpRequest request, Sequencer sequencer)
    {
        var query = RequestFields.FromQuery(request.Query);
        long from = query.Integer("from", 1, long.MaxValue, 1);
        int limit = (int)query.Integer("limit", 1, MaxBlockPage, DefaultBlockPage);
        query.RejectUnknownFields();
        if (query.Error is { } error)
        {
            return error.ToResult();
        }

        return Results.Json(Array.ConvertAll(sequencer.Venue.Blocks.Range(from, limit), BlockView.From));
    }

    private static async Task<IResult> GetProof(string accountId, Sequencer sequencer, CancellationToken ct)
    {
        var fields = RequestFields.FromQuery(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["accountId"] = accountId }));
        int id = fields.Id32("accountId");
        if (fields.Error is { } error)
        {
            return error.ToResult();
        }

        AccountProofResult result;
        try
        {
            result = await sequencer.ProveAccountAsync(id, ct);
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }

        if (result.Proof is null || result.Header is null)
        {
            return !result.AccountExists ? ApiError.From(RejectReason.UnknownAccount).ToResult()
                : result.Header is null ? NoBlock("No block has been sealed yet; account proofs are against sealed blocks.")
                : ApiError.From(GatewayReason.AccountNotYetInBlock, message: $"Account {id} was opened after block {result.Header.Height}; ask again once the next block is sealed.").ToResult();
        }

        try
        {
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
            patience.CancelAfter(PublishPatience);
            await sequencer.Venue.Blocks.WaitForHeightAsync(result.Header.Height, patience.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ApiError.From(GatewayReason.EngineUnavailable, message: $"Block {result.Header.Height} has not reached the disk yet; try again.").ToResult();
        }

        return Results.Content(AccountProofDocument.From(result.Proof, result.Header).ToJson(), "application/json");
    }

    private static IResult NoBlock(string message) => ApiError.From(GatewayReason.UnknownBlock, message: message).ToResult();
}
