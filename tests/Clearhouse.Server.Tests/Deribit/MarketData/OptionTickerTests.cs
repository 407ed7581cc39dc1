using Clearhouse.Core.Instruments;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Pricing;
using Clearhouse.Server.Demo;

namespace Clearhouse.Server.Tests.Deribit.MarketData;

/// <summary>
/// <c>public/ticker</c> of an option: Greeks and volatilities in Deribit's conventions (vega per
/// volatility point, theta per day, IV in percent; https://docs.deribit.com/#public-ticker), checked
/// against Black-76 written out independently here (Black 1976; Hull, "Options, Futures, and Other
/// Derivatives", ch. 18) on the inputs of the option's mark, read from the engine.
/// </summary>
public sealed class OptionTickerTests(MarketDataVenue venue) : IClassFixture<MarketDataVenue>
{
    [Fact]
    public async Task An_options_ticker_carries_Black76_greeks_its_mark_volatility_and_the_volatility_implied_by_its_bid()
    {
        // Signed reporters give BTC an index and a volatility surface, as the demo's do; option marks follow.
        var oracle = new DemoOracle(venue.Sequencer, "BTC", TimeProvider.System, new Random(7));
        await oracle.SetUpAsync(CancellationToken.None);
        await oracle.ReportAsync(Price.FromWhole(95_000), CancellationToken.None);
        await oracle.PublishSurfaceIfDueAsync(CancellationToken.None);

        string call = await venue.Sequencer.QueryAsync(e => e.Instruments.First(i => i.Kind == InstrumentKind.Option && i.Underlying.Name == "BTC" && i.Spec.Terms.Right == OptionRight.Call && i.Spec.Terms.Strike == Price.FromWhole(95_000)).Name);
        string put = call[..^1] + "P";
        Assert.True(await RunningServer.EventuallyAsync(async () => (await venue.ResultAsync("public/ticker", $"instrument_name={call}")).TryGetProperty("greeks", out _), TimeSpan.FromSeconds(15)));

        int maker = await venue.FundedAccountAsync();
        await venue.LimitAsync(maker, call, Side.Buy, 1_000m, 0.1m);

        // The mark's inputs, then the tickers, then the inputs again: options are re-marked every second
        // of sequencer time, so read until no re-mark fell in between.
        int id = venue.InstrumentId(call);
        (double Forward, double Strike, double Years, double Vol) inputs = default;
        System.Text.Json.JsonElement ticker = default, putTicker = default;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            inputs = await MarkInputsAsync(id);
            ticker = await venue.ResultAsync("public/ticker", $"instrument_name={call}");
            putTicker = await venue.ResultAsync("public/ticker", $"instrument_name={put}");
            if (await MarkInputsAsync(id) == inputs)
            {
                break;
            }
        }

        var (forward, strike, years, vol) = inputs;
        var expected = IndependentBlack76.Call(forward, strike, years, vol);
        // Tolerances: the ticker rounds delta, vega, theta and rho to 5 decimals and gamma to 8; the
        // CDF here is good to 1.5e-7, which is up to 0.02 USDC of a price on a 95,000 forward.
        var greeks = ticker.GetProperty("greeks");
        Assert.Equal(expected.Delta, greeks.GetProperty("delta").GetDouble(), 1e-5);
        Assert.Equal(expected.Gamma, greeks.GetProperty("gamma").GetDouble(), 1e-8);
        Assert.Equal(expected.Vega / 100, greeks.GetProperty("vega").GetDouble(), 1e-5);          // per volatility point
        Assert.Equal(expected.Theta / 365, greeks.GetProperty("theta").GetDouble(), 1e-5);        // per calendar day
        Assert.Equal(-years * expected.Price / 100, greeks.GetProperty("rho").GetDouble(), (years * 0.03 / 100) + 5e-6); // per rate point; Black-76: ∂V/∂r = −T·V
        Assert.Equal(vol * 100, ticker.GetProperty("mark_iv").GetDouble(), 0.005 + 1e-9);
        Assert.Equal((decimal)forward, ticker.GetProperty("underlying_price").GetDecimal());
        Assert.Equal(expected.Price, (double)ticker.GetProperty("mark_price").GetDecimal(), 0.03);
        Assert.Equal(0m, ticker.GetProperty("interest_rate").GetDecimal());
        Assert.False(ticker.TryGetProperty("funding_8h", out _));

        // Put-call parity of deltas at r = 0: Δcall − Δput = 1.
        Assert.Equal(1.0, greeks.GetProperty("delta").GetDouble() - putTicker.GetProperty("greeks").GetProperty("delta").GetDouble(), 2e-5);

        // bid_iv is the volatility at which Black-76 gives the best bid (to the 0.01 point it is rounded to).
        double bidIv = ticker.GetProperty("bid_iv").GetDouble() / 100;
        double halfPoint = expected.Vega * 0.00005;
        Assert.InRange(IndependentBlack76.Call(forward, strike, years, bidIv).Price, 1_000 - halfPoint - 0.03, 1_000 + halfPoint + 0.03);
        Assert.False(ticker.TryGetProperty("ask_iv", out _)); // no ask
    }

    private Task<(double Forward, double Strike, double Years, double Vol)> MarkInputsAsync(int id) =>
        venue.Sequencer.QueryAsync(e =>
        {
            var option = e.Instruments[id - 1];
            var terms = option.Spec.Terms;
            double f = OptionMarks.ToDouble(option.OptionForward);
            double k = OptionMarks.ToDouble(terms.Strike);
            return (f, k, YearFraction.Between(option.OptionMarkedMicros, terms.ExpiryMicros), option.Underlying.VolSurface!.Volatility(k, f, terms.ExpiryMicros, option.OptionMarkedMicros));
        });

    /// <summary>Black-76 at r = 0, written from the textbook formulas with the system math library.</summary>
    private static class IndependentBlack76
    {
        public static (double Price, double Delta, double Gamma, double Vega, double Theta) Call(double f, double k, double t, double sigma)
        {
            double sd = sigma * Math.Sqrt(t);
            double d1 = (Math.Log(f / k) + (sd * sd / 2)) / sd;
            double d2 = d1 - sd;
            double pdf = Math.Exp(-d1 * d1 / 2) / Math.Sqrt(2 * Math.PI);
            return (
                f * Cdf(d1) - k * Cdf(d2),
                Cdf(d1),
                pdf / (f * sd),
                f * pdf * Math.Sqrt(t),
                -f * pdf * sigma / (2 * Math.Sqrt(t)));
        }

        /// <summary>Φ(x) via Abramowitz &amp; Stegun 7.1.26 for erf (|error| ≤ 1.5e-7).</summary>
        private static double Cdf(double x)
        {
            double z = Math.Abs(x) / Math.Sqrt(2);
            double t = 1 / (1 + 0.3275911 * z);
            double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-z * z);
            return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
        }
    }
}
