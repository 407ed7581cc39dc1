using System.Buffers;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Serialization;

/// <summary>
/// The canonical binary form of a command: a one-byte tag, the sequence number, the timestamp,
/// then the command's fields. Journal records, block command roots and replays all use it, so
/// it is versioned by its tags: a tag's layout never changes; a changed layout takes a new tag.
/// </summary>
public static class CommandCodec
{
    private enum Tag : byte
    {
        CreateAccount = 1,
        Deposit = 2,
        Withdraw = 3,
        ListInstrument = 4,
        SetIndexPrice = 5,
        PlaceOrder = 6,
        CancelOrder = 7,
        CancelAllOrders = 8,
        AmendOrder = 9,
        ConfigureOracle = 10,
        RegisterReporter = 11,
        SubmitPriceReport = 12,
        Tick = 13,
        SetVolatilitySurface = 14,
        SetMarginMode = 15,
        SetIsolatedMargin = 16,
        TransferIsolatedMargin = 17,
        DepositInsuranceFund = 18,

        // 40–49: market-integrity guards (docs/guards.md)

        /// <summary>A <see cref="PlaceOrder"/> with an expiry: tag 6's layout, then the expiry. Orders without one keep tag 6.</summary>
        PlaceOrderWithExpiry = 40,
        SetInstrumentGuards = 41,

        // 50–59: instrument lifecycle (docs/settlement.md)
        SetListingSchedule = 50,
    }

