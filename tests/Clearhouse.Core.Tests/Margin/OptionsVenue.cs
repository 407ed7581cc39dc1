using System.Collections.Immutable;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;
using Clearhouse.Core.Pricing;
using Clearhouse.Core.Tests.Engine;
using NSec.Cryptography;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>
/// A BTC venue where options trade. The index comes from one signed reporter (quorum 1, stale only
/// after 30 days, so a test need not keep it fresh); the dated future 27MAR26 is listed, so its mark
/// (the index while its book is empty) is the forward of the 27MAR26 options; and the volatility
/// surface is flat (SVI with b = 0: one total variance for every strike), signed by the same
/// reporter. Options are listed on demand and marked at once by re-publishing the surface.
/// </summary>
internal sealed class OptionsVenue
{
    public static readonly DateOnly Expiry = new(2026, 3, 27);

    public static readonly long ExpiryMicros = InstrumentTerms.Future("BTC", Expiry).ExpiryMicros;

    private readonly Key key = PriceReport.SigningKeyFromSeed(Enumerable.Repeat((byte)42, 32).ToArray());

    public OptionsVenue(EngineConfig? config = null, decimal index = 100_000m, double volatility = 0.60)
    {
        Venue = new Venue(config);
        Future = Venue.ListFuture("BTC", Expiry);
        Venue.Accept(new ConfigureOracle("BTC", new OracleParameters(1, 30 * 86_400_000_000L, 1_000_000, 500_000)));
        Venue.Accept(new RegisterReporter("BTC", PriceReport.PublicKeyOf(key)));
        ReporterId = Venue.Events[0].ReporterId;
        Volatility = volatility;
        SetIndex(index);
        Remark();
        Bank = Venue.NewAccount(1_000_000_000m);
    }

    public Venue Venue { get; }

    public CoreEngine Engine => Venue.Engine;

    /// <summary>BTC_USDC-27MAR26: tick 0.5, lot 0.001, no maker fee, 0.05% taker fee, large-cap tiers.</summary>
    public int Future { get; }

    /// <summary>An account with a billion USDC that takes the other side of every trade a test needs.</summary>
    public int Bank { get; }

    public int ReporterId { get; }

    /// <summary>The flat volatility the next <see cref="Remark"/> publishes.</summary>
    public double Volatility { get; set; }

    public long Now => Engine.LastTimestampMicros;

    public Underlying Btc => Engine.TryGetUnderlying("BTC", out var u) ? u : throw new InvalidOperationException();

    public Instrument this[int id] => Engine.Instruments[id - 1];

    /// <summary>A signed index report, published at the time of its own command.</summary>
    public void SetIndex(decimal price) =>
        Venue.Accept(new SubmitPriceReport(PriceReport.Sign(key, "BTC", Price.FromDecimal(price), Now + 1_000, ReporterId)));

    /// <summary>Publishes the flat surface again (σ = <see cref="Volatility"/> as of now): every option is re-marked and its scenario grid recomputed.</summary>
    public void Remark()
    {
        long published = Now + 1_000;
        double years = YearFraction.Between(published, ExpiryMicros);
        long a = (long)Math.Round(Volatility * Volatility * years * 1e9);
        var parameters = new VolSurfaceParameters("BTC", published, [new SviSliceParameters(ExpiryMicros, a, 0, 0, 0, 100_000_000)]);
        Venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(key, parameters, ReporterId)));
    }

    /// <summary>Lists BTC_USDC-27MAR26-strike-C/P (tick 5, lot 0.01, 0.05% taker fee) and, unless told not to, marks it.</summary>
    public int ListOption(decimal strike, OptionRight right, int takerFeePpm = 500, bool mark = true)
    {
        Venue.Accept(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Option("BTC", Expiry, Price.FromDecimal(strike), right), Price.FromWhole(5), Quantity.FromDecimal(0.01m), 0, takerFeePpm)));
        int id = Venue.Events[0].InstrumentId;
        if (mark)
        {
            Remark();
            Assert.True(this[id].MarkPrice.IsPositive, "the option was not marked");
        }

        return id;
    }

    /// <summary>The mark rounded up to the instrument's tick: a price at or above the mark.</summary>
    public decimal TickAtOrAboveMark(int instrument)
    {
        var i = this[instrument];
        return i.MarkPrice.RoundToTick(i.Spec.TickSize, Rounding.Ceiling).ToDecimal();
    }

    /// <summary><paramref name="account"/> buys (positive) or sells (negative) <paramref name="amount"/> from the bank at <paramref name="price"/>.</summary>
    public void Trade(int account, int instrument, decimal amount, decimal price)
    {
        var side = amount > 0 ? Side.Buy : Side.Sell;
        Venue.Place(Bank, instrument, side == Side.Buy ? Side.Sell : Side.Buy, price, Math.Abs(amount), flags: OrderFlags.PostOnly);
        Venue.Place(account, instrument, side, price, Math.Abs(amount), TimeInForce.FillOrKill);
    }
}
