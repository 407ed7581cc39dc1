using System.Buffers;
using Clearhouse.Core.Accounts;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;

namespace Clearhouse.Core.Serialization;

/// <summary>
/// The whole engine state in the canonical encoding, taken at a command boundary. Restoring a
/// snapshot gives an engine whose state hash equals the original's and which behaves identically
/// on every later command (tested). Books are written in priority order and re-added in that
/// order, which reproduces time priority exactly. Derived indexes (order → instrument, client
/// order ids) are rebuilt, not stored. The venue-wide <see cref="EngineConfig"/> limits are stored
/// and checked on restore, so a snapshot cannot silently run under different rules.
/// </summary>
public static partial class EngineSnapshot
{
    private const string Tag = "clearhouse/snapshot/v5";

    public static byte[] Write(Engine.Engine engine)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        Write(engine, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Engine.Engine engine, IBufferWriter<byte> output)
    {
        var w = new CanonicalWriter(output);
        w.String(Tag);
        foreach (long limit in ConfigValues(engine.Config))
        {
            w.Long(limit);
        }

        WriteCounters(w, engine);

        var ledger = engine.Ledger;
        w.Long(ledger.FeeAccount.Micros);
        w.Long(ledger.InsuranceFund.Micros);
        w.Long(ledger.External.Micros);
        w.Long(ledger.TotalDeposited.Micros);
        w.Long(ledger.TotalWithdrawn.Micros);
        WriteInsurancePositions(w, engine);
        w.Int(engine.LiquidationQueue.Count);
        foreach (var key in engine.LiquidationQueue)
        {
            w.Int(key.AccountId);
            w.Int(key.InstrumentId);
        }

        w.Int(engine.Underlyings.Count);
        foreach (var underlying in engine.Underlyings)
        {
            WriteUnderlying(w, underlying);
        }

        w.Int(engine.Instruments.Count);
        foreach (var instrument in engine.Instruments)
        {
            CommandCodec.WriteSpec(w, instrument.Spec);
            w.Long(instrument.ListedMicros);
            WriteInstrumentState(w, instrument);
        }

        var accounts = engine.AccountList;
        w.Int(accounts.Count);
        foreach (var account in accounts)
        {
            w.Long(account.Cash.Micros);
            w.Int(account.OpenOrderCount);
            w.Byte((byte)account.MarginMode);
            w.Int(account.ActiveCount);
            foreach (int active in account.ActiveInstruments)
            {
                w.Int(active);
            }

            foreach (int instrumentId in account.StoredInstruments)
            {
                var p = account.GetPosition(instrumentId);
                if (p.IsEmpty)
                {
                    continue;
                }

                WritePosition(w, instrumentId, p);
            }

            w.Int(0);
        }

        foreach (var instrument in engine.Instruments)
        {
            var orders = instrument.Book.OrdersInPriority();
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
        }

        WriteGuardSection(w, engine); // EngineSnapshot.Guards.cs: absent while every guard is off
    }

