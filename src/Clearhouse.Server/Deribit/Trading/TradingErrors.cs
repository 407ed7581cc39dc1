using Clearhouse.Core.Engine;
using Clearhouse.Server.Deribit.Rpc;

namespace Clearhouse.Server.Deribit.Trading;

/// <summary>
/// The engine's reject reasons as Deribit errors: Deribit's code and short message (what ccxt and
/// other Deribit clients match on: 10009 → InsufficientFunds, 10004 → OrderNotFound, 10043 and
/// most 100xx → InvalidOrder), with the engine's own sentence as <c>data.reason</c>. Codes from
/// Deribit's table of RPC error codes (docs.deribit.com, "RPC Error Codes"). Every
/// <see cref="RejectReason"/> has an explicit row; where Deribit has no matching error the row uses
/// its general ones (11029 invalid_arguments for commands the trading API never sends, 11030
/// other_reject for venue rules Deribit does not have).
/// </summary>
public static class TradingErrors
{
    /// <summary>Deribit's code and message for a reason; false for <see cref="RejectReason.None"/> and unknown values.</summary>
    public static bool TryMap(RejectReason reason, out int code, out string message)
    {
        (code, message) = reason switch
        {
            // The command envelope: the sequencer stamps these, so they mean a server fault.
            RejectReason.SequenceNotIncreasing or RejectReason.TimestampWentBackwards or RejectReason.UnknownCommand => (11094, "internal_server_error"),

            // Accounts and collateral.
            RejectReason.UnknownAccount => (13009, "unauthorized"),
            RejectReason.AmountNotPositive or RejectReason.AmountTooLarge => (10021, "invalid_amount"),
            RejectReason.InsufficientFreeCollateral => (10009, "not_enough_funds"),

            // Instruments and prices.
            RejectReason.UnknownInstrument => (10020, "invalid_or_unsupported_instrument"),
            RejectReason.InstrumentNotActive or RejectReason.OptionTradingNotEnabled or RejectReason.NoMarkPrice => (10012, "book_closed"),
            RejectReason.InstrumentAlreadyListed or RejectReason.InvalidInstrumentSpec or RejectReason.UnknownUnderlying
                or RejectReason.IndexPriceOutOfRange or RejectReason.ExpiryInPast or RejectReason.InvalidListingSchedule => (11029, "invalid_arguments"),

            // Orders.
            RejectReason.PriceNotOnTick => (10043, "price_wrong_tick"),
            RejectReason.AmountNotOnLot or RejectReason.OrderAmountNotPositive or RejectReason.OrderTooLarge
                or RejectReason.AmendAmountNotAboveFilled => (10021, "invalid_amount"),
            RejectReason.PriceNotPositive => (10023, "invalid_price"),
            RejectReason.PostOnlyWouldCross => (11054, "post_only_reject"),
            RejectReason.FillOrKillNotFillable or RejectReason.ReduceOnlyWouldIncrease => (11030, "other_reject"),
            RejectReason.DuplicateClientOrderId or RejectReason.ClientOrderIdTooLong => (11029, "invalid_arguments"),
            RejectReason.TooManyOpenOrders => (10013, "pme_max_total_open_orders"),
            RejectReason.UnknownOrder => (10004, "order_not_found"),
            RejectReason.InvalidOrderOptions => (11047, "unsupported_arg_combination"),

            // Margin.
            RejectReason.InsufficientMargin or RejectReason.MarginModeUncovered => (10009, "not_enough_funds"),
            RejectReason.IsolatedNotForOptions or RejectReason.MarginModeLockedByPosition or RejectReason.PositionNotIsolated
                or RejectReason.InvalidMarginMode or RejectReason.NoIsolatedPosition => (11029, "invalid_arguments"),
            RejectReason.AccountInLiquidation => (11098, "account_locked"),

            // Oracles: governance and reporter commands, never sent by the trading API...
            RejectReason.OracleNotConfigured or RejectReason.IndexSetByOracle or RejectReason.InvalidOracleParameters
                or RejectReason.InvalidReporterKey or RejectReason.ReporterAlreadyRegistered or RejectReason.UnknownReporter
                or RejectReason.ReportSignatureInvalid or RejectReason.ReportDuplicate or RejectReason.ReportReplayed
                or RejectReason.ReportFromFuture or RejectReason.ReportTooOld or RejectReason.VolSurfaceInvalid
                or RejectReason.VolSurfaceReplayed => (11029, "invalid_arguments"),

            // ...except the stale-oracle rules, which meet orders and withdrawals.
            RejectReason.OracleStaleRiskReducingOnly => (11030, "other_reject"),
            RejectReason.WithdrawalHeldOracleStale => (10040, "retry"),

            // Market-integrity guards.
            RejectReason.PriceOutsideBand => (10011, "price_not_allowed"),
            RejectReason.OpenInterestCapExceeded => (10001, "error"),
            RejectReason.PositionLimitExceeded => (10018, "non_pme_max_future_position_size"),
            RejectReason.TradingHalted => (10012, "book_closed"),
            RejectReason.OrderExpired => (13888, "timed_out"),
            RejectReason.InvalidGuardParameters => (11029, "invalid_arguments"),
            _ => (0, string.Empty),
        };
        return code != 0;
    }

    /// <summary>The Deribit error for a rejected command, with the engine's sentence as the reason.</summary>
    public static RpcError From(RejectReason reason, string? param = null) =>
        TryMap(reason, out int code, out string message)
            ? new RpcError(code, message, RejectReasons.Describe(reason), param)
            : new RpcError(10001, "error", RejectReasons.Describe(reason), param);

    /// <summary>
    /// An order id as Deribit clients send it: a string (or number) of 1 to 19 digits that fits a
    /// positive 64-bit integer. Anything else — signs, spaces, decimals, exponents, leading
    /// "0x" — is 10025 invalid_order_id, before anything is submitted.
    /// </summary>
    public static long ParseOrderId(RpcParams parameters, string name = "order_id")
    {
        string? text = parameters.Has(name) ? RawText(parameters, name) : null;
        if (text is null)
        {
            throw RpcError.MissingParam(name).ToException();
        }

        if (text.Length is 0 or > 19)
        {
            throw InvalidOrderId(name, text);
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                throw InvalidOrderId(name, text);
            }
        }

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long id) && id > 0
            ? id
            : throw InvalidOrderId(name, text);
    }

    private static string? RawText(RpcParams parameters, string name)
    {
        try
        {
            return parameters.String(name, maxLength: 1024);
        }
        catch (RpcException)
        {
            // Not a string. Deribit order ids are strings, but a client may send a whole JSON number.
            try
            {
                return parameters.Integer(name, 1, long.MaxValue) is { } number ? DeribitWords.Id(number) : null;
            }
            catch (RpcException)
            {
                throw InvalidOrderId(name, "(not a string of digits)");
            }
        }
    }

    private static RpcException InvalidOrderId(string name, string text) =>
        new RpcError(10025, "invalid_order_id", $"'{name}' must be an order id: digits only, as returned by private/buy or private/sell; not '{(text.Length > 32 ? text[..32] + "…" : text)}'.", name).ToException();
}
