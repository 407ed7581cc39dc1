using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>Portfolio margin on examples small enough to check by hand, through the engine.</summary>
public class PortfolioMarginExampleTests
{
    [Fact]
    public void A_long_future_in_portfolio_margin_needs_its_loss_in_the_minus_16_percent_scenario()
    {
        // One BTC future at 100,000: the worst scenario is −16%, a loss of 16,000 USDC. No options, so
        // no short-option add-on; 100,000 of notional is far below the concentration threshold.
        // Maintenance = 80% × 16,000 = 12,800. The pre-trade check adds the 0.05% taker fee (50).
        var o = new OptionsVenue();
        int exact = o.Venue.NewAccount(16_050m);
        int oneMicroShort = o.Venue.NewAccount(16_049.999999m);
        o.Venue.Accept(new SetMarginMode(exact, MarginMode.Portfolio));
        o.Venue.Accept(new SetMarginMode(oneMicroShort, MarginMode.Portfolio));
        o.Venue.Place(o.Bank, o.Future, Side.Sell, 100_000m, 1m, flags: OrderFlags.PostOnly);

        string before = o.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.InsufficientMargin, o.Venue.TryPlace(oneMicroShort, o.Future, Side.Buy, 100_000m, 1m));
        Assert.Equal(before, o.Engine.ComputeStateHashHex());
        Assert.Equal(RejectReason.None, o.Venue.TryPlace(exact, o.Future, Side.Buy, 100_000m, 1m));

        var report = o.Engine.GetMarginReport(exact)!;
        var risk = Assert.Single(report.Portfolio);
        Assert.Equal("BTC", risk.Underlying);
        Assert.Equal(Money.FromWhole(16_000), risk.WorstLoss);
        Assert.Equal(Money.Zero, risk.ShortOptionAddOn);
        Assert.Equal(Money.Zero, risk.ConcentrationAddOn);
        Assert.Equal(Money.FromWhole(16_000), risk.Initial);
        Assert.Equal(Money.FromWhole(12_800), risk.Maintenance);
        Assert.Equal(0, risk.BindingScenario); // −16% with volatility down: the first of the tied −16% scenarios
        Assert.Equal(new Scenario(-160_000, VolShock.Down, 1.0), risk.Scenario);
        Assert.Equal(risk.Scenario, o.Engine.MarginScenarios[risk.BindingScenario]);
        Assert.Equal(-160_000, o.Engine.MarginScenarios[risk.MaintenanceBindingScenario].MovePpm);