    /// <summary>
    /// Rebuilds an engine from a snapshot. <paramref name="config"/> supplies what a snapshot does
    /// not carry (the book implementation); its limits must equal the snapshot's.
    /// Throws <see cref="FormatException"/> on malformed input or a config mismatch.
    /// </summary>
    public static Engine.Engine Read(ReadOnlySpan<byte> snapshot, EngineConfig? config = null)
    {
        config ??= EngineConfig.Default;
        var r = new CanonicalReader(snapshot);
        if (r.String() != Tag)
        {
            throw new FormatException($"Not a Clearhouse snapshot (expected tag {Tag}).");
        }

        var expected = ConfigValues(config);
        for (int i = 0; i < expected.Length; i++)
        {
            long stored = r.Long();
            if (stored != expected[i])
            {
                throw new FormatException($"The snapshot was taken under different venue limits (parameter {i}: {stored} in the snapshot, {expected[i]} configured).");
            }
        }

        var engine = new Engine.Engine(config);
        engine.RestoreCounters(r.Long(), r.Long(), r.Long(), r.Long(), r.Int(), new Schedule
        {
            LastBasisMicros = r.Long(),
            LastTwapMicros = r.Long(),
            LastPremiumMicros = r.Long(),
            LastFundingMicros = r.Long(),
        });
        engine.Ledger.Restore(new Money(r.Long()), new Money(r.Long()), new Money(r.Long()), new Money(r.Long()), new Money(r.Long()));
        var insurancePositions = new List<(int Id, Position Position)>();
        for (int instrumentId = r.Int(); instrumentId != 0; instrumentId = r.Int())
        {
            insurancePositions.Add((instrumentId, ReadPosition(ref r)));
        }

        int queued = Count(ref r);
        var queue = new List<Liquidation.LiquidationKey>(queued);
        for (int i = 0; i < queued; i++)
        {
            queue.Add(new Liquidation.LiquidationKey(r.Int(), r.Int()));
        }

        engine.RestoreLiquidationQueue(queue);

        int underlyingCount = Count(ref r);
        for (int i = 0; i < underlyingCount; i++)
        {
            var underlying = engine.RestoreUnderlying(r.RequiredString(), new Price(r.Long()), r.Long());
            if (r.Bool())
            {
                underlying.Oracle = OracleState.Read(ref r);
            }

            underlying.Twap.Read(ref r);
            if (r.Bool())
            {
                underlying.VolSurface = Pricing.VolSurface.Create(VolSurfaceUpdate.ReadParameters(ref r));
            }

            if (r.Bool())
            {
                underlying.Listing = CommandCodec.ReadListingSchedule(ref r);
            }
        }

        int instrumentCount = Count(ref r);
        for (int i = 0; i < instrumentCount; i++)
        {
            var instrument = engine.RestoreInstrument(CommandCodec.ReadSpec(ref r), r.Long());
            instrument.State = (InstrumentState)r.Byte();
            instrument.LongOpenInterest = new Quantity(r.Long());
            instrument.ShortOpenInterest = new Quantity(r.Long());
            instrument.LastTradePrice = new Price(r.Long());
            instrument.TradeCount = r.Long();
            instrument.BasisEmaMicros = r.Long();
            instrument.OptionMark = new Price(r.Long());
            instrument.OptionForward = new Price(r.Long());
            instrument.OptionMarkedMicros = r.Long();
            instrument.PremiumSumPpb = r.Long();
            instrument.PremiumSamples = r.Int();
            instrument.SettlementPrice = new Price(r.Long());
            instrument.SettledMicros = r.Long();
            int fundings = Count(ref r);
            for (int f = 0; f < fundings; f++)
            {
                instrument.AddFunding(new FundingRecord(r.Long(), r.Long(), r.Long(), new Price(r.Long())));
            }
        }

        int accountCount = Count(ref r);
        for (int i = 0; i < accountCount; i++)
        {
            var account = engine.RestoreAccount();
            account.Restore(new Money(r.Long()), r.Int());
            account.MarginMode = r.Byte() switch
            {
                0 => Margin.MarginMode.Standard,
                1 => Margin.MarginMode.Portfolio,
                var mode => throw new FormatException($"Unknown margin mode {mode}."),
            };
            int active = Count(ref r);
            for (int a = 0; a < active; a++)
            {
                account.Activate(InstrumentId(ref r, instrumentCount));
            }

            for (int instrumentId = r.Int(); instrumentId != 0; instrumentId = r.Int())
            {
                if ((uint)(instrumentId - 1) >= (uint)instrumentCount)
                {
                    throw new FormatException($"Position in unknown instrument {instrumentId}.");
                }

                account.PositionIn(instrumentId) = ReadPosition(ref r);
            }
        }

        foreach (var (id, position) in insurancePositions)
        {
            if ((uint)(id - 1) >= (uint)instrumentCount)
            {
                throw new FormatException($"Insurance fund position in unknown instrument {id}.");
            }

            engine.Ledger.Insurance.PositionIn(id) = position;
            engine.Ledger.Insurance.Activate(id);
        }

        foreach (var instrument in engine.Instruments)
        {
            int orderCount = Count(ref r);
            for (int i = 0; i < orderCount; i++)
            {
                var order = new RestingOrder
                {
                    OrderId = r.Long(),
                    AccountId = r.Int(),
                    Side = (Side)r.Byte(),
                    Flags = (OrderFlags)r.Byte(),
                    Price = new Price(r.Long()),
                    Amount = new Quantity(r.Long()),
                    Remaining = new Quantity(r.Long()),
                    CreatedMicros = r.Long(),
                    UpdatedMicros = r.Long(),
                    ClientOrderId = r.String(),
                };
                engine.RestoreOrder(instrument, order);
            }
        }

        ReadGuardSection(ref r, engine, config); // EngineSnapshot.Guards.cs
        r.EnsureEnd();
        engine.RebuildDerivedState();
        return engine;
    }

