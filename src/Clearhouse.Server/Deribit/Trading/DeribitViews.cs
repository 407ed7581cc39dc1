namespace Clearhouse.Server.Deribit.Trading;

// The shapes of Deribit's trading and account answers (docs.deribit.com, "private/buy",
// "private/get_user_trades_by_instrument", "private/get_positions", "private/get_account_summary"),
// with the field names ccxt's deribit.js reads (parseOrder, parseTrade, parsePosition,
// parseBalance). Serialized with DeribitJson.Options: snake_case names, nulls left out. Numbers are
// decimals converted exactly from the venue's fixed-point values, written as JSON numbers as
// Deribit does. Amounts are in units of the underlying (0.001 = 0.001 BTC), as for Deribit's linear
// USDC contracts; money is in USDC.

/// <summary>One order, as Deribit reports it in <c>private/buy</c>, <c>private/get_order_state</c> and <c>user.orders.*</c>.</summary>
public sealed record DeribitOrder
{
    public required string OrderId { get; init; }

    public required string InstrumentName { get; init; }

    /// <summary><c>buy</c> or <c>sell</c>.</summary>
    public required string Direction { get; init; }

    /// <summary><c>limit</c> or <c>market</c>.</summary>
    public required string OrderType { get; init; }

    /// <summary><c>open</c>, <c>filled</c>, <c>cancelled</c> or <c>rejected</c>.</summary>
    public required string OrderState { get; init; }

    /// <summary>The limit; for a market order, the protection limit the venue gave it.</summary>
    public required decimal Price { get; init; }

    /// <summary>Total amount, filled part included.</summary>
    public required decimal Amount { get; init; }

    public required decimal FilledAmount { get; init; }

    /// <summary>Average fill price; 0 when nothing filled (Deribit's convention).</summary>
    public required decimal AveragePrice { get; init; }

    /// <summary>Unix milliseconds.</summary>
    public required long CreationTimestamp { get; init; }

    /// <summary>Unix milliseconds.</summary>
    public required long LastUpdateTimestamp { get; init; }

    /// <summary><c>good_til_cancelled</c>, <c>immediate_or_cancel</c> or <c>fill_or_kill</c>.</summary>
    public required string TimeInForce { get; init; }

    public required bool PostOnly { get; init; }

    public required bool ReduceOnly { get; init; }

    /// <summary>The client's label; empty when none was given (Deribit sends an empty string).</summary>
    public required string Label { get; init; }

    /// <summary>Fees paid by this order so far, in USDC (negative: a maker rebate).</summary>
    public required decimal Commission { get; init; }

    /// <summary>Placed through an API (always, here).</summary>
    public bool Api { get; init; } = true;

    public bool Web { get; init; }

    /// <summary>A liquidation order the venue placed for the account.</summary>
    public required bool IsLiquidation { get; init; }

    /// <summary>The order was edited (<c>private/edit</c>).</summary>
    public required bool Replaced { get; init; }

    /// <summary>Deribit shows the whole amount unless an iceberg's <c>max_show</c> was given; icebergs are not supported here.</summary>
    public required decimal MaxShow { get; init; }

    /// <summary>Why a cancelled order was cancelled (<c>user_request</c>, <c>autoliquidation</c>, <c>settlement</c>, ...); absent otherwise.</summary>
    public string? CancelReason { get; init; }
}

/// <summary>One fill of one of the caller's orders (<c>private/get_user_trades_*</c>, <c>user.trades.*</c>, the <c>trades</c> of <c>private/buy</c>).</summary>
public sealed record DeribitUserTrade
{
    public required string TradeId { get; init; }

    public required long TradeSeq { get; init; }

    public required string OrderId { get; init; }

    public required string InstrumentName { get; init; }

    /// <summary>The caller's side of the trade.</summary>
    public required string Direction { get; init; }

    public required decimal Price { get; init; }

    public required decimal Amount { get; init; }

    /// <summary>The caller's fee for this fill (negative: a rebate).</summary>
    public required decimal Fee { get; init; }

    public string FeeCurrency { get; init; } = "USDC";

    /// <summary><c>M</c> when the caller's order rested (maker), <c>T</c> when it took.</summary>
    public required string Liquidity { get; init; }

    /// <summary>Unix milliseconds.</summary>
    public required long Timestamp { get; init; }

    public required decimal IndexPrice { get; init; }

    public required decimal MarkPrice { get; init; }

    public required string OrderType { get; init; }

    /// <summary>The order's state right after this fill: <c>open</c> or <c>filled</c>.</summary>
    public required string State { get; init; }

    /// <summary>The order's label; absent when it has none.</summary>
    public string? Label { get; init; }

    public required bool PostOnly { get; init; }

    public required bool ReduceOnly { get; init; }

    /// <summary>Present (<c>T</c>: the caller was liquidated) only on liquidation fills.</summary>
    public string? Liquidation { get; init; }

    public bool Api { get; init; } = true;
}

