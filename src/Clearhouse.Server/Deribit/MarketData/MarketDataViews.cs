using System.Text.Json.Serialization;
using Clearhouse.Core.Clearing;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Server.Deribit.MarketData;

// The shapes of Deribit's public market data answers (https://docs.deribit.com/#market-data),
// serialized with DeribitJson (snake_case, nulls left out). Prices and amounts are decimals taken
// exactly from the venue's fixed-point values and written as JSON numbers, as Deribit writes them.
// Built on the engine thread (inside Sequencer.QueryAsync) from copies, never references.

/// <summary>One entry of <c>public/get_currencies</c>.</summary>
public sealed record CurrencyResult(
    string Currency,
    string CurrencyLong,
    string CoinType,
    int FeePrecision,
    int MinConfirmations,
    decimal MinWithdrawalFee,
    decimal WithdrawalFee,
    WithdrawalPriority[] WithdrawalPriorities,
    decimal? Apr);

public sealed record WithdrawalPriority(string Name, decimal Value);

/// <summary>One entry of <c>public/get_instruments</c>: a linear USDC contract (quote = settlement = USDC).</summary>
public sealed record InstrumentResult(
    string InstrumentName,
    int InstrumentId,
    string Kind,
    string InstrumentType,
    string BaseCurrency,
    string CounterCurrency,
    string QuoteCurrency,
    string SettlementCurrency,
    string SettlementPeriod,
    long ExpirationTimestamp,
    long CreationTimestamp,
    decimal? Strike,
    string? OptionType,
    decimal TickSize,
    decimal MinTradeAmount,
    decimal ContractSize,
    bool IsActive,
    decimal MakerCommission,
    decimal TakerCommission,
    int? MaxLeverage,
    string PriceIndex,
    bool Rfq,
    decimal BlockTradeCommission,
    decimal BlockTradeMinTradeAmount,
    decimal BlockTradeTickSize,
    object[] TickSizeSteps);

/// <summary>24-hour statistics: <c>volume</c> in contracts (= the base currency), <c>price_change</c> in percent.</summary>
public sealed record StatsResult(decimal? High, decimal? Low, decimal Volume, decimal VolumeUsd, decimal? PriceChange);

/// <summary>
/// Option sensitivities in Deribit's display conventions, per contract (one unit of the underlying)
/// in USDC: delta and gamma per 1 USDC of the forward, vega per 1 volatility point (0.01),
/// theta per calendar day, rho per 1 percentage point of the rate.
/// </summary>
public sealed record GreeksResult(decimal Delta, decimal Gamma, decimal Vega, decimal Theta, decimal Rho);

/// <summary>The answer of <c>public/ticker</c> and the data of <c>ticker.{instrument}.{interval}</c>.</summary>
public record TickerResult
{
    public required long Timestamp { get; init; }

    public required string State { get; init; }

    public required string InstrumentName { get; init; }

    public decimal? LastPrice { get; init; }

    public decimal? BestBidPrice { get; init; }

    public decimal BestBidAmount { get; init; }

    public decimal? BestAskPrice { get; init; }

    public decimal BestAskAmount { get; init; }

    public decimal? MarkPrice { get; init; }

    public decimal? IndexPrice { get; init; }

    public decimal? EstimatedDeliveryPrice { get; init; }

    public decimal? SettlementPrice { get; init; }

    public decimal OpenInterest { get; init; }

    public decimal? MinPrice { get; init; }

    public decimal? MaxPrice { get; init; }

    public required StatsResult Stats { get; init; }

    /// <summary>Perpetuals: the funding rate of the interval in progress, from the premium sampled so far.</summary>
    public decimal? CurrentFunding { get; init; }

    /// <summary>Perpetuals: <see cref="CurrentFunding"/> over 8 hours.</summary>
    [JsonPropertyName("funding_8h")]
    public decimal? Funding8h { get; init; }

    /// <summary>Perpetuals: the sum of every funding rate paid so far (Deribit's cumulative funding index).</summary>
    public decimal? InterestValue { get; init; }

    public GreeksResult? Greeks { get; init; }

    /// <summary>Options: volatility of the mark, in percent.</summary>
    public decimal? MarkIv { get; init; }

