using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Clearhouse.Core.Accounts;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Engine;

/// <summary>
/// SHA-256 over a canonical encoding of the whole engine state. Canonical means: fixed-width
/// little-endian integers, length-prefixed UTF-8 strings, and every collection walked in an order
/// that depends only on the state (ids ascending, books in priority order) — never on hash-table
/// iteration. Two engines that applied the same commands produce the same bytes on any machine.
/// Version-tagged so that a change of encoding is visible.
/// </summary>
public static class StateHash
{
    private const string Tag = "clearhouse/state/v1";

    internal static byte[] Compute(Engine engine, IReadOnlyList<Account> accounts, int openClientOrderIds)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var w = new Writer(hash);
        w.String(Tag);
        w.Long(engine.LastSequence);
        w.Long(engine.LastTimestampMicros);
        w.Long(engine.NextOrderId);
        w.Long(engine.NextTradeId);
        w.Long(openClientOrderIds);

        var ledger = engine.Ledger;
        w.Money(ledger.FeeAccount);
        w.Money(ledger.InsuranceFund);
        w.Money(ledger.External);
        w.Money(ledger.TotalDeposited);
        w.Money(ledger.TotalWithdrawn);

        w.Long(engine.Underlyings.Count);
        foreach (var underlying in engine.Underlyings)
        {
            w.String(underlying.Name);
            w.Long(underlying.IndexPrice.Micros);
            w.Long(underlying.IndexUpdatedMicros);
        }

        w.Long(engine.Instruments.Count);
        foreach (var instrument in engine.Instruments)
        {
            var spec = instrument.Spec;
            w.Long(instrument.Id);
            w.String(spec.Name);
            w.Long((long)instrument.State);
            w.Long(spec.TickSize.Micros);
            w.Long(spec.MinAmount.Units);
            w.Long(spec.MakerFeePpm);
            w.Long(spec.TakerFeePpm);
            w.Long(spec.MarketProtectionPpm);
            foreach (var tier in spec.Tiers.Tiers)
            {
                w.Long(tier.NotionalCap.Micros);
                w.Long(tier.InitialPpm);
                w.Long(tier.MaintenancePpm);
            }

            w.Long(instrument.ListedMicros);
            w.Long(instrument.LongOpenInterest.Units);
            w.Long(instrument.ShortOpenInterest.Units);
            w.Long(instrument.LastTradePrice.Micros);
            w.Long(instrument.TradeCount);

            var orders = instrument.Book.OrdersInPriority();
            w.Long(orders.Count);
            foreach (var order in orders)
            {
                w.Order(order);
            }
        }

        w.Long(accounts.Count);
        foreach (var account in accounts)
        {
            w.Long(account.Id);
            w.Money(account.Cash);
            w.Long(account.OpenOrderCount);
            w.Long(account.ActiveCount);
            foreach (int active in account.ActiveInstruments)
            {
                w.Long(active);
            }

            for (int instrumentId = 1; instrumentId <= engine.Instruments.Count; instrumentId++)
            {
                var p = account.GetPosition(instrumentId);
                if (p.Equals(default(Position)))
                {
                    continue;
                }

                w.Long(instrumentId);
                w.Long(p.Size.Units);
                w.Money(p.OpenCost);
                w.Money(p.RealizedPnl);
                w.Long(p.OpenBuyQuantity.Units);
                w.Long(p.OpenSellQuantity.Units);
                w.Money(p.OpenBuyNotional);
                w.Money(p.OpenSellNotional);
                w.Long(p.OpenOrderCount);
                w.Long(p.ReduceOnlyOpenQuantity.Units);
            }

            w.Long(-1);
        }

        return hash.GetHashAndReset();
    }

    private readonly struct Writer(IncrementalHash hash)
    {
        public void Long(long value)
        {
            Span<byte> buffer = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
            hash.AppendData(buffer);
        }

        public void Money(Money value) => Long(value.Micros);

        public void String(string? value)
        {
            if (value is null)
            {
                Long(-1);
                return;
            }

            byte[] bytes = Encoding.UTF8.GetBytes(value);
            Long(bytes.Length);
            hash.AppendData(bytes);
        }

        public void Order(in RestingOrder order)
        {
            Long(order.OrderId);
            Long(order.AccountId);
            Long((long)order.Side);
            Long((long)order.Flags);
            Long(order.Price.Micros);
            Long(order.Amount.Units);
            Long(order.Remaining.Units);
            Long(order.CreatedMicros);
            Long(order.UpdatedMicros);
            String(order.ClientOrderId);
        }
    }
}