        Assert.Equal(Money.FromWhole(16_000), report.Initial);
        Assert.Equal(Money.FromWhole(12_800), report.Maintenance);
        Assert.Equal(Money.FromWhole(16_000), report.Equity); // 16,050 − 50 fee, at the mark
        var position = Assert.Single(report.Positions);
        Assert.Equal(Money.FromWhole(16_000), position.Initial); // its loss in the binding scenario
    }

    [Fact]
    public void A_short_future_binds_on_the_plus_16_percent_move_and_tails_never_need_more_for_a_linear_position()
    {
        // The tails are dampened by 16%/|move|: −66% × (16/66) is −16% again, +500% × (16/500) is +16%.
        // Float rounding of those products must not make a tail bind (or cost a micro more).
        foreach (decimal index in new[] { 100_000m, 97_123.5m, 3_001.5m, 63_999.5m })
        {
            var o = new OptionsVenue(index: index);
            int trader = o.Venue.NewAccount(10_000_000m);
            o.Venue.Accept(new SetMarginMode(trader, MarginMode.Portfolio));
            o.Trade(trader, o.Future, -3m, index);
            var risk = Assert.Single(o.Engine.GetMarginReport(trader)!.Portfolio);
            Assert.Equal(160_000, risk.Scenario.MovePpm);
            Assert.Equal(Money.FromDecimal(Math.Ceiling(index * 3m * 0.16m * 1_000_000m) / 1_000_000m), risk.WorstLoss);
        }
    }

    [Fact]
    public void A_short_call_binds_on_an_up_move_with_volatility_up_and_the_report_names_that_scenario()
    {
        var o = new OptionsVenue();
        int call = o.ListOption(110_000m, OptionRight.Call);
        int trader = o.Venue.NewAccount(100_000m);
        o.Venue.Accept(new SetMarginMode(trader, MarginMode.Portfolio));
        decimal price = o.TickAtOrAboveMark(call);
        o.Trade(trader, call, -1m, price);

        // Independently: the loss of one short call in every scenario, Black-76 on the inputs of its mark,
        // with the scenario's forward move and volatility shock, weighted; the worst one binds.
        var instrument = o[call];
        double forward = OptionMarks.ToDouble(instrument.OptionForward);
        double years = YearFraction.Between(instrument.OptionMarkedMicros, OptionsVenue.ExpiryMicros);
        double vol = o.Btc.VolSurface!.Volatility(110_000, forward, OptionsVenue.ExpiryMicros, instrument.OptionMarkedMicros);
        Assert.Equal(0.60, vol, 6);
        var parameters = PortfolioMarginParameters.Default;
        double baseValue = Black76.Evaluate(OptionRight.Call, forward, 110_000, years, vol, 0.0).Price;
        Assert.Equal(instrument.MarkPrice, new Price((long)Math.Floor(baseValue * 1_000_000)));
        var scenarios = o.Engine.MarginScenarios;
        int worst = -1;
        double worstLoss = 0;
        for (int s = 0; s < scenarios.Length; s++)
        {
            double shocked = parameters.ShockedVolatility(vol, years * 365.0, scenarios[s].Shock);
            double value = Black76.Evaluate(OptionRight.Call, forward * (1.0 + scenarios[s].Move), 110_000, years, shocked, 0.0).Price;
            double loss = scenarios[s].Weight * ((value - baseValue) * 1_000_000.0);
            if (loss > worstLoss)
            {
                worstLoss = loss;
                worst = s;
            }
        }

        var report = o.Engine.GetMarginReport(trader)!;
        var risk = Assert.Single(report.Portfolio);
        Assert.Equal(worst, risk.BindingScenario);
        Assert.True(risk.Scenario.MovePpm > 0 && risk.Scenario.Shock == VolShock.Up, $"binding scenario {risk.Scenario}");
        Assert.Equal(new Money((long)Math.Ceiling(worstLoss)), risk.WorstLoss);
        Assert.Equal(new Money((long)Math.Ceiling(instrument.RiskGrid[worst])), risk.WorstLoss);

        // Add-on: 1% of the 100,000 index per net short contract at the strike.
        Assert.Equal(Money.FromWhole(1_000), risk.ShortOptionAddOn);
        Assert.Equal(risk.WorstLoss + Money.FromWhole(1_000), risk.Initial);
        Assert.Equal(risk.Initial.MultiplyPpm(800_000, Rounding.Ceiling), risk.Maintenance);
        Assert.Equal(risk.Initial, report.Initial);
        Assert.Equal(risk.WorstLoss, Assert.Single(report.Positions).Initial);

        // Seen from the other side, nothing: the long call (the bank is in standard margin) gains there.
        Assert.True(instrument.RiskGrid[worst] > 0);
    }

    [Fact]
    public void A_naked_deep_out_of_the_money_short_call_is_caught_by_the_tail_moves()
    {
        // A call struck at twice the index barely moves in the ±16% core grid; the +500% tail, dampened
        // to 16/500 = 3.2%, still costs 3.2% × (6 × 100,000 − 200,000 − premium) ≈ 12.8% of the index.
        var withTails = new MarginLab(100_000m, 0.60);
        var noTails = new MarginLab(100_000m, 0.60, PortfolioMarginParameters.Default with { TailMovesPpm = [] });
        var leg = (MarginLab lab) => new Leg(lab.Option(200_000m, OptionRight.Call), -Quantity.Scale);

        var caught = withTails.Report(MarginMode.Portfolio, leg(withTails));
        var core = noTails.Report(MarginMode.Portfolio, leg(noTails));
        var risk = Assert.Single(caught.Portfolio);
        Assert.Equal(5_000_000, risk.Scenario.MovePpm);
        Assert.True(risk.WorstLoss >= Money.FromWhole(12_500), $"tail loss {risk.WorstLoss}");
        Assert.True(caught.Initial >= Money.FromWhole(13_500), $"requirement {caught.Initial}");
        Assert.True(core.Initial < Money.FromWhole(4_500), $"core grid alone: {core.Initial}");

        // Standard margin for the same position: Deribit's 10% floor plus the mark.
        var standard = withTails.Summary(MarginMode.Standard, leg(withTails));
        var mark = withTails[leg(withTails).Instrument].MarkPrice;
        Assert.Equal(Money.FromWhole(10_000) + Notional.Of(mark, Quantity.FromWhole(1), Rounding.Ceiling), standard.Initial);
    }

    [Fact]
    public void Switching_to_portfolio_margin_is_refused_when_equity_would_not_cover_it_and_changes_nothing()
    {
        // A long future needs 2% in standard margin but 16% in portfolio margin.
        var o = new OptionsVenue();
        int trader = o.Venue.NewAccount(7_000m);
        o.Trade(trader, o.Future, 0.5m, 100_000m); // standard: 1,000 initial; equity 7,000 − 25 fee
        string before = o.Engine.ComputeStateHashHex();
        Assert.Equal(RejectReason.MarginModeUncovered, o.Venue.Apply(new SetMarginMode(trader, MarginMode.Portfolio)));
        Assert.Equal(before, o.Engine.ComputeStateHashHex());
        Assert.Equal(MarginMode.Standard, o.Engine.GetMarginReport(trader)!.Mode);

        // Portfolio: 16% of 50,000 = 8,000. One micro short of it is still refused; exactly 8,000 is not.
        o.Venue.Accept(new Deposit(trader, Money.FromDecimal(1_024.999999m)));
        Assert.Equal(RejectReason.MarginModeUncovered, o.Venue.Apply(new SetMarginMode(trader, MarginMode.Portfolio)));
        o.Venue.Accept(new Deposit(trader, new Money(1)));
        Assert.Equal(Money.FromWhole(8_000), o.Engine.GetMarginSummary(trader).Equity);
        o.Venue.Accept(new SetMarginMode(trader, MarginMode.Portfolio));
        Assert.Equal(MarginMode.Portfolio, o.Engine.GetMarginReport(trader)!.Mode);
        Assert.Equal(Money.FromWhole(8_000), o.Engine.GetMarginSummary(trader).Initial);
    }
}