    public decimal? BidIv { get; init; }

    public decimal? AskIv { get; init; }

    /// <summary>Options: the forward the mark is priced on.</summary>
    public decimal? UnderlyingPrice { get; init; }

    /// <summary>Options: the future whose mark is the forward, or <c>index_price</c>.</summary>
    public string? UnderlyingIndex { get; init; }

    public decimal? InterestRate { get; init; }
}

/// <summary>The answer of <c>public/get_order_book</c>: the ticker's fields, the levels and the book's change id.</summary>
public sealed record OrderBookResult : TickerResult
{
    public required long ChangeId { get; init; }

    public required decimal[][] Bids { get; init; }

    public required decimal[][] Asks { get; init; }
}

/// <summary>One trade of <c>public/get_last_trades_by_instrument</c> and of <c>trades.{instrument}.{interval}</c>.</summary>
public sealed record TradeResult(
    long TradeSeq,
    string TradeId,
    long Timestamp,
    int TickDirection,
    decimal Price,
    decimal? MarkPrice,
    decimal? IndexPrice,
    string InstrumentName,
    string Direction,
    decimal Amount,
    string? Liquidation)
{
    public static TradeResult From(in PublicTrade trade, string instrumentName) => new(
        trade.TradeSeq,
        trade.TradeId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        trade.TimestampMicros / 1000,
        trade.TickDirection,
        trade.Price.ToDecimal(),
        MarketDataViews.OrNull(trade.MarkPrice),
        MarketDataViews.OrNull(trade.IndexPrice),
        instrumentName,
        trade.Direction == Side.Buy ? "buy" : "sell",
        trade.Amount.ToDecimal(),
        trade.Liquidation ? "T" : null); // Deribit: "M" maker, "T" taker, "MT" both were liquidated; only takers are liquidation orders here
}

public sealed record LastTradesResult(TradeResult[] Trades, bool HasMore);

/// <summary>One entry of <c>public/get_book_summary_by_currency</c>.</summary>
public sealed record BookSummaryResult(
    string InstrumentName,
    string BaseCurrency,
    string QuoteCurrency,
    long CreationTimestamp,
    decimal? BidPrice,
    decimal? AskPrice,
    decimal? MidPrice,
    decimal? MarkPrice,
    decimal? Last,
    decimal? High,
    decimal? Low,
    decimal Volume,
    decimal VolumeUsd,
    decimal? PriceChange,
    decimal OpenInterest,
    decimal? EstimatedDeliveryPrice,
    decimal? UnderlyingPrice,
    string? UnderlyingIndex,
    decimal? MarkIv,
    decimal? CurrentFunding,
    [property: JsonPropertyName("funding_8h")] decimal? Funding8h);

public sealed record IndexPriceResult(decimal IndexPrice, decimal EstimatedDeliveryPrice);

/// <summary>Builders of the answers, run on the engine thread.</summary>
public static class MarketDataViews
{
    /// <summary>Deribit's expiration_timestamp for perpetuals (3000-01-01).</summary>
    public const long PerpetualExpirationMillis = 32_503_708_800_000;

    public static decimal? OrNull(Price price) => price.IsPositive ? price.ToDecimal() : null;

    /// <summary>Deribit's index name of an underlying's USDC index: <c>btc_usdc</c>.</summary>
    public static string IndexName(string underlying) => underlying.ToLowerInvariant() + "_usdc";

    public static string KindWord(InstrumentKind kind) => kind == InstrumentKind.Option ? "option" : "future";

    /// <summary>
    /// Deribit's settlement_period: <c>perpetual</c>; for dated contracts <c>month</c> when the
    /// expiry is the last Friday of its month (quarterlies included), <c>week</c> on another
    /// Friday, <c>day</c> otherwise.
    /// </summary>
    public static string SettlementPeriod(InstrumentTerms terms)
    {
        if (terms.ExpiryDate is not { } date)
        {
            return "perpetual";
        }

        if (date == ListingSchedule.LastFriday(date.Year, date.Month))
        {
            return "month";
        }

        return date.DayOfWeek == DayOfWeek.Friday ? "week" : "day";
    }

