using Clearhouse.Core.Accounts;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>One leg of a hypothetical account: a position and, optionally, open orders at the mark.</summary>
internal readonly record struct Leg(int Instrument, long SizeUnits, long OpenBuyUnits = 0, long OpenSellUnits = 0);

/// <summary>
/// A marked option chain to compute the margin of hypothetical accounts on: an <see cref="OptionsVenue"/>
/// with calls and puts at strikes from 50% to 300% of the index (one future of the same expiry, so the
/// options' forward is the future's mark = the index), and the engine's own <see cref="AccountMargin"/>
/// over its instruments. Accounts are built directly (positions set, not traded), so a property test
/// can try thousands of portfolios in a second; the margin code is the engine's, nothing re-implemented.
/// </summary>
internal sealed class MarginLab
{
    private static readonly decimal[] StrikeRatios = [0.5m, 0.6m, 0.7m, 0.8m, 0.85m, 0.9m, 0.95m, 1.0m, 1.05m, 1.1m, 1.2m, 1.3m, 1.5m, 2.0m, 2.5m, 3.0m];

    private readonly AccountMargin margin;
    private readonly Dictionary<(decimal Strike, OptionRight Right), int> options = [];
    private int nextAccountId = 1_000;

    public MarginLab(decimal index, double volatility, PortfolioMarginParameters? portfolio = null)
    {
        var config = portfolio is null ? EngineConfig.Default : new EngineConfig { PortfolioMargin = portfolio };
        Venue = new OptionsVenue(config, index, volatility);
        Index = index;
        foreach (decimal ratio in StrikeRatios)
        {
            decimal strike = Math.Round(index * ratio);
            Strikes.Add(strike);
            options[(strike, OptionRight.Call)] = Venue.ListOption(strike, OptionRight.Call, mark: false);
            options[(strike, OptionRight.Put)] = Venue.ListOption(strike, OptionRight.Put, mark: false);
        }

        Venue.Remark();
        var engine = Venue.Engine;
        margin = new AccountMargin(engine.Instruments, engine.Underlyings, config.OptionMargin, config.PortfolioMargin);
        foreach (var instrument in engine.Instruments)
        {
            if (instrument.Kind == InstrumentKind.Option)
            {
                Assert.Equal(engine.MarginScenarios.Length, instrument.RiskGrid.Length); // far wings may have a zero mark, never no grid
                margin.RegisterGroup(instrument.StrikeGroup, instrument.Underlying.Id);
            }
        }

        Assert.Equal(Price.FromDecimal(index), Venue[Future].MarkPrice);
    }

    public OptionsVenue Venue { get; }

    public decimal Index { get; }

    public List<decimal> Strikes { get; } = [];

    public int Future => Venue.Future;

    public IReadOnlyList<Instrument> Instruments => Venue.Engine.Instruments;

    public ReadOnlySpan<Scenario> Scenarios => Venue.Engine.MarginScenarios;

    public int Option(decimal strike, OptionRight right) => options[(strike, right)];

    public Instrument this[int id] => Venue[id];

    /// <summary>An account holding <paramref name="legs"/> (distinct instruments), margined in <paramref name="mode"/>.</summary>
    public Account Account(MarginMode mode, params Leg[] legs)
    {
        var account = new Account(nextAccountId++, Instruments.Count + 1) { MarginMode = mode };
        foreach (var leg in legs)
        {
            var mark = this[leg.Instrument].MarkPrice;
            ref var p = ref account.PositionIn(leg.Instrument);
            Assert.True(p.Size.IsZero && p.OpenOrderCount == 0, "legs must be in distinct instruments");
            p.Size = new Quantity(leg.SizeUnits);
            p.OpenCost = Notional.Of(mark, p.Size, Rounding.Ceiling);
            if (leg.OpenBuyUnits > 0)
            {
                p.OpenBuyQuantity = new Quantity(leg.OpenBuyUnits);
                p.OpenBuyNotional = Notional.Of(mark, p.OpenBuyQuantity, Rounding.Ceiling);
                p.OpenOrderCount++;
            }

            if (leg.OpenSellUnits > 0)
            {
                p.OpenSellQuantity = new Quantity(leg.OpenSellUnits);
                p.OpenSellNotional = Notional.Of(mark, p.OpenSellQuantity, Rounding.Floor);
                p.OpenOrderCount++;
            }

            account.Activate(leg.Instrument);
        }

        return account;
    }

    public MarginReport Report(MarginMode mode, params Leg[] legs) => margin.Report(Account(mode, legs));

    public MarginSummary Summary(MarginMode mode, params Leg[] legs) => margin.Cross(Account(mode, legs));

    /// <summary>Black-76 inputs of an option as it was last marked (the inputs of its scenario grid).</summary>
    public OptionRiskInput RiskInput(int option)
    {
        var instrument = this[option];
        var terms = instrument.Spec.Terms;
        double strike = OptionMarks.ToDouble(terms.Strike);
        double forward = OptionMarks.ToDouble(instrument.OptionForward);
        double vol = instrument.Underlying.VolSurface!.Volatility(strike, forward, terms.ExpiryMicros, instrument.OptionMarkedMicros);
        return new OptionRiskInput(terms.Right, strike, forward, YearFraction.Between(instrument.OptionMarkedMicros, terms.ExpiryMicros), vol);
    }
}