    /// <summary>The canonical bytes of <paramref name="command"/> in a new array.</summary>
    public static byte[] Encode(Command command)
    {
        Span<byte> scratch = stackalloc byte[256];
        int written = TryEncodeHot(command, scratch);
        if (written > 0)
        {
            return scratch[..written].ToArray();
        }

        var buffer = new ArrayBufferWriter<byte>(written == 0 ? 1024 : 64);
        Encode(command, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes the canonical bytes of <paramref name="command"/> (exactly those of
    /// <see cref="Encode(Command)"/>) into <paramref name="destination"/>. Returns false, with
    /// <paramref name="written"/> 0 and the destination's contents unspecified, when they do not fit.
    /// Allocation-free for the commands of the trading path (orders, cancels, amends, deposits,
    /// withdrawals, index prices, accounts, ticks); the others go through <see cref="CanonicalWriter"/>
    /// and a per-thread buffer.
    /// </summary>
    public static bool TryEncode(Command command, Span<byte> destination, out int written)
    {
        written = TryEncodeHot(command, destination);
        if (written > 0)
        {
            return true;
        }

        if (written == 0)
        {
            return false;
        }

        var buffer = coldBuffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        EncodeCold(command, buffer);
        if (buffer.WrittenCount > destination.Length)
        {
            written = 0;
            return false;
        }

        buffer.WrittenSpan.CopyTo(destination);
        written = buffer.WrittenCount;
        return true;
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? coldBuffer;

    public static void Encode(Command command, IBufferWriter<byte> output)
    {
        int hint = 128;
        while (true)
        {
            var span = output.GetSpan(hint);
            int written = TryEncodeHot(command, span);
            if (written > 0)
            {
                output.Advance(written);
                return;
            }

            if (written < 0)
            {
                EncodeCold(command, output);
                return;
            }

            hint = Math.Max(hint, span.Length) * 2;
        }
    }

    /// <summary>
    /// The trading path's commands, through <see cref="CanonicalSpanWriter"/>: the bytes written
    /// (always &gt; 0), 0 when they do not fit, −1 for any other command type (see <see cref="EncodeCold"/>).
    /// Each type is encoded here or there, never both, so there is one definition of every layout.
    /// </summary>
    private static int TryEncodeHot(Command command, Span<byte> destination)
    {
        var w = new CanonicalSpanWriter(destination);
        bool ok;
        switch (command)
        {
            case PlaceOrder c:
                ok = Header(ref w, c.ExpiresAtMicros == 0 ? Tag.PlaceOrder : Tag.PlaceOrderWithExpiry, c)
                    && w.Int(c.AccountId)
                    && w.Int(c.InstrumentId)
                    && w.Byte((byte)c.Side)
                    && w.Byte((byte)c.Type)
                    && w.Byte((byte)c.TimeInForce)
                    && w.Long(c.Price.Micros)
                    && w.Long(c.Amount.Units)
                    && w.Byte((byte)c.Flags)
                    && w.String(c.ClientOrderId)
                    && w.Byte((byte)c.SelfTradePrevention)
                    && (c.ExpiresAtMicros == 0 || w.Long(c.ExpiresAtMicros));
                break;
            case AmendOrder c:
                ok = Header(ref w, Tag.AmendOrder, c)
                    && w.Int(c.AccountId)
                    && w.Long(c.OrderId)
                    && w.Long(c.NewPrice.Micros)
                    && w.Long(c.NewAmount.Units);
                break;
            case CancelOrder c:
                ok = Header(ref w, Tag.CancelOrder, c)
                    && w.Int(c.AccountId)
                    && w.Long(c.OrderId);
                break;
            case CancelAllOrders c:
                ok = Header(ref w, Tag.CancelAllOrders, c)
                    && w.Int(c.AccountId)
                    && w.Int(c.InstrumentId);
                break;
            case SetIndexPrice c:
                ok = Header(ref w, Tag.SetIndexPrice, c)
                    && w.String(c.Underlying)
                    && w.Long(c.Price.Micros);
                break;
            case Deposit c:
                ok = Header(ref w, Tag.Deposit, c)
                    && w.Int(c.AccountId)
                    && w.Long(c.Amount.Micros);
                break;
            case Withdraw c:
                ok = Header(ref w, Tag.Withdraw, c)
                    && w.Int(c.AccountId)
                    && w.Long(c.Amount.Micros);
                break;
            case CreateAccount c:
                ok = Header(ref w, Tag.CreateAccount, c);
                break;
            case Tick c:
                ok = Header(ref w, Tag.Tick, c);
                break;
            case SetMarginMode c:
                ok = Header(ref w, Tag.SetMarginMode, c)
                    && w.Int(c.AccountId)
                    && w.Byte((byte)c.Mode);
                break;
            case SetIsolatedMargin c:
                ok = Header(ref w, Tag.SetIsolatedMargin, c)
                    && w.Int(c.AccountId)
                    && w.Int(c.InstrumentId)
                    && w.Bool(c.Isolated);
                break;
            case TransferIsolatedMargin c:
                ok = Header(ref w, Tag.TransferIsolatedMargin, c)
                    && w.Int(c.AccountId)
                    && w.Int(c.InstrumentId)
                    && w.Long(c.Amount.Micros);
                break;
            case DepositInsuranceFund c:
                ok = Header(ref w, Tag.DepositInsuranceFund, c)
                    && w.Long(c.Amount.Micros);
                break;
            default:
                return -1;
        }

        return ok ? w.Written : 0;
    }

    /// <summary>The other commands (listing, oracle set-up and reports, surfaces), which share layouts with snapshots and state leaves.</summary>
    private static void EncodeCold(Command command, IBufferWriter<byte> output)
    {
        var w = new CanonicalWriter(output);
        switch (command)
        {
            case ListInstrument c:
                Header(w, Tag.ListInstrument, c);
                WriteSpec(w, c.Spec);
                break;
            case SubmitPriceReport c:
                Header(w, Tag.SubmitPriceReport, c);
                w.String(c.Report.Underlying);
                w.Long(c.Report.Price.Micros);
                w.Long(c.Report.PublishMicros);
                w.Int(c.Report.ReporterId);
                w.Bytes(c.Report.Signature);
                break;
            case SetVolatilitySurface c:
                Header(w, Tag.SetVolatilitySurface, c);
                w.Int(c.Update.ReporterId);
                w.Bytes(c.Update.Signature);
                Oracles.VolSurfaceUpdate.WriteParameters(w, c.Update.Parameters);
                break;
            case RegisterReporter c:
                Header(w, Tag.RegisterReporter, c);
                w.String(c.Underlying);
                w.Bytes(c.PublicKey);
                break;
            case SetInstrumentGuards c:
                Header(w, Tag.SetInstrumentGuards, c);
                w.Int(c.InstrumentId);
                WriteGuards(w, c.Guards);
                break;
            case SetListingSchedule c:
                Header(w, Tag.SetListingSchedule, c);
                w.String(c.Underlying);
                w.Bool(c.Schedule is not null);
                if (c.Schedule is { } schedule)
                {
                    WriteListingSchedule(w, schedule);
                }

                break;
            case ConfigureOracle c:
                Header(w, Tag.ConfigureOracle, c);
                w.String(c.Underlying);
                w.Int(c.Parameters.Quorum);
                w.Long(c.Parameters.StalenessMicros);
                w.Long(c.Parameters.MaxFutureMicros);
                w.Int(c.Parameters.DeviationBandPpm);
                break;
            default:
                throw new ArgumentException($"No encoding for command type {command.GetType().Name}.", nameof(command));
        }
    }

    /// <summary>Decodes one command; throws <see cref="FormatException"/> if the bytes are not exactly one valid command.</summary>
    public static Command Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes);
        var tag = (Tag)r.Byte();
        long sequence = r.Long();
        long time = r.Long();
        Command command = tag switch
        {
            Tag.PlaceOrder => new PlaceOrder(
                r.Int(), r.Int(), (Side)r.Byte(), (OrderType)r.Byte(), (TimeInForce)r.Byte(),
                new Price(r.Long()), new Quantity(r.Long()), (OrderFlags)r.Byte(), r.String(), (SelfTradePrevention)r.Byte()),
            Tag.PlaceOrderWithExpiry => ReadPlaceOrderWithExpiry(ref r),
            Tag.SetInstrumentGuards => new SetInstrumentGuards(r.Int(), ReadGuards(ref r)),
            Tag.AmendOrder => new AmendOrder(r.Int(), r.Long(), new Price(r.Long()), new Quantity(r.Long())),
            Tag.CancelOrder => new CancelOrder(r.Int(), r.Long()),
            Tag.CancelAllOrders => new CancelAllOrders(r.Int(), r.Int()),
            Tag.SetIndexPrice => new SetIndexPrice(r.RequiredString(), new Price(r.Long())),
            Tag.Deposit => new Deposit(r.Int(), new Money(r.Long())),
            Tag.Withdraw => new Withdraw(r.Int(), new Money(r.Long())),
            Tag.CreateAccount => new CreateAccount(),
            Tag.ListInstrument => new ListInstrument(ReadSpec(ref r)),
            Tag.SubmitPriceReport => new SubmitPriceReport(new Oracles.PriceReport(r.RequiredString(), new Price(r.Long()), r.Long(), r.Int(), r.Bytes().ToArray())),
            Tag.Tick => new Tick(),
            Tag.SetVolatilitySurface => ReadSurface(ref r),
            Tag.RegisterReporter => new RegisterReporter(r.RequiredString(), r.Bytes().ToArray()),
            Tag.SetListingSchedule => new SetListingSchedule(r.RequiredString(), r.Bool() ? ReadListingSchedule(ref r) : null),
            Tag.ConfigureOracle => new ConfigureOracle(r.RequiredString(), new Oracles.OracleParameters(r.Int(), r.Long(), r.Long(), r.Int())),
            Tag.SetMarginMode => new SetMarginMode(r.Int(), (MarginMode)r.Byte()),
            Tag.SetIsolatedMargin => new SetIsolatedMargin(r.Int(), r.Int(), r.Bool()),
            Tag.TransferIsolatedMargin => new TransferIsolatedMargin(r.Int(), r.Int(), new Money(r.Long())),
            Tag.DepositInsuranceFund => new DepositInsuranceFund(new Money(r.Long())),
            _ => throw new FormatException($"Unknown command tag {(byte)tag}."),
        };
        r.EnsureEnd();
        return command with { Sequence = sequence, TimestampMicros = time };
    }

    /// <summary>A listing schedule, as the governance command and snapshots encode it.</summary>
    internal static void WriteListingSchedule(CanonicalWriter w, ListingSchedule s)
    {
        w.Int(s.Dailies);
        w.Int(s.Weeklies);
        w.Int(s.Monthlies);
        w.Int(s.Quarterlies);
        w.Bool(s.ListFutures);
        w.Int(s.StrikesPerSide);
        w.Int(s.StrikeStepPpm);
        w.Long(s.FutureTickSize.Micros);
        w.Long(s.FutureMinAmount.Units);
        w.Long(s.OptionTickSize.Micros);
        w.Long(s.OptionMinAmount.Units);
        w.Int(s.MakerFeePpm);
        w.Int(s.TakerFeePpm);
    }

    internal static ListingSchedule ReadListingSchedule(ref CanonicalReader r) => new(
        r.Int(), r.Int(), r.Int(), r.Int(), r.Bool(), r.Int(), r.Int(),
        new Price(r.Long()), new Quantity(r.Long()), new Price(r.Long()), new Quantity(r.Long()), r.Int(), r.Int());

    internal static void WriteSpec(CanonicalWriter w, InstrumentSpec spec)
    {
        w.String(spec.Name);
        w.Long(spec.TickSize.Micros);
        w.Long(spec.MinAmount.Units);
        w.Int(spec.MakerFeePpm);
        w.Int(spec.TakerFeePpm);
        w.Int(spec.MarketProtectionPpm);
        w.Int(spec.Tiers.Tiers.Count);
        foreach (var tier in spec.Tiers.Tiers)
        {
            w.Long(tier.NotionalCap.Micros);
            w.Int(tier.InitialPpm);
            w.Int(tier.MaintenancePpm);
        }
    }

    internal static InstrumentSpec ReadSpec(ref CanonicalReader r)
    {
        string name = r.RequiredString();
        if (!InstrumentName.TryParse(name, out var terms, out string? error))
        {
            throw new FormatException(error);
        }

        var tick = new Price(r.Long());
        var lot = new Quantity(r.Long());
        int maker = r.Int();
        int taker = r.Int();
        int protection = r.Int();
        int count = r.Int();
        if (count is < 1 or > 16)
        {
            throw new FormatException($"Invalid margin tier count {count}.");
        }

        var tiers = new MarginTier[count];
        for (int i = 0; i < count; i++)
        {
            tiers[i] = new MarginTier(new Money(r.Long()), r.Int(), r.Int());
        }

        if (!MarginTiers.TryValidate(tiers, out string? tierError))
        {
            throw new FormatException(tierError);
        }

        return new InstrumentSpec(terms, tick, lot, maker, taker, MarginTiers.Create(tiers), protection);
    }

    private static PlaceOrder ReadPlaceOrderWithExpiry(ref CanonicalReader r)
    {
        var order = new PlaceOrder(
            r.Int(), r.Int(), (Side)r.Byte(), (OrderType)r.Byte(), (TimeInForce)r.Byte(),
            new Price(r.Long()), new Quantity(r.Long()), (OrderFlags)r.Byte(), r.String(), (SelfTradePrevention)r.Byte());
        long expiresAt = r.Long();
        return expiresAt != 0 ? order with { ExpiresAtMicros = expiresAt } : throw new FormatException("An order with an expiry needs a non-zero expiry time.");
    }

    /// <summary>Guard parameters, as the governance command and snapshots encode them.</summary>
    internal static void WriteGuards(CanonicalWriter w, Guards.GuardParameters g)
    {
        w.Int(g.PriceBandPpm);
        w.Long(g.OpenInterestCap.Units);
        w.Long(g.OpenInterestSoftLower.Units);
        w.Long(g.OpenInterestSoftUpper.Units);
        w.Long(g.PositionLimitFloor.Units);
        w.Int(g.PositionLimitOpenInterestPpm);
        w.Int(g.BreakerMovePpm);
        w.Long(g.BreakerWindowMicros);
        w.Long(g.BreakerHaltMicros);
    }

    internal static Guards.GuardParameters ReadGuards(ref CanonicalReader r) => new(
        r.Int(), new Quantity(r.Long()), new Quantity(r.Long()), new Quantity(r.Long()), new Quantity(r.Long()), r.Int(), r.Int(), r.Long(), r.Long());

    private static SetVolatilitySurface ReadSurface(ref CanonicalReader r)
    {
        int reporter = r.Int();
        byte[] signature = r.Bytes().ToArray();
        return new SetVolatilitySurface(new Oracles.VolSurfaceUpdate(Oracles.VolSurfaceUpdate.ReadParameters(ref r), reporter, signature));
    }

    private static bool Header(ref CanonicalSpanWriter w, Tag tag, Command command) =>
        w.Byte((byte)tag) && w.Long(command.Sequence) && w.Long(command.TimestampMicros);

    private static void Header(CanonicalWriter w, Tag tag, Command command)
    {
        w.Byte((byte)tag);
        w.Long(command.Sequence);
        w.Long(command.TimestampMicros);
    }
}
