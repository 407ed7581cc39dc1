using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Liquidations;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Api;

/// <summary>
/// Liquidations, their proofs, auto-deleveraging ranks and the insurance fund
/// (docs/liquidation.md). Steps and proofs come from the server's <see cref="LiquidationLog"/>
/// (no trip to the engine thread); ranks and the fund are read on the engine thread between two
/// commands. Depositing into the fund is a governance command, exposed here with the trust of the
/// account deposit: loopback only, unauthenticated until the API issue adds authentication.
/// </summary>
public static class LiquidationApi
{
    public const int DefaultPage = 50;
    public const int MaxPage = 1_000;

    private static readonly string[] AccountParameters = ["account", "accountId"];

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/liquidations", GetLiquidations);
        api.MapGet("/liquidations/{sequence}/{index}", GetProof);
        api.MapGet("/accounts/{accountId}/adl", GetAdlRank);
        api.MapGet("/insurance", GetInsurance);
        api.MapPost("/insurance/deposit", DepositInsurance);
    }

    /// <summary>The path a step's proof is served at.</summary>
    public static string ProofPath(long sequence, int index) => $"/api/liquidations/{sequence}/{index}";

    private static IResult GetLiquidations(HttpRequest request, Sequencer sequencer)
    {
        var query = RequestFields.FromQuery(request.Query);
        // 'account', or 'accountId' as elsewhere in the API: either filters.
        int? accountId = null;
        foreach (string name in AccountParameters)
        {
            if (query.Has(name))
            {
                int id = query.Id32(name);
                if (accountId is { } other && other != id)
                {
                    query.Fail(GatewayReason.InvalidValue, name, "'account' and 'accountId' name different accounts.");
                }

                accountId = id;
            }
        }

        int limit = (int)query.Integer("limit", 1, MaxPage, DefaultPage);
        query.RejectUnknownFields();
        if (query.Error is { } error)
        {
            return error.ToResult();
        }

        var log = sequencer.Venue.Liquidations;
        var steps = log.Recent(accountId, limit).ConvertAll(Step);
        return Results.Json(new LiquidationPageView(log.Count, log.Capacity, [.. steps]));
    }

    /// <summary>The proof document exactly as <see cref="LiquidationProofDocument.ToJson"/> writes it, so that the saved answer is a file <c>clearhouse verify-liquidation</c> checks.</summary>
    private static IResult GetProof(string sequence, string index, Sequencer sequencer)
    {
        var fields = RequestFields.FromQuery(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["sequence"] = sequence, ["index"] = index }));
        long s = fields.Integer("sequence", 1, long.MaxValue);
        int i = (int)fields.Integer("index", 0, int.MaxValue);
        if (fields.Error is { } error)
        {
            return error.ToResult();
        }

        var log = sequencer.Venue.Liquidations;
        return log.TryGet(s, i, out var record)
            ? Results.Text(LiquidationProofDocument.From(record.Proof).ToJson(), "application/json; charset=utf-8")
            : ApiError.From(GatewayReason.UnknownLiquidation, message: $"No liquidation step {i} at sequence {s} is kept: the server keeps the latest {log.Capacity:N0} steps (GET /api/liquidations lists them).").ToResult();
    }

    private static async Task<IResult> GetAdlRank(string accountId, HttpRequest request, Sequencer sequencer, CancellationToken ct)
    {
        var query = RequestFields.FromQuery(request.Query);
        string? instrument = query.String("instrument", required: true);
        query.RejectUnknownFields();
        var ids = RequestFields.FromQuery(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["accountId"] = accountId }));
        int id = ids.Id32("accountId");
        if ((ids.Error ?? query.Error) is { } error)
        {
            return error.ToResult();
        }

        if (!sequencer.Instruments.TryGetId(instrument!, out int instrumentId))
        {
            return UnknownInstrument(instrument!);
        }

        try
        {
            var view = await sequencer.QueryAsync(
                engine =>
                {
                    if (!engine.TryGetAccount(id, out var account))
                    {
                        return null;
                    }

                    var size = account.GetPosition(instrumentId).Size;
                    var (rank, of, key) = engine.GetAdlRank(id, instrumentId);
                    return new AdlRankView(id, instrument!, engine.LastSequence, size.IsZero ? null : size.IsPositive ? "long" : "short", Views.Text(size), rank, of, key);
                },
                ct);
            return view is null ? ApiError.From(RejectReason.UnknownAccount).ToResult() : Results.Json(view);
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }
    }

    private static async Task<IResult> GetInsurance(Sequencer sequencer, CancellationToken ct)
    {
        try
        {
            return Results.Json(await sequencer.QueryAsync(Insurance, ct));
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }
    }

    private static async Task<IResult> DepositInsurance(HttpRequest request, Sequencer sequencer, CancellationToken ct)
    {
        try
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            var amount = fields.Money("amount", required: true);
            fields.RejectUnknownFields();
            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            var result = await sequencer.SubmitAsync(new DepositInsuranceFund(amount), ct);
            return result.IsAccepted
                ? Results.Json(new InsuranceDepositView(result.Sequence, result.TimestampMicros, Views.Text(amount)))
                : ApiError.From(result.Reason, result.Sequence).ToResult();
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }
    }

    /// <summary>Runs on the engine thread: the fund's cash and the positions it holds at their marks.</summary>
    private static InsuranceView Insurance(Engine engine)
    {
        var fund = engine.Ledger.Insurance;
        var positions = new List<InsurancePositionView>();
        var value = Money.Zero;
        var unrealized = Money.Zero;
        foreach (int instrumentId in fund.ActiveInstruments)
        {
            var position = fund.GetPosition(instrumentId);
            if (position.Size.IsZero || !engine.TryGetInstrument(instrumentId, out var instrument))
            {
                continue;
            }

            var mark = instrument.MarkPrice;
            var positionValue = StandardMargin.PositionValue(mark, position.Size);
            var pnl = positionValue - position.OpenCost;
            value += positionValue;
            unrealized += pnl;
            positions.Add(new InsurancePositionView(instrument.Name, instrumentId, Views.Text(position.Size), Views.Text(position.AverageEntryPrice), Views.Text(mark), Views.Text(positionValue), Views.Text(pnl)));
        }

        positions.Sort((a, b) => a.InstrumentId.CompareTo(b.InstrumentId));
        var config = engine.Config;
        return new InsuranceView(
            engine.LastSequence,
            Views.Text(fund.Cash),
            Views.Text(fund.Cash + value),
            Views.Text(unrealized),
            Views.Text(new Money(config.InsuranceFloorMicros)),
            Views.Text(new Money(config.BackstopMaxNotionalPerInstrumentMicros)),
            [.. positions]);
    }

    /// <summary>A kept step as the API shows it.</summary>
    internal static LiquidationStepView Step(LiquidationRecord record)
    {
        var proof = record.Proof;
        ProofPosition? chosen = null;
        foreach (var p in proof.Positions)
        {
            if (p.InstrumentId == proof.ChosenInstrumentId)
            {
                chosen = p;
            }
        }

        var cancelled = new List<long>();
        var fills = new List<LiquidationFillView>();
        foreach (var e in record.Events)
        {
            switch (e.Kind)
            {
                case EventKind.OrderCancelled when e.CancelReason == CancelReason.Liquidation:
                    cancelled.Add(e.OrderId);
                    break;
                case EventKind.TradeExecuted:
                    fills.Add(new LiquidationFillView("book", Views.Text(e.Price), Views.Text(e.Quantity), e.MakerAccountId, e.TradeId));
                    break;
                case EventKind.BackstopTakeover:
                    fills.Add(new LiquidationFillView("takeover", Views.Text(e.Price), Views.Text(e.Quantity), e.MakerAccountId, null));
                    break;
                case EventKind.AutoDeleveraged:
                    fills.Add(new LiquidationFillView("adl", Views.Text(e.Price), Views.Text(e.Quantity), e.MakerAccountId, null));
                    break;
            }
        }

        var closed = record.FilledThroughBook + record.TakenOver + record.Deleveraged;
        var unfilled = proof.Step > closed ? proof.Step - closed : Quantity.Zero;
        return new LiquidationStepView(
            record.Sequence,
            record.Index,
            record.TimestampMicros,
            record.AccountId,
            proof.IsolatedInstrumentId == 0 ? "cross" : "isolated",
            chosen?.Spec.Name ?? proof.ChosenInstrumentId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            proof.ChosenInstrumentId,
            Views.Word(record.Side),
            Views.Text(proof.Step),
            chosen is null ? "0" : Views.Text(chosen.Mark),
            Views.Text(proof.BankruptcyPrice),
            Views.Text(proof.Equity),
            Views.Text(proof.Maintenance),
            Views.Text(record.FilledThroughBook),
            Views.Text(record.TakenOver),
            Views.Text(record.Deleveraged),
            Views.Text(unfilled),
            Views.Text(record.Fee),
            Views.Text(record.DeficitCovered),
            record.Ended,
            [.. cancelled],
            [.. fills],
            ProofPath(record.Sequence, record.Index));
    }

    /// <summary>The liquidation steps among a command's events, for its answer; null when there are none.</summary>
    internal static LiquidationNoticeView[]? Notices(CommandResult result, InstrumentDirectory instruments)
    {
        List<LiquidationNoticeView>? notices = null;
        foreach (var e in result.Events)
        {
            if (e.Kind == EventKind.LiquidationStep)
            {
                (notices ??= []).Add(new LiquidationNoticeView(e.AccountId, instruments.NameOf(e.InstrumentId), Views.Word(e.Side), Views.Text(e.Quantity), Views.Text(e.Price), ProofPath(result.Sequence, e.ProofIndex)));
            }
        }

        return notices?.ToArray();
    }

    private static IResult UnknownInstrument(string name) =>
        (ApiError.From(RejectReason.UnknownInstrument) with { Field = "instrument", Message = $"There is no instrument named '{name}'." }).ToResult();
}