    /// <summary>Venue-wide parameters that change behaviour; a snapshot must be restored under the same ones.</summary>
    private static long[] ConfigValues(EngineConfig c)
    {
        var pm = c.PortfolioMargin;
        long[] values =
        [
            c.MaxOpenOrdersPerAccount, c.MaxOrderNotionalMicros, c.MaxTransferMicros, c.MaxIndexPriceMicros,
            c.MarkClampPpm, c.BasisSampleIntervalMicros, c.BasisEmaAlphaPpm, c.PremiumSampleIntervalMicros,
            c.FundingIntervalMicros, c.FundingInterest8hPpb, c.FundingBand8hPpb, c.FundingCapPerIntervalPpb,
            c.ImpactNotionalMicros, c.TwapSampleIntervalMicros, c.TwapWindowSamples,
            c.OptionMargin.InitialPpm, c.OptionMargin.MinimumInitialPpm, c.OptionMargin.MaintenancePpm,
            pm.PriceRangePpm, pm.PriceStepsPerSide, Bits(pm.VolUpFraction), Bits(pm.VolDownFraction), Bits(pm.MinimumVolUp),
            Bits(pm.ShortTermVegaPower), Bits(pm.LongTermVegaPower), pm.ShortOptionMinimumPpm, pm.ConcentrationThresholdMicros,
            pm.ConcentrationPpm, pm.MaintenancePpm, pm.TailMovesPpm.Count,
            c.LiquidationFeePpm, c.LiquidationFullCloseNotionalMicros, c.LiquidationStepPpm, c.MaxLiquidationStepsPerCommand,
            c.BackstopMaxNotionalPerInstrumentMicros, c.InsuranceFloorMicros,
        ];
        return [.. values, .. pm.TailMovesPpm.Select(m => (long)m)];
    }

    private static long Bits(double value) => BitConverter.DoubleToInt64Bits(value);

    /// <summary>One non-empty position, as snapshots and account leaves both encode it.</summary>
    internal static void WritePosition(CanonicalWriter w, int instrumentId, in Position p)
    {
        w.Int(instrumentId);
        w.Long(p.Size.Units);
        w.Long(p.OpenCost.Micros);
        w.Long(p.RealizedPnl.Micros);
        w.Long(p.OpenBuyQuantity.Units);
        w.Long(p.OpenSellQuantity.Units);
        w.Long(p.OpenBuyNotional.Micros);
        w.Long(p.OpenSellNotional.Micros);
        w.Int(p.OpenOrderCount);
        w.Long(p.ReduceOnlyOpenQuantity.Units);
        w.Bool(p.Isolated);
        w.Long(p.IsolatedCash.Micros);
    }

