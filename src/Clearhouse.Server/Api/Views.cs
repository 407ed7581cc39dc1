using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Server.Api;

// The shapes the API answers with. Every decimal is a JSON string written exactly from the
// fixed-point value (no floating point anywhere), so a client that parses it as a decimal gets
// the venue's number to the last digit. Built on the engine thread from its state, then
// serialized elsewhere: they hold copies, never references into the engine.

public sealed record InstrumentView(
    string Name,
    int Id,
    string Kind,
    string Underlying,
    string? Expiry,
    long? ExpiryMicros,
    string State,
    string TickSize,
    string MinAmount,
    int MakerFeePpm,
    int TakerFeePpm,
    string MakerFee,
    string TakerFee,
    string? IndexPrice,
    string? MarkPrice,
    string? BestBid,
    string? BestAsk,
    string OpenInterest,
    string? LastTradePrice,
    long TradeCount);

public sealed record BookView(string Instrument, long Sequence, string? MarkPrice, string? IndexPrice, string[][] Bids, string[][] Asks);

public sealed record PositionView(
    string Instrument,
    int InstrumentId,
    string Size,
    string AverageEntryPrice,
    string MarkPrice,
    string RealizedPnl,
    string UnrealizedPnl);

public sealed record OpenOrderView(
    long OrderId,
    string Instrument,
    string Side,
    string Price,
    string Amount,
    string FilledAmount,
    string OpenAmount,
    bool PostOnly,
    bool ReduceOnly,
    string? ClientOrderId,
    long CreatedMicros,
    long UpdatedMicros);

public sealed record AccountView(
    int AccountId,
    long Sequence,
    string Cash,
    string Balance,
    string Equity,
    string UnrealizedPnl,
    string InitialMargin,
    string MaintenanceMargin,
    string AvailableMargin,
    PositionView[] Positions,
    OpenOrderView[] OpenOrders);

public sealed record TradeView(long TradeId, string Instrument, string Side, string Price, string Amount, string Fee, int MakerAccountId, long MakerOrderId);

/// <summary>The outcome of a place or amend: the order's final state after this one command.</summary>
public sealed record OrderView(
    long Sequence,
    long TimestampMicros,
    long OrderId,
    int AccountId,
    string Instrument,
    string Side,
    string Price,
    string Amount,
    string FilledAmount,
    string OpenAmount,
    string State,
    string? CancelReason,
    TradeView[] Trades);

public sealed record CancelView(long Sequence, long TimestampMicros, int AccountId, long[] CancelledOrderIds, string CancelledAmount);

public sealed record AccountCreatedView(long Sequence, int AccountId);

public sealed record TransferView(long Sequence, long TimestampMicros, int AccountId, string Amount);

/// <summary>
/// The venue's counters. <c>LastSequence</c> is the engine's last accepted command,
/// <c>LastStampedSequence</c> the last stamped (accepted or rejected), <c>LastDurableSequence</c>
/// the last on disk; <c>LastBlockHeight</c>, <c>LastBlockHash</c> and <c>StateRoot</c> describe the
/// latest published block; <c>Recovery</c> is what this process recovered at start.
/// </summary>
public sealed record StatusView(
    long LastSequence,
    long LastTimestampMicros,
    long LastStampedSequence,
    long AppliedCommands,
    long RejectedCommands,
    int Accounts,
    int Instruments,
    int QueueLength,
    bool Demo,
    bool Journal,
    long LastDurableSequence,
    int AwaitingDurability,
    long LastBlockHeight,
    string? LastBlockHash,
    string? StateRoot,
    long BlocksSealed,
    double AverageSealMicros,
    Durability.SnapshotInfo? LastSnapshot,
    Durability.StartupRecovery Recovery);

/// <summary>A block header with every hash in lowercase hex; <c>Header</c> is its canonical encoding, whose SHA-256 is <c>Hash</c>.</summary>
public sealed record BlockView(
    long Height,
    string Hash,
    string PreviousHash,
    long FirstSequence,
    long LastSequence,
    int CommandCount,
    string CommandsRoot,
    string StateRoot,
    long TimestampMicros,
    string Header)
{
    public static BlockView From(Core.Merkle.BlockHeader header) => new(
        header.Height,
        Convert.ToHexStringLower(header.Hash()),
        Convert.ToHexStringLower(header.PreviousHash),
        header.FirstSequence,
        header.LastSequence,
        header.CommandCount,
        Convert.ToHexStringLower(header.CommandsRoot),
        Convert.ToHexStringLower(header.StateRoot),
        header.TimestampMicros,
        Convert.ToHexStringLower(header.Encode()));
}

internal static class Views
{
    public static string Text(Price p) => p.ToString();

