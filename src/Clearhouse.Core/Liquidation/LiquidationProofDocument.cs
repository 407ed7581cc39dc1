using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Liquidation;

/// <summary>
/// The JSON form of a <see cref="LiquidationProof"/>, served by the venue and checked offline by
/// <c>clearhouse verify-liquidation</c>. Amounts are decimal strings (exact); the option
/// volatility is a JSON number written shortest-round-trip, so it reads back to the same bits.
/// </summary>
public sealed class LiquidationProofDocument
{
    public const string CurrentVersion = "clearhouse/liquidation-proof/v1";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Version { get; set; } = CurrentVersion;

    public long Sequence { get; set; }

    public long TimestampMicros { get; set; }

    public int AccountId { get; set; }

    public int IsolatedInstrumentId { get; set; }

    public string Mode { get; set; } = "standard";

    public string Cash { get; set; } = "0";

    public List<PositionDocument> Positions { get; set; } = [];

    public List<UnderlyingDocument> Underlyings { get; set; } = [];

    public string Equity { get; set; } = "0";

    public string Maintenance { get; set; } = "0";

    public string Initial { get; set; } = "0";

    public int ChosenInstrumentId { get; set; }

    public string Step { get; set; } = "0";

    public string BankruptcyPrice { get; set; } = "0";

    public long FullCloseNotionalMicros { get; set; }

    public int StepPpm { get; set; }

    public List<AdlDocument> AdlRanking { get; set; } = [];

    public sealed class PositionDocument
    {
        public int InstrumentId { get; set; }

        public string Instrument { get; set; } = "";

        public string TickSize { get; set; } = "0";

        public string MinAmount { get; set; } = "0";

        public int MakerFeePpm { get; set; }

        public int TakerFeePpm { get; set; }

        public int MarketProtectionPpm { get; set; }

        public List<TierDocument> Tiers { get; set; } = [];

        public string Mark { get; set; } = "0";

        public string Size { get; set; } = "0";

        public string OpenCost { get; set; } = "0";

        public string OpenBuy { get; set; } = "0";

        public string OpenSell { get; set; } = "0";

        public string OpenBuyNotional { get; set; } = "0";

        public string OpenSellNotional { get; set; } = "0";

        public bool Isolated { get; set; }

        public string IsolatedCash { get; set; } = "0";

        public string OptionForward { get; set; } = "0";

        public long OptionMarkedMicros { get; set; }

        public double OptionVolatility { get; set; }
    }

    public sealed class TierDocument
    {
        public long NotionalCapMicros { get; set; }

        public int InitialPpm { get; set; }

        public int MaintenancePpm { get; set; }
    }

    public sealed class UnderlyingDocument
    {
        public int Id { get; set; }

        public string Name { get; set; } = "";

        public string Index { get; set; } = "0";
    }

    public sealed class AdlDocument
    {
        public int AccountId { get; set; }

        public double Key { get; set; }
    }

    public static LiquidationProofDocument From(LiquidationProof proof) => new()
    {
        Sequence = proof.Sequence,
        TimestampMicros = proof.TimestampMicros,
        AccountId = proof.AccountId,
        IsolatedInstrumentId = proof.IsolatedInstrumentId,
        Mode = proof.Mode == MarginMode.Portfolio ? "portfolio" : "standard",
        Cash = proof.Cash.ToString(),
        Positions = [.. proof.Positions.Select(p => new PositionDocument
        {
            InstrumentId = p.InstrumentId,
            Instrument = p.Spec.Name,
            TickSize = p.Spec.TickSize.ToString(),
            MinAmount = p.Spec.MinAmount.ToString(),
            MakerFeePpm = p.Spec.MakerFeePpm,
            TakerFeePpm = p.Spec.TakerFeePpm,
            MarketProtectionPpm = p.Spec.MarketProtectionPpm,
            Tiers = [.. p.Spec.Tiers.Tiers.Select(t => new TierDocument { NotionalCapMicros = t.NotionalCap.Micros, InitialPpm = t.InitialPpm, MaintenancePpm = t.MaintenancePpm })],
            Mark = p.Mark.ToString(),
            Size = p.Size.ToString(),
            OpenCost = p.OpenCost.ToString(),
            OpenBuy = p.OpenBuyQuantity.ToString(),
            OpenSell = p.OpenSellQuantity.ToString(),
            OpenBuyNotional = p.OpenBuyNotional.ToString(),
            OpenSellNotional = p.OpenSellNotional.ToString(),
            Isolated = p.Isolated,
            IsolatedCash = p.IsolatedCash.ToString(),
            OptionForward = p.OptionForward.ToString(),
            OptionMarkedMicros = p.OptionMarkedMicros,
            OptionVolatility = p.OptionVolatility,
        })],
        Underlyings = [.. proof.Underlyings.Select(u => new UnderlyingDocument { Id = u.Id, Name = u.Name, Index = u.Index.ToString() })],
        Equity = proof.Equity.ToString(),
        Maintenance = proof.Maintenance.ToString(),
        Initial = proof.Initial.ToString(),
        ChosenInstrumentId = proof.ChosenInstrumentId,
        Step = proof.Step.ToString(),
        BankruptcyPrice = proof.BankruptcyPrice.ToString(),
        FullCloseNotionalMicros = proof.FullCloseNotionalMicros,
        StepPpm = proof.StepPpm,
        AdlRanking = [.. proof.AdlRanking.Select(a => new AdlDocument { AccountId = a.AccountId, Key = a.Key })],
    };

