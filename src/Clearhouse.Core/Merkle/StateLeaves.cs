using System.Buffers;
using System.Security.Cryptography;
using Clearhouse.Core.Accounts;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Serialization;

namespace Clearhouse.Core.Merkle;

/// <summary>
/// The canonical bytes of each state-tree leaf. Leaves hold raw state only (nothing derived from
/// the mark), so an index move dirties only the venue leaf. Each leaf starts with a tag string so
/// that a leaf of one kind can never be passed off as another.
/// </summary>
public static class StateLeaves
{
    public const string VenueTag = "clearhouse/leaf/venue/v1";
    public const string FeeAccountTag = "clearhouse/leaf/fee-account/v1";
    public const string InsuranceFundTag = "clearhouse/leaf/insurance-fund/v2";
    public const string InstrumentTag = "clearhouse/leaf/instrument/v3";
    public const string AccountTag = "clearhouse/leaf/account/v2";

    /// <summary>Counters, external ledger totals and the index of every underlying.</summary>
    public static byte[] Venue(Engine.Engine engine)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var w = new CanonicalWriter(buffer);
        w.String(VenueTag);
        EngineSnapshot.WriteCounters(w, engine);
        w.Long(engine.Ledger.External.Micros);
        w.Long(engine.Ledger.TotalDeposited.Micros);
        w.Long(engine.Ledger.TotalWithdrawn.Micros);
        w.Int(engine.Underlyings.Count);
        foreach (var underlying in engine.Underlyings)
        {
            EngineSnapshot.WriteUnderlying(w, underlying);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] FeeAccount(Engine.Engine engine) => Balance(FeeAccountTag, engine.Ledger.FeeAccount.Micros);

    /// <summary>The insurance fund: its cash and the positions it took over as the liquidation backstop.</summary>
    public static byte[] InsuranceFund(Engine.Engine engine)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var w = new CanonicalWriter(buffer);
        w.String(InsuranceFundTag);
        w.Long(engine.Ledger.InsuranceFund.Micros);
        EngineSnapshot.WriteInsurancePositions(w, engine);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An instrument's spec, lifecycle state, open interest and a commitment to its book in priority order.</summary>
    public static byte[] Instrument(Instrument instrument)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        var w = new CanonicalWriter(buffer);
        w.String(InstrumentTag);
        w.Int(instrument.Id);
        CommandCodec.WriteSpec(w, instrument.Spec);
        w.Long(instrument.ListedMicros);
        EngineSnapshot.WriteInstrumentState(w, instrument);

        // The market-integrity guards in force and the breaker's state (docs/guards.md), so that the
        // state root also commits to why an order may be refused or a market halted.
        var guard = instrument.Guard;
        bool guarded = !guard.IsDefault(Guards.GuardParameters.Off);
        w.Bool(guarded);
        if (guarded)
        {
            CommandCodec.WriteGuards(w, guard.Parameters);
            w.Long(guard.HaltedUntilMicros);
            w.Int(guard.Samples.Count);
            foreach (var sample in guard.Samples)
            {
                w.Long(sample.TimeMicros);
                w.Long(sample.Mark.Micros);
            }
        }

        w.Bytes(OrdersCommitment(instrument.Book.OrdersInPriority()));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An account's collateral, positions and a commitment to its open orders: what a proof of liabilities shows.</summary>
    public static byte[] Account(Engine.Engine engine, Account account)
    {
        var orders = engine.GetOpenOrders(account.Id);
        var resting = new RestingOrder[orders.Count];
        for (int i = 0; i < orders.Count; i++)
        {
            resting[i] = orders[i].Order;
        }

        return Account(engine, account, resting);
    }

    /// <summary>As <see cref="Account(Engine.Engine, Accounts.Account)"/>, with the account's open orders (instrument id, then priority order) given.</summary>
    public static byte[] Account(Engine.Engine engine, Account account, IReadOnlyList<RestingOrder> openOrders)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var w = new CanonicalWriter(buffer);
        w.String(AccountTag);
        w.Int(account.Id);
        w.Long(account.Cash.Micros);
        w.Int(account.OpenOrderCount);
        w.Byte((byte)account.MarginMode);
        int positions = 0;
        foreach (int id in account.StoredInstruments)
        {
            if (!account.GetPosition(id).IsEmpty)
            {
                positions++;
            }
        }