/// <summary>The answer of <c>private/buy</c>, <c>private/sell</c> and <c>private/edit</c>: the order right after the command, and the fills it made.</summary>
public sealed record DeribitOrderResult(DeribitOrder Order, DeribitUserTrade[] Trades);

/// <summary>The answer of <c>private/get_user_trades_*</c>: the trades and whether older (or newer) ones were left out.</summary>
public sealed record DeribitUserTradesPage(DeribitUserTrade[] Trades, bool HasMore);

/// <summary>One position (<c>private/get_positions</c>, <c>private/get_position</c>).</summary>
public sealed record DeribitPosition
{
    public required string InstrumentName { get; init; }

    /// <summary><c>future</c> (perpetuals and dated futures) or <c>option</c>.</summary>
    public required string Kind { get; init; }

    /// <summary><c>buy</c> (long), <c>sell</c> (short) or <c>zero</c>.</summary>
    public required string Direction { get; init; }

    /// <summary>Signed size in units of the underlying (negative: short).</summary>
    public required decimal Size { get; init; }

    /// <summary>The same size: a linear contract's size is already in the base currency.</summary>
    public required decimal SizeCurrency { get; init; }

    public required decimal AveragePrice { get; init; }

    public required decimal MarkPrice { get; init; }

    public required decimal IndexPrice { get; init; }

    /// <summary>Unrealized profit and loss at the mark.</summary>
    public required decimal FloatingProfitLoss { get; init; }

    /// <summary>Realized by reducing the position, fees excluded.</summary>
    public required decimal RealizedProfitLoss { get; init; }

    public required decimal TotalProfitLoss { get; init; }

    /// <summary>The position's own initial requirement (standard margin; with its open orders), as the engine's margin report gives it.</summary>
    public required decimal InitialMargin { get; init; }

    public required decimal MaintenanceMargin { get; init; }

    /// <summary>|value at mark| ÷ initial margin, rounded down to a whole number; 0 when no margin is required.</summary>
    public required int Leverage { get; init; }

    /// <summary>
    /// Not estimated here: with cross margin it depends on every position of the account. Absent
    /// (ccxt reads it as undefined); the account's liquidation condition is in the summary's margins.
    /// </summary>
    public decimal? EstimatedLiquidationPrice { get; init; }

    /// <summary>Futures: the size. Options: absent (Greeks are on <c>public/ticker</c>).</summary>
    public decimal? Delta { get; init; }

    /// <summary>The position has its own collateral (isolated margin).</summary>
    public required bool Isolated { get; init; }
}

/// <summary>One currency's account summary (<c>private/get_account_summary</c>, an item of <c>private/get_account_summaries</c>, <c>user.portfolio.*</c>).</summary>
public sealed record DeribitAccountSummary
{
    /// <summary>The summary of a currency the account holds nothing in (only USDC is collateral).</summary>
    public static DeribitAccountSummary Zero(string currency) => new()
    {
        Currency = currency,
        Balance = 0,
        Equity = 0,
        MarginBalance = 0,
        AvailableFunds = 0,
        AvailableWithdrawalFunds = 0,
        InitialMargin = 0,
        MaintenanceMargin = 0,
        ProjectedInitialMargin = 0,
        ProjectedMaintenanceMargin = 0,
        SessionUpl = 0,
        TotalPl = 0,
        MarginModel = "cross_sm",
        PortfolioMarginingEnabled = false,
    };

    public required string Currency { get; init; }

    /// <summary>Cash plus the open cost of positions (the engine's margin balance, before unrealized PnL).</summary>
    public required decimal Balance { get; init; }

    /// <summary>Balance plus unrealized profit and loss at the marks.</summary>
    public required decimal Equity { get; init; }

    /// <summary>What the margin is measured against: the equity.</summary>
    public required decimal MarginBalance { get; init; }

    /// <summary><c>min(equity, balance) − initial margin</c>: free for new orders or withdrawal (never unrealized profit).</summary>
    public required decimal AvailableFunds { get; init; }

    public required decimal AvailableWithdrawalFunds { get; init; }

    public required decimal InitialMargin { get; init; }

    public required decimal MaintenanceMargin { get; init; }

    public required decimal ProjectedInitialMargin { get; init; }

    public required decimal ProjectedMaintenanceMargin { get; init; }

    /// <summary>Unrealized profit and loss of the cross positions at the marks.</summary>
    public required decimal SessionUpl { get; init; }

    public required decimal TotalPl { get; init; }

    /// <summary><c>cross_sm</c> (standard) or <c>cross_pm</c> (portfolio margin).</summary>
    public required string MarginModel { get; init; }

    public required bool PortfolioMarginingEnabled { get; init; }

    // Present with extended=true (Deribit's account fields).

    public int? Id { get; init; }

    public string? Username { get; init; }

    public string? Type { get; init; }

    public string? SystemName { get; init; }
}

/// <summary>The answer of <c>private/get_account_summaries</c>: the account, and one summary per currency (USDC only: the venue's one collateral).</summary>
public sealed record DeribitAccountSummaries(int Id, string Username, string SystemName, string Type, DeribitAccountSummary[] Summaries);