    public static InstrumentResult Instrument(Instrument instrument)
    {
        var spec = instrument.Spec;
        var terms = spec.Terms;
        bool option = terms.Kind == InstrumentKind.Option;
        int? maxLeverage = null;
        if (!option && spec.Tiers.Tiers.Count > 0 && spec.Tiers.Tiers[0].InitialPpm > 0)
        {
            maxLeverage = 1_000_000 / spec.Tiers.Tiers[0].InitialPpm;
        }

        return new InstrumentResult(
            instrument.Name,
            instrument.Id,
            KindWord(terms.Kind),
            "linear",
            terms.Underlying,
            InstrumentTerms.SettlementCurrency,
            InstrumentTerms.SettlementCurrency,
            InstrumentTerms.SettlementCurrency,
            SettlementPeriod(terms),
            terms.ExpiryDate is null ? PerpetualExpirationMillis : terms.ExpiryMicros / 1000,
            instrument.ListedMicros / 1000,
            option ? terms.Strike.ToDecimal() : null,
            option ? (terms.Right == OptionRight.Call ? "call" : "put") : null,
            spec.TickSize.ToDecimal(),
            spec.MinAmount.ToDecimal(),
            1m,
            instrument.State == InstrumentState.Active,
            spec.MakerFeePpm / 1_000_000m,
            spec.TakerFeePpm / 1_000_000m,
            maxLeverage,
            IndexName(terms.Underlying),
            false,
            spec.TakerFeePpm / 1_000_000m,
            spec.MinAmount.ToDecimal(),
            spec.TickSize.ToDecimal(),
            []);
    }

    public static TickerResult Ticker(Engine engine, Instrument instrument, PublicTradeTape tape) => FillTicker(new TickerResult
    {
        Timestamp = engine.LastTimestampMicros / 1000,
        State = StateWord(instrument),
        InstrumentName = instrument.Name,
        Stats = Stats(tape.Stats(instrument.Id, engine.LastTimestampMicros)),
    }, engine, instrument);

    public static OrderBookResult OrderBook(Engine engine, Instrument instrument, PublicTradeTape tape, int depth)
    {
        var levels = new BookLevel[depth];
        int bids = instrument.Book.CopyLevels(Side.Buy, levels);
        var bidRows = Rows(levels.AsSpan(0, bids));
        int asks = instrument.Book.CopyLevels(Side.Sell, levels);
        var askRows = Rows(levels.AsSpan(0, asks));
        return (OrderBookResult)FillTicker(new OrderBookResult
        {
            Timestamp = engine.LastTimestampMicros / 1000,
            State = StateWord(instrument),
            InstrumentName = instrument.Name,
            Stats = Stats(tape.Stats(instrument.Id, engine.LastTimestampMicros)),
            ChangeId = tape.ChangeId(instrument.Id),
            Bids = bidRows,
            Asks = askRows,
        }, engine, instrument);

        static decimal[][] Rows(ReadOnlySpan<BookLevel> levels)
        {
            var rows = new decimal[levels.Length][];
            for (int i = 0; i < levels.Length; i++)
            {
                rows[i] = [levels[i].Price.ToDecimal(), levels[i].Quantity.ToDecimal()];
            }

            return rows;
        }
    }

    public static BookSummaryResult BookSummary(Engine engine, Instrument instrument, PublicTradeTape tape)
    {
        var ticker = Ticker(engine, instrument, tape);
        decimal? mid = ticker.BestBidPrice is { } bid && ticker.BestAskPrice is { } ask ? (bid + ask) / 2 : null;
        return new BookSummaryResult(
            instrument.Name,
            instrument.Underlying.Name,
            InstrumentTerms.SettlementCurrency,
            instrument.ListedMicros / 1000,
            ticker.BestBidPrice,
            ticker.BestAskPrice,
            mid,
            ticker.MarkPrice,
            ticker.LastPrice,
            ticker.Stats.High,
            ticker.Stats.Low,
            ticker.Stats.Volume,
            ticker.Stats.VolumeUsd,
            ticker.Stats.PriceChange,
            ticker.OpenInterest,
            ticker.EstimatedDeliveryPrice,
            ticker.UnderlyingPrice,
            ticker.UnderlyingIndex,
            ticker.MarkIv,
            ticker.CurrentFunding,
            ticker.Funding8h);
    }