    private static Position ReadPosition(ref CanonicalReader r) => new()
    {
        Size = new Quantity(r.Long()),
        OpenCost = new Money(r.Long()),
        RealizedPnl = new Money(r.Long()),
        OpenBuyQuantity = new Quantity(r.Long()),
        OpenSellQuantity = new Quantity(r.Long()),
        OpenBuyNotional = new Money(r.Long()),
        OpenSellNotional = new Money(r.Long()),
        OpenOrderCount = r.Int(),
        ReduceOnlyOpenQuantity = new Quantity(r.Long()),
        Isolated = r.Bool(),
        IsolatedCash = new Money(r.Long()),
    };

    /// <summary>The insurance fund's positions (backstop takeovers), instrument id order, ended by 0.</summary>
    internal static void WriteInsurancePositions(CanonicalWriter w, Engine.Engine engine)
    {
        var fund = engine.Ledger.Insurance;
        for (int instrumentId = 1; instrumentId <= engine.Instruments.Count; instrumentId++)
        {
            var p = fund.GetPosition(instrumentId);
            if (!p.IsEmpty)
            {
                WritePosition(w, instrumentId, p);
            }
        }

        w.Int(0);
    }

    internal static void WriteCounters(CanonicalWriter w, Engine.Engine engine)
    {
        w.Long(engine.LastSequence);
        w.Long(engine.LastTimestampMicros);
        w.Long(engine.NextOrderId);
        w.Long(engine.NextTradeId);
        w.Int(engine.NextReporterId);
        var schedule = engine.ClockSchedule;
        w.Long(schedule.LastBasisMicros);
        w.Long(schedule.LastTwapMicros);
        w.Long(schedule.LastPremiumMicros);
        w.Long(schedule.LastFundingMicros);
    }

    /// <summary>An underlying's index, oracle (reporters and their latest reports) and TWAP samples.</summary>
    internal static void WriteUnderlying(CanonicalWriter w, Underlying underlying)
    {
        w.String(underlying.Name);
        w.Long(underlying.IndexPrice.Micros);
        w.Long(underlying.IndexUpdatedMicros);
        w.Bool(underlying.Oracle is not null);
        underlying.Oracle?.Write(w);
        underlying.Twap.Write(w);
        w.Bool(underlying.VolSurface is not null);
        if (underlying.VolSurface is { } surface)
        {
            VolSurfaceUpdate.WriteParameters(w, surface.Parameters);
        }

        w.Bool(underlying.Listing is not null);
        if (underlying.Listing is { } listing)
        {
            CommandCodec.WriteListingSchedule(w, listing);
        }
    }

    /// <summary>An instrument's lifecycle, open interest, trading and funding state (not its spec or book).</summary>
    internal static void WriteInstrumentState(CanonicalWriter w, Instrument instrument)
    {
        w.Byte((byte)instrument.State);
        w.Long(instrument.LongOpenInterest.Units);
        w.Long(instrument.ShortOpenInterest.Units);
        w.Long(instrument.LastTradePrice.Micros);
        w.Long(instrument.TradeCount);
        w.Long(instrument.BasisEmaMicros);
        w.Long(instrument.OptionMark.Micros);
        w.Long(instrument.OptionForward.Micros);
        w.Long(instrument.OptionMarkedMicros);
        w.Long(instrument.PremiumSumPpb);
        w.Int(instrument.PremiumSamples);
        w.Long(instrument.SettlementPrice.Micros);
        w.Long(instrument.SettledMicros);
        w.Int(instrument.FundingHistory.Count);
        foreach (var f in instrument.FundingHistory)
        {
            w.Long(f.TimeMicros);
            w.Long(f.RatePpb);
            w.Long(f.AveragePremiumPpb);
            w.Long(f.IndexPrice.Micros);
        }
    }

    private static int Count(ref CanonicalReader r)
    {
        int count = r.Int();
        return count >= 0 ? count : throw new FormatException($"Invalid count {count}.");
    }

    private static int InstrumentId(ref CanonicalReader r, int instrumentCount)
    {
        int id = r.Int();
        return (uint)(id - 1) < (uint)instrumentCount ? id : throw new FormatException($"Unknown instrument {id}.");
    }
}