        w.Int(positions);
        foreach (int id in account.StoredInstruments)
        {
            var p = account.GetPosition(id);
            if (p.IsEmpty)
            {
                continue;
            }

            EngineSnapshot.WritePosition(w, id, p);
        }

        w.Bytes(OrdersCommitment(openOrders));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes an account leaf into its fields (for proofs shown to people).</summary>
    public static AccountLeaf DecodeAccount(ReadOnlySpan<byte> leaf)
    {
        var r = new CanonicalReader(leaf);
        if (r.String() != AccountTag)
        {
            throw new FormatException("Not an account leaf.");
        }

        int id = r.Int();
        long cash = r.Long();
        int openOrders = r.Int();
        byte mode = r.Byte();
        int count = r.Int();
        if (count < 0)
        {
            throw new FormatException("Invalid position count.");
        }

        var positions = new AccountLeafPosition[count];
        for (int i = 0; i < count; i++)
        {
            positions[i] = new AccountLeafPosition(r.Int(), r.Long(), r.Long(), r.Long(), r.Long(), r.Long(), r.Long(), r.Long(), r.Int(), r.Long(), r.Bool(), r.Long());
        }

        var commitment = r.Bytes().ToArray();
        r.EnsureEnd();
        return new AccountLeaf(id, cash, openOrders, positions, commitment, mode);
    }

    /// <summary>Encodes decoded fields back to leaf bytes; a verifier compares this with the proven leaf.</summary>
    public static byte[] EncodeAccount(AccountLeaf leaf)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var w = new CanonicalWriter(buffer);
        w.String(AccountTag);
        w.Int(leaf.AccountId);
        w.Long(leaf.CashMicros);
        w.Int(leaf.OpenOrderCount);
        w.Byte(leaf.MarginMode);
        w.Int(leaf.Positions.Count);
        foreach (var p in leaf.Positions)
        {
            w.Int(p.InstrumentId);
            w.Long(p.SizeUnits);
            w.Long(p.OpenCostMicros);
            w.Long(p.RealizedPnlMicros);
            w.Long(p.OpenBuyUnits);
            w.Long(p.OpenSellUnits);
            w.Long(p.OpenBuyNotionalMicros);
            w.Long(p.OpenSellNotionalMicros);
            w.Int(p.OpenOrderCount);
            w.Long(p.ReduceOnlyUnits);
            w.Bool(p.Isolated);
            w.Long(p.IsolatedCashMicros);
        }

        w.Bytes(leaf.OpenOrdersCommitment);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Balance(string tag, long micros)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var w = new CanonicalWriter(buffer);
        w.String(tag);
        w.Long(micros);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] OrdersCommitment(IReadOnlyList<RestingOrder> orders)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (orders.Count * 80));
        var w = new CanonicalWriter(buffer);
        w.Int(orders.Count);
        foreach (var o in orders)
        {
            w.Long(o.OrderId);
            w.Int(o.AccountId);
            w.Byte((byte)o.Side);
            w.Byte((byte)o.Flags);
            w.Long(o.Price.Micros);
            w.Long(o.Amount.Units);
            w.Long(o.Remaining.Units);
            w.Long(o.CreatedMicros);
            w.Long(o.UpdatedMicros);
            w.String(o.ClientOrderId);
        }

        return SHA256.HashData(buffer.WrittenSpan);
    }
}

/// <summary>One position as committed in an account leaf (raw fixed-point units).</summary>
public sealed record AccountLeafPosition(
    int InstrumentId,
    long SizeUnits,
    long OpenCostMicros,
    long RealizedPnlMicros,
    long OpenBuyUnits,
    long OpenSellUnits,
    long OpenBuyNotionalMicros,
    long OpenSellNotionalMicros,
    int OpenOrderCount,
    long ReduceOnlyUnits,
    bool Isolated = false,
    long IsolatedCashMicros = 0);

/// <summary>The fields of an account leaf.</summary>
/// <remarks><c>MarginMode</c>: 0 standard, 1 portfolio (<see cref="Margin.MarginMode"/>).</remarks>
public sealed record AccountLeaf(int AccountId, long CashMicros, int OpenOrderCount, IReadOnlyList<AccountLeafPosition> Positions, byte[] OpenOrdersCommitment, byte MarginMode = 0);