    private static string StateWord(Instrument instrument) => instrument.State == InstrumentState.Active ? "open" : "closed";

    private static StatsResult Stats(TradeStats stats) => stats.HasTrades
        ? new StatsResult(stats.High.ToDecimal(), stats.Low.ToDecimal(), stats.Volume.ToDecimal(), stats.VolumeUsd, stats.PriceChangePercent)
        : new StatsResult(null, null, 0m, 0m, null);

    /// <summary>Sets the ticker fields; a record's <c>with</c> keeps its runtime type, so an <see cref="OrderBookResult"/> stays one.</summary>
    private static TickerResult FillTicker(TickerResult ticker, Engine engine, Instrument instrument)
    {
        var book = instrument.Book;
        var levels = new BookLevel[1];
        decimal? bestBid = null, bestAsk = null;
        decimal bidAmount = 0, askAmount = 0;
        if (book.CopyLevels(Side.Buy, levels) == 1)
        {
            bestBid = levels[0].Price.ToDecimal();
            bidAmount = levels[0].Quantity.ToDecimal();
        }

        if (book.CopyLevels(Side.Sell, levels) == 1)
        {
            bestAsk = levels[0].Price.ToDecimal();
            askAmount = levels[0].Quantity.ToDecimal();
        }

        var mark = instrument.State == InstrumentState.Settled ? Price.Zero : instrument.MarkPrice;
        var index = instrument.Underlying.IndexPrice;
        var (minPrice, maxPrice) = PriceLimits(instrument, mark);
        var result = ticker with
        {
            LastPrice = OrNull(instrument.LastTradePrice),
            BestBidPrice = bestBid,
            BestBidAmount = bidAmount,
            BestAskPrice = bestAsk,
            BestAskAmount = askAmount,
            MarkPrice = OrNull(mark),
            IndexPrice = OrNull(index),
            EstimatedDeliveryPrice = OrNull(index),
            SettlementPrice = OrNull(instrument.SettlementPrice),
            OpenInterest = instrument.LongOpenInterest.ToDecimal(),
            MinPrice = minPrice,
            MaxPrice = maxPrice,
        };

        return instrument.Kind switch
        {
            InstrumentKind.Perpetual => WithFunding(result, engine, instrument),
            InstrumentKind.Option => WithOptionFigures(result, engine, instrument),
            _ => result,
        };
    }

    /// <summary>
    /// The price limits of an order now: the instrument's price band around the mark when one is
    /// set (docs/guards.md), else its market-order protection (how far from the mark a market
    /// order may fill); each edge rounded to a tick toward the mark. Null without a mark.
    /// </summary>
    private static (decimal? Min, decimal? Max) PriceLimits(Instrument instrument, Price mark)
    {
        if (!mark.IsPositive)
        {
            return (null, null);
        }

        int bandPpm = instrument.Guard.Parameters.PriceBandPpm > 0 ? instrument.Guard.Parameters.PriceBandPpm : instrument.Spec.MarketProtectionPpm;
        var tick = instrument.Spec.TickSize;
        var max = mark.MultiplyPpm(1_000_000 + bandPpm, Rounding.Floor).RoundToTick(tick, Rounding.Floor);
        var min = mark.MultiplyPpm(1_000_000 - bandPpm, Rounding.Ceiling).RoundToTick(tick, Rounding.Ceiling);
        return (min.ToDecimal(), max.ToDecimal());
    }

    /// <summary>
    /// current_funding is the rate the running interval would pay if it ended now (the engine's
    /// formula, <see cref="Funding.IntervalRate"/>, on the premium samples taken so far);
    /// funding_8h is that rate over 8 hours; interest_value the sum of every rate paid.
    /// </summary>
    private static TickerResult WithFunding(TickerResult ticker, Engine engine, Instrument instrument)
    {
        var config = engine.Config;
        long intervalsPer8h = Math.Max(1, 8 * UnixMicros.PerHour / config.FundingIntervalMicros);
        long averagePremium = instrument.PremiumSamples == 0 ? 0 : instrument.PremiumSumPpb / instrument.PremiumSamples;
        long rate = Funding.IntervalRate(averagePremium, config.FundingInterest8hPpb, config.FundingBand8hPpb, intervalsPer8h, config.FundingCapPerIntervalPpb);
        long paid = 0;
        foreach (var record in instrument.FundingHistory)
        {
            paid += record.RatePpb;
        }

        return ticker with
        {
            CurrentFunding = rate / (decimal)Funding.PpbScale,
            Funding8h = rate * intervalsPer8h / (decimal)Funding.PpbScale,
            InterestValue = paid / (decimal)Funding.PpbScale,
        };
    }

