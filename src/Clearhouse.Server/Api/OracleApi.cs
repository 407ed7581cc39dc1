using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Oracles;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Api;

/// <summary>
/// Oracle state and funding history (docs/oracles.md): read-only views over the engine, taken on
/// the engine thread between two commands.
/// </summary>
public static class OracleApi
{
    public const int MaxFundingPage = 1_000;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/oracles", GetOracles);
        api.MapGet("/funding/{instrumentName}", GetFunding);
    }

    /// <summary>Every underlying: index, status now, reporters and their latest reports, TWAP, volatility surface time.</summary>
    private static async Task<IResult> GetOracles(Sequencer sequencer, CancellationToken ct)
    {
        try
        {
            var views = await sequencer.QueryAsync(engine => engine.Underlyings.Select(u => OracleView(engine, u)).ToArray(), ct);
            return Results.Json(views);
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }
    }

    /// <summary>A perpetual's funding payments, newest first: time, rate for the interval, average premium, index.</summary>
    private static async Task<IResult> GetFunding(string instrumentName, HttpRequest request, Sequencer sequencer, CancellationToken ct)
    {
        var query = RequestFields.FromQuery(request.Query);
        int limit = (int)query.Integer("limit", 1, MaxFundingPage, 24);
        query.RejectUnknownFields();
        if (query.Error is { } error)
        {
            return error.ToResult();
        }

        try
        {
            var view = await sequencer.QueryAsync(engine => engine.TryGetInstrument(instrumentName, out var instrument) ? FundingView(instrument, limit) : null, ct);
            return view is null
                ? (ApiError.From(RejectReason.UnknownInstrument) with { Field = "instrument", Message = $"There is no instrument named '{instrumentName}'." }).ToResult()
                : Results.Json(view);
        }
        catch (SequencerStoppedException)
        {
            return ApiError.From(GatewayReason.EngineUnavailable).ToResult();
        }
    }

    private static object OracleView(Engine engine, Underlying u)
    {
        long now = engine.LastTimestampMicros;
        bool hasTwap = u.Twap.TryAverage(now, out var twap, out int samples);
        return new
        {
            underlying = u.Name,
            indexPrice = Views.Text(u.IndexPrice),
            indexUpdatedMicros = u.IndexUpdatedMicros,
            status = u.StatusAt(now).ToString().ToLowerInvariant(),
            parameters = u.Oracle is { } o
                ? new { quorum = o.Parameters.Quorum, stalenessMicros = o.Parameters.StalenessMicros, maxFutureMicros = o.Parameters.MaxFutureMicros, deviationBandPpm = o.Parameters.DeviationBandPpm }
                : null,
            reporters = u.Oracle?.Reporters.Select(r => new
            {
                id = r.Id,
                publicKey = Convert.ToHexStringLower(r.PublicKey),
                lastPrice = r.LastPublishMicros == 0 ? null : Views.Text(r.LastPrice),
                lastPublishMicros = r.LastPublishMicros,
                outliers = r.OutlierCount,
            }).ToArray(),
            twap = hasTwap ? Views.Text(twap) : null,
            twapSamples = samples,
            volSurfacePublishedMicros = u.VolSurface?.Parameters.PublishedMicros,
        };
    }

    private static object FundingView(Instrument instrument, int limit) => new
    {
        instrument = instrument.Name,
        intervalsPaid = instrument.FundingHistory.Count,
        premiumSamplesThisInterval = instrument.PremiumSamples,
        history = instrument.FundingHistory.Reverse().Take(limit).Select(f => new
        {
            timeMicros = f.TimeMicros,
            rate = (f.RatePpb / 1e9m).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ratePpb = f.RatePpb,
            averagePremiumPpb = f.AveragePremiumPpb,
            indexPrice = Views.Text(f.IndexPrice),
        }).ToArray(),
    };
}