    /// <summary>Back to a proof; throws <see cref="FormatException"/> for malformed fields.</summary>
    public LiquidationProof ToProof()
    {
        if (Version != CurrentVersion)
        {
            throw new FormatException($"Unsupported proof version '{Version}' (expected {CurrentVersion}).");
        }

        if (StepPpm is <= 0 or > 1_000_000 || FullCloseNotionalMicros < 0)
        {
            throw new FormatException($"Step rules out of range: {StepPpm} ppm per step, full close up to {FullCloseNotionalMicros} micros of notional.");
        }

        return new LiquidationProof
        {
            Sequence = Sequence,
            TimestampMicros = TimestampMicros,
            AccountId = AccountId,
            IsolatedInstrumentId = IsolatedInstrumentId,
            Mode = Mode switch
            {
                "standard" => MarginMode.Standard,
                "portfolio" => MarginMode.Portfolio,
                _ => throw new FormatException($"Unknown margin mode '{Mode}'."),
            },
            Cash = Money.FromDecimal(Parse(Cash)),
            Positions = [.. Positions.Select(ToPosition)],
            Underlyings = [.. Underlyings.Select(u => new ProofUnderlying(u.Id, u.Name, Price.FromDecimal(Parse(u.Index))))],
            Equity = Money.FromDecimal(Parse(Equity)),
            Maintenance = Money.FromDecimal(Parse(Maintenance)),
            Initial = Money.FromDecimal(Parse(Initial)),
            ChosenInstrumentId = ChosenInstrumentId,
            Step = Quantity.FromDecimal(Parse(Step)),
            BankruptcyPrice = Price.FromDecimal(Parse(BankruptcyPrice)),
            FullCloseNotionalMicros = FullCloseNotionalMicros,
            StepPpm = StepPpm,
            AdlRanking = [.. AdlRanking.Select(a => new AdlCandidate(a.AccountId, a.Key))],
        };
    }

    private static ProofPosition ToPosition(PositionDocument p)
    {
        if (!InstrumentName.TryParse(p.Instrument, out var terms, out string? error))
        {
            throw new FormatException(error);
        }

        var tiers = p.Tiers.Select(t => new MarginTier(new Money(t.NotionalCapMicros), t.InitialPpm, t.MaintenancePpm)).ToList();
        if (!MarginTiers.TryValidate(tiers, out string? tierError))
        {
            throw new FormatException(tierError);
        }

        var spec = new InstrumentSpec(terms, Price.FromDecimal(Parse(p.TickSize)), Quantity.FromDecimal(Parse(p.MinAmount)), p.MakerFeePpm, p.TakerFeePpm, MarginTiers.Create(tiers), p.MarketProtectionPpm);
        if (!spec.TryValidate(out string? specError))
        {
            // A spec the venue could never have listed (a lot of zero would divide by zero in the step rules).
            throw new FormatException($"{p.Instrument}: {specError}");
        }

        return new ProofPosition(
            p.InstrumentId,
            spec,
            Price.FromDecimal(Parse(p.Mark)),
            Quantity.FromDecimal(Parse(p.Size)),
            Money.FromDecimal(Parse(p.OpenCost)),
            Quantity.FromDecimal(Parse(p.OpenBuy)),
            Quantity.FromDecimal(Parse(p.OpenSell)),
            Money.FromDecimal(Parse(p.OpenBuyNotional)),
            Money.FromDecimal(Parse(p.OpenSellNotional)),
            p.Isolated,
            Money.FromDecimal(Parse(p.IsolatedCash)),
            Price.FromDecimal(Parse(p.OptionForward)),
            p.OptionMarkedMicros,
            p.OptionVolatility);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static LiquidationProofDocument FromJson(string json) =>
        JsonSerializer.Deserialize<LiquidationProofDocument>(json, Options) ?? throw new FormatException("Empty document.");

    private static decimal Parse(string text) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value)
            ? value
            : throw new FormatException($"Not a decimal amount: '{text}'.");
}
