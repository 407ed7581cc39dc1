using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Sequencing;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>
/// Positions and balances (docs/api.md): <c>private/get_positions</c>,
/// <c>private/get_position</c>, <c>private/get_account_summary</c>,
/// <c>private/get_account_summaries</c>. One query on the engine thread each, which copies the
/// engine's own margin figures (<see cref="Engine.GetMarginSummary"/>,
/// <see cref="Engine.GetMarginReport"/>) into Deribit's shapes. USDC is the venue's only
/// collateral: its summary is the account; a currency instruments are listed on (BTC, ETH) is a
/// valid Deribit currency that this venue holds none of, so its summary is all zeros.
/// </summary>
public sealed class AccountModule(Sequencer sequencer) : IRpcModule
{
    public const string SystemName = "clearhouse";

    public IEnumerable<RpcMethod> Methods() =>
    [
        new("private/get_positions", ApiScopes.Read, RateClass.Trading, GetPositions),
        new("private/get_position", ApiScopes.Read, RateClass.Trading, GetPosition),
        new("private/get_account_summary", ApiScopes.Read, RateClass.Trading, GetAccountSummary),
        new("private/get_account_summaries", ApiScopes.Read, RateClass.Trading, GetAccountSummaries),
    ];

    /// <summary>
    /// Checks a Deribit currency parameter: <c>USDC</c>, a currency some instrument is listed on,
    /// or (where <paramref name="allowAny"/>) <c>any</c>; case-insensitive. Returns it upper-cased
    /// (<c>any</c> stays lower-case).
    /// </summary>
    public static string CheckCurrency(InstrumentDirectory instruments, string currency, bool allowAny)
    {
        if (allowAny && currency.Equals("any", StringComparison.OrdinalIgnoreCase))
        {
            return "any";
        }

        string upper = currency.ToUpperInvariant();
        if (upper == InstrumentNameParts.SettlementCurrency)
        {
            return upper;
        }

        foreach (string name in instruments.Names)
        {
            if (InstrumentNameParts.Of(name).Currency == upper)
            {
                return upper;
            }
        }

        throw RpcError.InvalidParams("currency", $"'currency' must be USDC{(allowAny ? ", any" : string.Empty)} or a currency instruments are listed on (e.g. BTC); not '{currency}'.").ToException();
    }

    private async ValueTask<object?> GetPositions(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string currency = p.String("currency", maxLength: 16) is { } given ? CheckCurrency(sequencer.Instruments, given, allowAny: true) : "any";
        string? kind = p.String("kind", maxLength: 16);
        if (kind is not (null or "any" or "future" or "option" or "spot" or "future_combo" or "option_combo"))
        {
            throw RpcError.InvalidParams("kind", $"'kind' must be future, option, spot, future_combo, option_combo or any; not '{kind}'.").ToException();
        }

        var positions = await sequencer.QueryAsync(engine => Positions(engine, accountId, 0)).ConfigureAwait(false);
        var result = new List<DeribitPosition>(positions.Count);
        foreach (var position in positions)
        {
            var parts = InstrumentNameParts.Of(position.InstrumentName);
            if (parts.InCurrency(currency) && parts.OfKind(kind))
            {
                result.Add(position);
            }
        }

        return result.ToArray();
    }

    /// <summary><c>private/get_position</c>: the position in one instrument; a zero one (at the current mark) when the account has none there.</summary>
    private async ValueTask<object?> GetPosition(RpcContext context, RpcParams p)
    {
        int accountId = context.Caller.AccountId;
        string name = p.String("instrument_name", required: true, maxLength: 64)!;
        if (!sequencer.Instruments.TryGetId(name, out int instrumentId))
        {
            throw RpcError.UnknownInstrument(name).ToException();
        }

        var positions = await sequencer.QueryAsync(engine => Positions(engine, accountId, instrumentId)).ConfigureAwait(false);
        return positions.Count > 0 ? positions[0] : throw RpcError.UnknownInstrument(name).ToException();
    }

    private async ValueTask<object?> GetAccountSummary(RpcContext context, RpcParams p)
    {
        var caller = context.Caller;
        string currency = CheckCurrency(sequencer.Instruments, p.String("currency", required: true, maxLength: 16)!, allowAny: false);
        bool extended = p.Bool("extended") ?? false;
        var summary = currency == InstrumentNameParts.SettlementCurrency
            ? await sequencer.QueryAsync(engine => Summary(engine, caller.AccountId)).ConfigureAwait(false) ?? throw UnknownAccount(caller)
            : DeribitAccountSummary.Zero(currency);
        return extended ? summary with { Id = caller.AccountId, Username = caller.ClientId, Type = "main", SystemName = SystemName } : summary;
    }

    /// <summary><c>private/get_account_summaries</c>: the account, with the USDC summary (ccxt's <c>fetchBalance()</c> reads <c>summaries[]</c>).</summary>
    private async ValueTask<object?> GetAccountSummaries(RpcContext context, RpcParams p)
    {
        var caller = context.Caller;
        bool extended = p.Bool("extended") ?? false;
        var summary = await sequencer.QueryAsync(engine => Summary(engine, caller.AccountId)).ConfigureAwait(false) ?? throw UnknownAccount(caller);
        if (extended)
        {
            summary = summary with { Id = caller.AccountId, Username = caller.ClientId, Type = "main", SystemName = SystemName };
        }

        return new DeribitAccountSummaries(caller.AccountId, caller.ClientId, SystemName, "main", [summary]);
    }

