using System.Collections.Frozen;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Api;

/// <summary>
/// The native JSON API (docs/native-api.md). Each handler parses and validates its input here,
/// at the gateway (malformed numbers never reach the engine), turns it into one command or one
/// query for the <see cref="Sequencer"/>, and maps the outcome: accepted → 200/201 with a view,
/// rejected → an <see cref="ApiError"/> with the engine's reason code.
/// </summary>
public static class NativeApi
{
    public const int DefaultBookDepth = 10;
    public const int MaxBookDepth = 500;

    private static readonly FrozenDictionary<string, Side> Sides = new Dictionary<string, Side>
    {
        ["buy"] = Side.Buy,
        ["sell"] = Side.Sell,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, OrderType> Types = new Dictionary<string, OrderType>
    {
        ["limit"] = OrderType.Limit,
        ["market"] = OrderType.Market,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, TimeInForce> TimesInForce = new Dictionary<string, TimeInForce>
    {
        ["gtc"] = TimeInForce.GoodTilCancelled,
        ["ioc"] = TimeInForce.ImmediateOrCancel,
        ["fok"] = TimeInForce.FillOrKill,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, SelfTradePrevention> SelfTradePreventions = new Dictionary<string, SelfTradePrevention>
    {
        ["cancelResting"] = SelfTradePrevention.CancelResting,
        ["cancelIncoming"] = SelfTradePrevention.CancelIncoming,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, MarginMode> MarginModes = new Dictionary<string, MarginMode>
    {
        ["standard"] = MarginMode.Standard,
        ["portfolio"] = MarginMode.Portfolio,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapNativeApi(this IEndpointRouteBuilder app)
    {
        // Reads are open (loopback only); anything that changes state needs the operator token.
        var api = app.MapGroup("/api").AddEndpointFilter(Operations.OperatorCredential.Filter);
        api.MapGet("/status", GetStatus);
        api.MapGet("/instruments", GetInstruments);
        api.MapGet("/book/{instrumentName}", GetBook);
        api.MapPost("/accounts", CreateAccount);
        api.MapGet("/accounts/{accountId}", GetAccount);
        api.MapPost("/accounts/{accountId}/deposit", (string accountId, HttpRequest request, Sequencer sequencer, CancellationToken ct) => Transfer(accountId, request, sequencer, deposit: true, ct));
        api.MapPost("/accounts/{accountId}/withdraw", (string accountId, HttpRequest request, Sequencer sequencer, CancellationToken ct) => Transfer(accountId, request, sequencer, deposit: false, ct));
        api.MapGet("/accounts/{accountId}/margin", GetMarginReport);
        api.MapPost("/accounts/{accountId}/margin-mode", SetMarginMode);
        api.MapPost("/accounts/{accountId}/isolated", SetIsolated);
        api.MapPost("/accounts/{accountId}/isolated/transfer", TransferIsolated);
        api.MapGet("/margin/scenarios", GetScenarios);
        api.MapPost("/orders", PlaceOrder);
        api.MapDelete("/orders/{orderId}", CancelOrder);
        api.MapPost("/orders/{orderId}/amend", AmendOrder);
        api.MapDelete("/orders", CancelAllOrders);
        BlockApi.Map(api);
        OracleApi.Map(api);
        LiquidationApi.Map(api);
        ApiKeysApi.Map(api);
        return app;
    }

    private static async Task<IResult> GetStatus(Sequencer sequencer, ServerOptions options, CancellationToken ct) =>
        await Guard(async () =>
        {
            var (sequence, timestamp, accounts, instruments) = await sequencer.QueryAsync(e => (e.LastSequence, e.LastTimestampMicros, e.AccountCount, e.Instruments.Count), ct);
            var venue = sequencer.Venue;
            var block = venue.Blocks.Latest;
            return Results.Json(new StatusView(
                sequence,
                timestamp,
                sequencer.LastStampedSequence,
                sequencer.AppliedCount,
                sequencer.RejectedCount,
                accounts,
                instruments,
                sequencer.QueueLength,
                options.Demo,
                venue.Journal is not null,
                sequencer.LastDurableSequence,
                sequencer.AwaitingDurability,
                block?.Height ?? 0,
                block is null ? null : Convert.ToHexStringLower(block.Hash()),
                block is null ? null : Convert.ToHexStringLower(block.StateRoot),
                sequencer.BlocksSealed,
                Math.Round(sequencer.AverageSealMicros, 1),
                venue.Persistence?.LastSnapshot,
                venue.Report));
        });

    private static async Task<IResult> GetInstruments(Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var views = await sequencer.QueryAsync(engine =>
            {
                var list = new InstrumentView[engine.Instruments.Count];
                for (int i = 0; i < list.Length; i++)
                {
                    list[i] = Views.Instrument(engine.Instruments[i]);
                }

                return list;
            }, ct);
            return Results.Json(views);
        });

    private static async Task<IResult> GetBook(string instrumentName, HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var query = RequestFields.FromQuery(request.Query);
            int depth = (int)query.Integer("depth", 1, MaxBookDepth, DefaultBookDepth);
            query.RejectUnknownFields();
            if (query.Error is { } error)
            {
                return error.ToResult();
            }

            if (!sequencer.Instruments.TryGetId(instrumentName, out int instrumentId))
            {
                return UnknownInstrument(instrumentName);
            }

            var book = await sequencer.QueryAsync(engine => engine.TryGetInstrument(instrumentId, out var instrument) ? Views.Book(engine, instrument, depth) : null, ct);
            return book is null ? UnknownInstrument(instrumentName) : Results.Json(book);
        });

    private static async Task<IResult> CreateAccount(HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            fields.RejectUnknownFields();
            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            var result = await sequencer.SubmitAsync(new CreateAccount(), ct);
            if (!result.IsAccepted)
            {
                return ApiError.From(result.Reason, result.Sequence).ToResult();
            }

            int accountId = result.Events[0].AccountId;
            return Results.Json(new AccountCreatedView(result.Sequence, accountId), statusCode: StatusCodes.Status201Created);
        });

    private static async Task<IResult> GetAccount(string accountId, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            if (!TryParseId(accountId, "accountId", out int id, out var error))
            {
                return error.ToResult();
            }

            var view = await sequencer.QueryAsync(engine => Views.Account(engine, id), ct);
            return view is null ? ApiError.From(RejectReason.UnknownAccount).ToResult() : Results.Json(view);
        });

    private static async Task<IResult> Transfer(string accountId, HttpRequest request, Sequencer sequencer, bool deposit, CancellationToken ct) =>
        await Guard(async () =>
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            var amount = fields.Money("amount", required: true);
            fields.RejectUnknownFields();
            if (!TryParseId(accountId, "accountId", out int id, out var idError))
            {
                return idError.ToResult();
            }

            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            Command command = deposit ? new Deposit(id, amount) : new Withdraw(id, amount);
            var result = await sequencer.SubmitAsync(command, ct);
            return result.IsAccepted
                ? Results.Json(new TransferView(result.Sequence, result.TimestampMicros, id, Views.Text(amount)))
                : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static async Task<IResult> GetMarginReport(string accountId, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            if (!TryParseId(accountId, "accountId", out int id, out var error))
            {
                return error.ToResult();
            }

            var view = await sequencer.QueryAsync(engine => Views.MarginReport(engine, id), ct);
            return view is null ? ApiError.From(RejectReason.UnknownAccount).ToResult() : Results.Json(view);
        });

    private static async Task<IResult> GetScenarios(Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () => Results.Json(await sequencer.QueryAsync(Views.Scenarios, ct)));

    private static async Task<IResult> SetMarginMode(string accountId, HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            var mode = fields.Choice("mode", MarginModes, MarginMode.Standard, required: true);
            fields.RejectUnknownFields();
            if (!TryParseId(accountId, "accountId", out int id, out var idError))
            {
                return idError.ToResult();
            }

            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            var result = await sequencer.SubmitAsync(new SetMarginMode(id, mode), ct);
            return result.IsAccepted
                ? Results.Json(new MarginModeView(result.Sequence, result.TimestampMicros, id, Views.Word(mode)))
                : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static async Task<IResult> SetIsolated(string accountId, HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            string? instrument = fields.String("instrument", required: true);
            bool isolated = fields.Bool("isolated");
            if (!fields.Has("isolated"))
            {
                fields.Fail(GatewayReason.MissingField, "isolated", "'isolated' is required: true to isolate the position, false to margin it with the account again.");
            }

            fields.RejectUnknownFields();
            if (!TryParseId(accountId, "accountId", out int id, out var idError))
            {
                return idError.ToResult();
            }

            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            if (!sequencer.Instruments.TryGetId(instrument!, out int instrumentId))
            {
                return UnknownInstrument(instrument!);
            }

            var result = await sequencer.SubmitAsync(new SetIsolatedMargin(id, instrumentId, isolated), ct);
            return result.IsAccepted
                ? Results.Json(new IsolatedSetView(result.Sequence, result.TimestampMicros, id, instrument!, isolated))
                : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static async Task<IResult> TransferIsolated(string accountId, HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var fields = await RequestFields.ReadAsync(request, ct);
            string? instrument = fields.String("instrument", required: true);
            var amount = fields.Money("amount", required: true);
            fields.RejectUnknownFields();
            if (!TryParseId(accountId, "accountId", out int id, out var idError))
            {
                return idError.ToResult();
            }

            if (fields.Error is { } error)
            {
                return error.ToResult();
            }

            if (!sequencer.Instruments.TryGetId(instrument!, out int instrumentId))
            {
                return UnknownInstrument(instrument!);
            }

            var result = await sequencer.SubmitAsync(new TransferIsolatedMargin(id, instrumentId, amount), ct);
            return result.IsAccepted
                ? Results.Json(new IsolatedTransferView(result.Sequence, result.TimestampMicros, id, instrument!, Views.Text(amount)))
                : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static async Task<IResult> PlaceOrder(HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var f = await RequestFields.ReadAsync(request, ct);
            int accountId = f.Id32("accountId");
            string? instrument = f.String("instrument", required: true);
            var side = f.Choice("side", Sides, default, required: true);
            var type = f.Choice("type", Types, OrderType.Limit);
            var timeInForce = f.Choice("timeInForce", TimesInForce, type == OrderType.Limit ? TimeInForce.GoodTilCancelled : TimeInForce.ImmediateOrCancel);
            var price = f.Price("price", required: type == OrderType.Limit);
            var amount = f.Quantity("amount", required: true);
            bool postOnly = f.Bool("postOnly");
            bool reduceOnly = f.Bool("reduceOnly");
            string? clientOrderId = f.String("clientOrderId", required: false);
            var stp = f.Choice("selfTradePrevention", SelfTradePreventions, SelfTradePrevention.CancelResting);
            f.RejectUnknownFields();
            if (f.Error is { } error)
            {
                return error.ToResult();
            }

            if (!sequencer.Instruments.TryGetId(instrument!, out int instrumentId))
            {
                return UnknownInstrument(instrument!);
            }

            var flags = (postOnly ? OrderFlags.PostOnly : OrderFlags.None) | (reduceOnly ? OrderFlags.ReduceOnly : OrderFlags.None);
            var command = new PlaceOrder(accountId, instrumentId, side, type, timeInForce, price, amount, flags, clientOrderId, stp);
            var result = await sequencer.SubmitAsync(command, ct);
            if (!result.IsAccepted)
            {
                return ApiError.From(result.Reason, result.Sequence).ToResult();
            }

            return Results.Json(OrderOutcome.Of(result, OrderOutcome.AcceptedOrderId(result), sequencer.Instruments));
        });

    private static async Task<IResult> AmendOrder(string orderId, HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var f = await RequestFields.ReadAsync(request, ct);
            int accountId = f.Id32("accountId");
            var price = f.Price("price", required: true);
            var amount = f.Quantity("amount", required: true);
            f.RejectUnknownFields();
            if (!TryParseOrderId(orderId, out long id, out var idError))
            {
                return idError.ToResult();
            }

            if (f.Error is { } error)
            {
                return error.ToResult();
            }

            var result = await sequencer.SubmitAsync(new AmendOrder(accountId, id, price, amount), ct);
            return result.IsAccepted
                ? Results.Json(OrderOutcome.Of(result, id, sequencer.Instruments))
                : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static async Task<IResult> CancelOrder(string orderId, HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var query = RequestFields.FromQuery(request.Query);
            int accountId = query.Id32("accountId");
            query.RejectUnknownFields();
            if (!TryParseOrderId(orderId, out long id, out var idError))
            {
                return idError.ToResult();
            }

            if (query.Error is { } error)
            {
                return error.ToResult();
            }

            var result = await sequencer.SubmitAsync(new CancelOrder(accountId, id), ct);
            return result.IsAccepted ? Results.Json(Cancelled(result, accountId)) : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static async Task<IResult> CancelAllOrders(HttpRequest request, Sequencer sequencer, CancellationToken ct) =>
        await Guard(async () =>
        {
            var query = RequestFields.FromQuery(request.Query);
            int accountId = query.Id32("accountId");
            string? instrument = query.String("instrument", required: false);
            query.RejectUnknownFields();
            if (query.Error is { } error)
            {
                return error.ToResult();
            }

            int instrumentId = 0;
            if (instrument is not null && !sequencer.Instruments.TryGetId(instrument, out instrumentId))
            {
                return UnknownInstrument(instrument);
            }

            var result = await sequencer.SubmitAsync(new CancelAllOrders(accountId, instrumentId), ct);
            return result.IsAccepted ? Results.Json(Cancelled(result, accountId)) : ApiError.From(result.Reason, result.Sequence).ToResult();
        });

    private static CancelView Cancelled(CommandResult result, int accountId)
    {
        var ids = new List<long>();
        var amount = Core.Numerics.Quantity.Zero;
        foreach (var e in result.Events)
        {
            // Only this account's own cancellations: the same command may also have run liquidation
            // steps, whose cancellations (and immediate-or-cancel remainders) are other accounts'.
            if (e.Kind == EventKind.OrderCancelled && e.AccountId == accountId && e.CancelReason == CancelReason.UserRequested)
            {
                ids.Add(e.OrderId);
                amount += e.Remaining;
            }
        }

        return new CancelView(result.Sequence, result.TimestampMicros, accountId, [.. ids], Views.Text(amount));
    }

    private static IResult UnknownInstrument(string name) =>
        (ApiError.From(RejectReason.UnknownInstrument) with { Field = "instrument", Message = $"There is no instrument named '{name}'." }).ToResult();

    internal static bool TryParseId(string text, string field, out int id, out ApiError error)
    {
        var fields = RequestFields.FromQuery(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { [field] = text }));
        id = fields.Id32(field);
        error = fields.Error!;
        return fields.Error is null;
    }

    private static bool TryParseOrderId(string text, out long id, out ApiError error)
    {
        var fields = RequestFields.FromQuery(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["orderId"] = text }));
        id = fields.Id64("orderId");
        error = fields.Error!;
        return fields.Error is null;
    }

    /// <summary>Maps the sequencer's stop and unexpected failures to API errors.</summary>
    internal static async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }
    }
}