    public static string Text(Quantity q) => q.ToString();

    public static string Text(Money m) => m.ToString();

    public static string? TextOrNull(Price p) => p.IsPositive ? p.ToString() : null;

    public static string Word(Side side) => side == Side.Buy ? "buy" : "sell";

    public static string Word(InstrumentKind kind) => kind switch
    {
        InstrumentKind.Perpetual => "perpetual",
        InstrumentKind.Future => "future",
        _ => "option",
    };

    /// <summary>A ppm rate as a decimal fraction, e.g. 500 → "0.0005".</summary>
    public static string Rate(int ppm) => (ppm / 1_000_000m).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static InstrumentView Instrument(Instrument instrument)
    {
        var spec = instrument.Spec;
        var book = instrument.Book;
        return new InstrumentView(
            instrument.Name,
            instrument.Id,
            Word(instrument.Kind),
            instrument.Underlying.Name,
            spec.Terms.ExpiryDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            spec.Terms.ExpiryDate is null ? null : spec.Terms.ExpiryMicros,
            instrument.State.ToString().ToLowerInvariant(),
            Text(spec.TickSize),
            Text(spec.MinAmount),
            spec.MakerFeePpm,
            spec.TakerFeePpm,
            Rate(spec.MakerFeePpm),
            Rate(spec.TakerFeePpm),
            TextOrNull(instrument.Underlying.IndexPrice),
            TextOrNull(instrument.MarkPrice),
            book.TryGetBestBid(out var bid) ? Text(bid) : null,
            book.TryGetBestAsk(out var ask) ? Text(ask) : null,
            Text(instrument.LongOpenInterest),
            TextOrNull(instrument.LastTradePrice),
            instrument.TradeCount);
    }

    public static BookView Book(Engine engine, Instrument instrument, int depth)
    {
        Span<BookLevel> levels = depth <= 128 ? stackalloc BookLevel[depth] : new BookLevel[depth];
        int bids = instrument.Book.CopyLevels(Side.Buy, levels);
        var bidRows = Rows(levels[..bids]);
        int asks = instrument.Book.CopyLevels(Side.Sell, levels);
        var askRows = Rows(levels[..asks]);
        return new BookView(instrument.Name, engine.LastSequence, TextOrNull(instrument.MarkPrice), TextOrNull(instrument.Underlying.IndexPrice), bidRows, askRows);

        static string[][] Rows(ReadOnlySpan<BookLevel> levels)
        {
            var rows = new string[levels.Length][];
            for (int i = 0; i < levels.Length; i++)
            {
                rows[i] = [Text(levels[i].Price), Text(levels[i].Quantity)];
            }

            return rows;
        }
    }

    public static AccountView? Account(Engine engine, int accountId)
    {
        if (!engine.TryGetAccount(accountId, out var account))
        {
            return null;
        }

        MarginSummary margin = engine.GetMarginSummary(accountId);
        var positions = new List<PositionView>();
        var orders = new List<OpenOrderView>();
        foreach (int instrumentId in account.ActiveInstruments)
        {
            if (!engine.TryGetInstrument(instrumentId, out var instrument))
            {
                continue;
            }

            var position = account.GetPosition(instrumentId);
            var mark = instrument.MarkPrice;
            if (!position.Size.IsZero || !position.OpenCost.IsZero || !position.RealizedPnl.IsZero)
            {
                var unrealized = StandardMargin.PositionValue(mark, position.Size) - position.OpenCost;
                positions.Add(new PositionView(instrument.Name, instrument.Id, Text(position.Size), Text(position.AverageEntryPrice), Text(mark), Text(position.RealizedPnl), Text(unrealized)));
            }
        }

        foreach (var (instrumentId, order) in engine.GetOpenOrders(accountId))
        {
            orders.Add(new OpenOrderView(
                order.OrderId,
                engine.Instruments[instrumentId - 1].Name,
                Word(order.Side),
                Text(order.Price),
                Text(order.Amount),
                Text(order.Filled),
                Text(order.Remaining),
                (order.Flags & OrderFlags.PostOnly) != 0,
                order.IsReduceOnly,
                order.ClientOrderId,
                order.CreatedMicros,
                order.UpdatedMicros));
        }

        orders.Sort((a, b) => a.OrderId.CompareTo(b.OrderId));
        return new AccountView(
            accountId,
            engine.LastSequence,
            Text(account.Cash),
            Text(margin.Balance),
            Text(margin.Equity),
            Text(margin.UnrealizedPnl),
            Text(margin.Initial),
            Text(margin.Maintenance),
            Text(margin.Available),
            [.. positions],
            [.. orders]);
    }
}
