using System.Collections.Frozen;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.MarketData;

/// <summary>
/// Deribit's public market data methods (docs/api.md): currencies, instruments, the
/// book, the ticker, recent trades, index prices, book summaries and funding. Each reads its
/// parameters first, then answers from one query on the engine thread; none changes anything.
/// </summary>
public sealed class MarketDataModule(Sequencer sequencer, PublicTradeTape tape) : IRpcModule
{
    public const int DefaultBookDepth = 10;
    public const int MaxBookDepth = 10_000;
    public const int DefaultTradeCount = 10;
    public const int MaxTradeCount = 1_000;

    private static readonly FrozenDictionary<string, string?> Kinds = new Dictionary<string, string?>
    {
        ["future"] = "future",
        ["option"] = "option",
        ["spot"] = null,
        ["future_combo"] = null,
        ["option_combo"] = null,
        ["any"] = "any",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, bool> Sortings = new Dictionary<string, bool>
    {
        ["desc"] = true,
        ["default"] = true,
        ["asc"] = false,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public IEnumerable<RpcMethod> Methods() =>
    [
        Public("public/get_currencies", GetCurrencies),
        Public("public/get_instruments", GetInstruments),
        Public("public/get_order_book", GetOrderBook),
        Public("public/ticker", GetTicker),
        Public("public/get_last_trades_by_instrument", GetLastTrades),
        Public("public/get_last_trades_by_instrument_and_time", GetLastTradesByTime),
        Public("public/get_index_price", GetIndexPrice),
        Public("public/get_book_summary_by_currency", GetBookSummaries),
        Public("public/get_funding_rate_value", GetFundingRateValue),
        Public("public/status", GetStatus),
    ];

    /// <summary>Deribit's platform lock status (ccxt's fetchStatus): never locked here.</summary>
    public sealed record StatusResult(string Locked, string[] LockedIndices);

    private static RpcMethod Public(string name, RpcHandler handler) => new(name, ApiScopes.None, RateClass.MarketData, handler);

    /// <summary>Each underlying, then USDC (the settlement currency). Withdrawals are not fee-charging here: fees are 0.</summary>
    private async ValueTask<object?> GetCurrencies(RpcContext context, RpcParams parameters)
    {
        var underlyings = await sequencer.QueryAsync(engine => engine.Underlyings.Select(u => u.Name).ToArray());
        var result = new List<CurrencyResult>(underlyings.Length + 1);
        foreach (string name in underlyings)
        {
            result.Add(Currency(name));
        }

        result.Add(Currency(InstrumentTerms.SettlementCurrency));
        return result;

        static CurrencyResult Currency(string code)
        {
            var (longName, coinType) = code switch
            {
                "BTC" => ("Bitcoin", "BITCOIN"),
                "ETH" => ("Ethereum", "ETHER"),
                "USDC" => ("USD Coin", "USDC"),
                _ => (code, code),
            };
            return new CurrencyResult(code, longName, coinType, 6, 1, 0m, 0m, [], null);
        }
    }

    /// <summary>
    /// <c>currency</c> omitted, <c>any</c> or <c>USDC</c>: every instrument (all are USDC-settled);
    /// an underlying (<c>BTC</c>): its instruments. <c>kind</c> future (perpetuals included) or
    /// option; combos and spot: none. <c>expired</c> true: the settled instruments instead of the live ones.
    /// </summary>
    private async ValueTask<object?> GetInstruments(RpcContext context, RpcParams parameters)
    {
        string? currency = Currency(parameters);
        string? kind = parameters.Has("kind") ? KindFilter(parameters) : "any";
        bool expired = parameters.Bool("expired") ?? false;
        if (kind is null)
        {
            return Array.Empty<InstrumentResult>();
        }

        return await sequencer.QueryAsync(engine =>
        {
            EnsureKnownCurrency(engine, currency);
            var list = new List<InstrumentResult>();
            foreach (var instrument in engine.Instruments)
            {
                if ((instrument.State == InstrumentState.Settled) == expired && Matches(instrument, currency, kind))
                {
                    list.Add(MarketDataViews.Instrument(instrument));
                }
            }

            return list;
        });
    }

    private async ValueTask<object?> GetOrderBook(RpcContext context, RpcParams parameters)
    {
        int instrumentId = InstrumentId(parameters);
        int depth = (int)(parameters.Integer("depth", 1, MaxBookDepth) ?? DefaultBookDepth);
        return await sequencer.QueryAsync(engine => MarketDataViews.OrderBook(engine, engine.Instruments[instrumentId - 1], tape, depth));
    }

    private async ValueTask<object?> GetTicker(RpcContext context, RpcParams parameters)
    {
        int instrumentId = InstrumentId(parameters);
        return await sequencer.QueryAsync(engine => MarketDataViews.Ticker(engine, engine.Instruments[instrumentId - 1], tape));
    }

    /// <summary>
    /// The instrument's most recent trades (the tape keeps <see cref="PublicTradeTape.Capacity"/>),
    /// newest first unless <c>sorting</c> is <c>asc</c>, optionally within [start_seq, end_seq].
    /// </summary>
    private async ValueTask<object?> GetLastTrades(RpcContext context, RpcParams parameters)
    {
        int instrumentId = InstrumentId(parameters);
        string name = sequencer.Instruments.NameOf(instrumentId);
        int count = (int)(parameters.Integer("count", 1, MaxTradeCount) ?? DefaultTradeCount);
        long startSeq = parameters.Integer("start_seq", 0, long.MaxValue) ?? 0;
        long endSeq = parameters.Integer("end_seq", 0, long.MaxValue) ?? long.MaxValue;
        bool newestFirst = parameters.Choice("sorting", Sortings) ?? true;
        _ = parameters.Bool("include_old");
        var (trades, hasMore) = await sequencer.QueryAsync(_ => tape.Page(instrumentId, count, startSeq, endSeq, newestFirst));
        return Page(trades, hasMore, name);
    }

    /// <summary>As <c>public/get_last_trades_by_instrument</c>, within [start_timestamp, end_timestamp] (ms; end defaults to now), as ccxt's fetchTrades with <c>since</c> asks.</summary>
    private async ValueTask<object?> GetLastTradesByTime(RpcContext context, RpcParams parameters)
    {
        int instrumentId = InstrumentId(parameters);
        string name = sequencer.Instruments.NameOf(instrumentId);
        long startMillis = parameters.Integer("start_timestamp", 0, long.MaxValue / 1000, required: true)!.Value;
        long endMicros = parameters.Integer("end_timestamp", 0, (long.MaxValue / 1000) - 1) is { } endMillis ? (endMillis * 1000) + 999 : long.MaxValue;
        int count = (int)(parameters.Integer("count", 1, MaxTradeCount) ?? DefaultTradeCount);
        bool newestFirst = parameters.Choice("sorting", Sortings) ?? true;
        _ = parameters.Bool("include_old");
        var (trades, hasMore) = await sequencer.QueryAsync(_ => tape.Page(instrumentId, count, 0, long.MaxValue, newestFirst, startMillis * 1000, endMicros));
        return Page(trades, hasMore, name);
    }

    private static LastTradesResult Page(List<PublicTrade> trades, bool hasMore, string instrumentName)
    {
        var results = new TradeResult[trades.Count];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = TradeResult.From(trades[i], instrumentName);
        }

        return new LastTradesResult(results, hasMore);
    }

    /// <summary><c>index_name</c> such as <c>btc_usdc</c> (or <c>btc_usd</c>): the underlying's index.</summary>
    private async ValueTask<object?> GetIndexPrice(RpcContext context, RpcParams parameters)
    {
        string indexName = parameters.String("index_name", required: true, maxLength: 32)!;
        int separator = indexName.IndexOf('_', StringComparison.Ordinal);
        string underlying = (separator > 0 ? indexName[..separator] : indexName).ToUpperInvariant();
        var price = await sequencer.QueryAsync(engine => engine.TryGetUnderlying(underlying, out var u) ? u.IndexPrice : (Core.Numerics.Price?)null);
        if (price is not { } index || !index.IsPositive)
        {
            throw RpcError.InvalidParams("index_name", $"There is no index named '{indexName}'; the indices are the underlyings' in lower case with _usdc, e.g. btc_usdc.").ToException();
        }

        return new IndexPriceResult(index.ToDecimal(), index.ToDecimal());
    }

    private async ValueTask<object?> GetBookSummaries(RpcContext context, RpcParams parameters)
    {
        string? currency = Currency(parameters);
        string? kind = parameters.Has("kind") ? KindFilter(parameters) : "any";
        if (kind is null)
        {
            return Array.Empty<BookSummaryResult>();
        }

        return await sequencer.QueryAsync(engine =>
        {
            EnsureKnownCurrency(engine, currency);
            var list = new List<BookSummaryResult>();
            foreach (var instrument in engine.Instruments)
            {
                if (instrument.State != InstrumentState.Settled && Matches(instrument, currency, kind))
                {
                    list.Add(MarketDataViews.BookSummary(engine, instrument, tape));
                }
            }

            return list;
        });
    }

    /// <summary>The sum of the perpetual's funding rates paid in [start_timestamp, end_timestamp] (ms).</summary>
    private async ValueTask<object?> GetFundingRateValue(RpcContext context, RpcParams parameters)
    {
        int instrumentId = InstrumentId(parameters);
        long start = parameters.Integer("start_timestamp", 0, long.MaxValue / 1000, required: true)!.Value * 1000;
        long end = parameters.Integer("end_timestamp", 0, long.MaxValue / 1000, required: true)!.Value * 1000;
        long? sum = await sequencer.QueryAsync(engine =>
        {
            var instrument = engine.Instruments[instrumentId - 1];
            if (instrument.Kind != InstrumentKind.Perpetual)
            {
                return (long?)null;
            }

            long total = 0;
            foreach (var record in instrument.FundingHistory)
            {
                if (record.TimeMicros >= start && record.TimeMicros <= end)
                {
                    total += record.RatePpb;
                }
            }

            return total;
        });
        return sum is { } value
            ? value / (decimal)Core.Clearing.Funding.PpbScale
            : throw RpcError.InvalidParams("instrument_name", $"'{parameters.String("instrument_name")}' is not a perpetual: only perpetuals pay funding.").ToException();
    }

    private static ValueTask<object?> GetStatus(RpcContext context, RpcParams parameters) =>
        ValueTask.FromResult<object?>(new StatusResult("false", []));

    private int InstrumentId(RpcParams parameters)
    {
        string name = parameters.String("instrument_name", required: true, maxLength: 64)!;
        return sequencer.Instruments.TryGetId(name, out int id) ? id : throw RpcError.UnknownInstrument(name).ToException();
    }

    /// <summary>
    /// The currency filter: null for every instrument (omitted, <c>any</c>, or USDC, in which all
    /// settle). In any case, as the private methods take it (<c>btc</c> is <c>BTC</c>).
    /// </summary>
    private static string? Currency(RpcParams parameters)
    {
        string? currency = parameters.String("currency", maxLength: 16);
        return currency is null
            || currency.Equals("any", StringComparison.OrdinalIgnoreCase)
            || currency.Equals(InstrumentTerms.SettlementCurrency, StringComparison.OrdinalIgnoreCase)
            ? null
            : currency;
    }

    private static string? KindFilter(RpcParams parameters)
    {
        string word = parameters.String("kind", maxLength: 16)!;
        return Kinds.TryGetValue(word, out string? kind)
            ? kind
            : throw RpcError.InvalidParams("kind", $"'kind' must be one of: future, option, spot, future_combo, option_combo, any; not '{word}'.").ToException();
    }

    private static void EnsureKnownCurrency(Engine engine, string? currency)
    {
        if (currency is not null && !engine.Underlyings.Any(u => u.Name.Equals(currency, StringComparison.OrdinalIgnoreCase)))
        {
            throw RpcError.InvalidParams("currency", $"There is no currency '{currency}': use an underlying ({string.Join(", ", engine.Underlyings.Select(u => u.Name))}), USDC or any.").ToException();
        }
    }

    private static bool Matches(Instrument instrument, string? currency, string kind) =>
        (currency is null || instrument.Underlying.Name.Equals(currency, StringComparison.OrdinalIgnoreCase))
        && (kind == "any" || MarketDataViews.KindWord(instrument.Kind) == kind);
}