    /// <summary>The USDC summary of an account from the engine's margin figures (engine thread); null for an unknown account.</summary>
    public static DeribitAccountSummary? Summary(Engine engine, int accountId)
    {
        if (!engine.TryGetAccount(accountId, out var account))
        {
            return null;
        }

        var margin = engine.GetMarginSummary(accountId);
        var realized = Money.Zero;
        foreach (int instrumentId in account.ActiveInstruments)
        {
            realized += account.GetPosition(instrumentId).RealizedPnl;
        }

        bool portfolio = account.MarginMode == MarginMode.Portfolio;
        return new DeribitAccountSummary
        {
            Currency = InstrumentNameParts.SettlementCurrency,
            Balance = margin.Balance.ToDecimal(),
            Equity = margin.Equity.ToDecimal(),
            MarginBalance = margin.Equity.ToDecimal(),
            AvailableFunds = margin.Available.ToDecimal(),
            AvailableWithdrawalFunds = margin.Available.ToDecimal(),
            InitialMargin = margin.Initial.ToDecimal(),
            MaintenanceMargin = margin.Maintenance.ToDecimal(),
            ProjectedInitialMargin = margin.Initial.ToDecimal(),
            ProjectedMaintenanceMargin = margin.Maintenance.ToDecimal(),
            SessionUpl = margin.UnrealizedPnl.ToDecimal(),
            TotalPl = (margin.UnrealizedPnl + realized).ToDecimal(),
            MarginModel = portfolio ? "cross_pm" : "cross_sm",
            PortfolioMarginingEnabled = portfolio,
        };
    }

    /// <summary>
    /// The account's positions from its margin report (engine thread): every instrument where it
    /// holds a position, has an open cost or realized PnL (or only <paramref name="onlyInstrumentId"/>,
    /// zero or not, when that is not 0).
    /// </summary>
    private static List<DeribitPosition> Positions(Engine engine, int accountId, int onlyInstrumentId)
    {
        var result = new List<DeribitPosition>();
        if (!engine.TryGetAccount(accountId, out var account) || engine.GetMarginReport(accountId) is not { } report)
        {
            return result;
        }

        foreach (var figures in report.Positions)
        {
            if ((onlyInstrumentId != 0 && figures.InstrumentId != onlyInstrumentId) || !engine.TryGetInstrument(figures.InstrumentId, out var instrument))
            {
                continue;
            }

            var position = account.GetPosition(figures.InstrumentId);
            if (onlyInstrumentId == 0 && position.Size.IsZero && position.OpenCost.IsZero && position.RealizedPnl.IsZero)
            {
                continue;
            }

            result.Add(Position(instrument, position, figures));
        }

        if (onlyInstrumentId != 0 && result.Count == 0 && engine.TryGetInstrument(onlyInstrumentId, out var flat))
        {
            var mark = flat.MarkPrice;
            result.Add(Position(flat, default, new PositionMargin(flat.Id, flat.Name, Quantity.Zero, mark, Money.Zero, Money.Zero, Money.Zero, Money.Zero, false)));
        }

        return result;
    }

    private static DeribitPosition Position(Instrument instrument, Core.Accounts.Position position, PositionMargin figures)
    {
        var size = position.Size.ToDecimal();
        long valueMicros = Math.Abs(figures.Value.Micros);
        int leverage = figures.Initial.IsPositive ? (int)Math.Min(int.MaxValue, valueMicros / figures.Initial.Micros) : 0;
        bool option = instrument.Kind == InstrumentKind.Option;
        return new DeribitPosition
        {
            InstrumentName = instrument.Name,
            Kind = option ? "option" : "future",
            Direction = position.Size.IsPositive ? "buy" : position.Size.IsNegative ? "sell" : "zero",
            Size = size,
            SizeCurrency = size,
            AveragePrice = position.AverageEntryPrice.ToDecimal(),
            MarkPrice = figures.Mark.ToDecimal(),
            IndexPrice = instrument.Underlying.IndexPrice.ToDecimal(),
            FloatingProfitLoss = figures.UnrealizedPnl.ToDecimal(),
            RealizedProfitLoss = position.RealizedPnl.ToDecimal(),
            TotalProfitLoss = (figures.UnrealizedPnl + position.RealizedPnl).ToDecimal(),
            InitialMargin = figures.Initial.ToDecimal(),
            MaintenanceMargin = figures.Maintenance.ToDecimal(),
            Leverage = leverage,
            Delta = option ? null : size,
            Isolated = figures.Isolated,
        };
    }

    private static RpcException UnknownAccount(ApiPrincipal caller) =>
        RpcError.Unauthorized($"The API key '{caller.ClientId}' trades for account {caller.AccountId}, which does not exist.").ToException();
}