    /// <summary>
    /// The option's Greeks and volatilities from the inputs of its last mark (Core's Black-76 on the
    /// forward, σ from the underlying's surface, rate 0 as the engine marks): mark_iv is that σ;
    /// bid_iv and ask_iv are the volatilities implied by the best bid and ask
    /// (<see cref="ImpliedVolatility"/>). Nothing when the option has no mark yet.
    /// </summary>
    private static TickerResult WithOptionFigures(TickerResult ticker, Engine engine, Instrument instrument)
    {
        var terms = instrument.Spec.Terms;
        var result = ticker with { InterestRate = 0m, UnderlyingIndex = UnderlyingIndexOf(engine, instrument) };
        if (instrument.Underlying.VolSurface is not { } surface || !instrument.OptionForward.IsPositive || instrument.State == InstrumentState.Settled)
        {
            return result;
        }

        double forward = OptionMarks.ToDouble(instrument.OptionForward);
        double strike = OptionMarks.ToDouble(terms.Strike);
        double years = YearFraction.Between(instrument.OptionMarkedMicros, terms.ExpiryMicros);
        double vol = surface.Volatility(strike, forward, terms.ExpiryMicros, instrument.OptionMarkedMicros);
        result = result with { UnderlyingPrice = instrument.OptionForward.ToDecimal() };
        if (!double.IsFinite(vol))
        {
            return result;
        }

        var valuation = Black76.Evaluate(terms.Right, forward, strike, years, vol, 0.0);
        if (!double.IsFinite(valuation.Delta))
        {
            return result;
        }

        return result with
        {
            Greeks = new GreeksResult(
                Rounded(valuation.Delta, 5),
                Rounded(valuation.Gamma, 8),
                Rounded(valuation.VegaPerVolPoint, 5),
                Rounded(valuation.ThetaPerDay, 5),
                Rounded(valuation.Rho / 100.0, 5)),
            MarkIv = Rounded(vol * 100.0, 2),
            BidIv = ImpliedPercent(terms.Right, strike, years, forward, result.BestBidPrice),
            AskIv = ImpliedPercent(terms.Right, strike, years, forward, result.BestAskPrice),
        };
    }

    /// <summary>A double as a decimal rounded to <paramref name="decimals"/> places: written as plain digits, never in exponent notation.</summary>
    private static decimal Rounded(double value, int decimals) => Math.Round((decimal)value, decimals, MidpointRounding.AwayFromZero);

    private static decimal? ImpliedPercent(OptionRight right, double strike, double years, double forward, decimal? price)
    {
        if (price is not { } value || years <= 0.0)
        {
            return null;
        }

        var solved = ImpliedVolatility.TrySolve(OptionTerms.Create(right, strike, years), forward, (double)value);
        return solved.IsSolved && double.IsFinite(solved.Volatility) && solved.Volatility < 1e6 ? Rounded(solved.Volatility * 100.0, 2) : null;
    }

    /// <summary>The same-expiry future whose mark is the option's forward, as the engine picks it; else <c>index_price</c>.</summary>
    private static string UnderlyingIndexOf(Engine engine, Instrument option)
    {
        var expiry = option.Spec.Terms.ExpiryDate;
        foreach (var instrument in engine.Instruments)
        {
            if (instrument.Kind == InstrumentKind.Future && instrument.State == InstrumentState.Active
                && instrument.Underlying == option.Underlying && instrument.Spec.Terms.ExpiryDate == expiry && instrument.MarkPrice.IsPositive)
            {
                return instrument.Name;
            }
        }

        return "index_price";
    }
}
