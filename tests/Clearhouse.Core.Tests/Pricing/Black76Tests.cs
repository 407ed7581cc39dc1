using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;

namespace Clearhouse.Core.Tests.Pricing;

public class Black76Tests
{
    [Theory]
    // Hull, "Options, Futures, and Other Derivatives" (Black–Scholes–Merton chapter, worked example):
    // S 42, K 40, r 10%, σ 20%, T 0.5 → call 4.76, put 0.81 (4.7594 / 0.8086 to four places).
    [InlineData(OptionRight.Call, 42.0, 40.0, 0.10, 0.20, 0.5, 4.7594)]
    [InlineData(OptionRight.Put, 42.0, 40.0, 0.10, 0.20, 0.5, 0.8086)]
    // Haug, "The Complete Guide to Option Pricing Formulas" (2nd ed.), 1.1.1 Black–Scholes:
    // S 60, K 65, T 0.25, r 8%, σ 30% → call 2.1334.
    [InlineData(OptionRight.Call, 60.0, 65.0, 0.08, 0.30, 0.25, 2.1334)]
    public void Black_Scholes_matches_the_textbook_values(OptionRight right, double spot, double strike, double rate, double vol, double years, double expected)
    {
        var value = BlackScholes.Price(OptionTerms.Create(right, strike, years), new SpotMarket(spot, vol, rate));
        Assert.Equal(expected, value.Price, 0.00005);
    }

    [Theory]
    // Haug (2nd ed.), 1.1.4 Options on futures, the Black-76 model: F 19, K 19, T 0.75, r 10%, σ 28%
    // → call = put = 1.7011 (at the money forward, put–call parity makes them equal).
    [InlineData(OptionRight.Call)]
    [InlineData(OptionRight.Put)]
    public void Black76_matches_Haug_at_the_money_forward(OptionRight right)
    {
        var value = Black76.Price(OptionTerms.Create(right, 19.0, 0.75), BlackMarket.Create(19.0, 0.28, 0.10));
        Assert.Equal(1.7011, value.Price, 0.00005);
    }

    [Fact]
    public void Call_minus_put_is_the_discounted_forward_minus_strike()
    {
        var rng = new Random(76);
        for (int i = 0; i < 10_000; i++)
        {
            var c = RandomCase(rng);
            var call = Black76.Price(OptionTerms.Call(c.Strike, c.Years), c.Market);
            var put = Black76.Price(OptionTerms.Put(c.Strike, c.Years), c.Market);
            double discount = Math.Exp(-c.Market.Rate * c.Years);
            double parity = discount * (c.Market.Forward - c.Strike);
            double scale = discount * Math.Max(c.Market.Forward, c.Strike);
            Assert.True(Math.Abs(call.Price - put.Price - parity) <= 1e-14 * scale * 4, $"{c}: C−P = {call.Price - put.Price:R}, D(F−K) = {parity:R}");

            // Greeks obey parity too: Δc − Δp = D, Γ and vega equal.
            Assert.Equal(discount, call.Delta - put.Delta, 1e-14);
            Assert.Equal(call.Gamma, put.Gamma, Math.Abs(call.Gamma) * 1e-15);
            Assert.Equal(call.Vega, put.Vega, Math.Abs(call.Vega) * 1e-15);
        }
    }

    [Fact]
    public void Greeks_match_central_finite_differences()
    {
        var rng = new Random(1976);
        int checkedCount = 0;
        for (int i = 0; i < 3_000; i++)
        {
            var c = RandomCase(rng);
            var right = rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put;
            var terms = OptionTerms.Create(right, c.Strike, c.Years);
            var v = Black76.Price(terms, c.Market);
            if (v.Price < 1e-6 * c.Strike)
            {
                continue; // far-out options: the differences are pure rounding noise
            }

            double F = c.Market.Forward, s = c.Market.Volatility, r = c.Market.Rate, T = c.Years;
            double P(double f, double vol, double rate, double years) =>
                Black76.Price(OptionTerms.Create(right, c.Strike, years), BlackMarket.Create(f, vol, rate)).Price;

            // Steps scaled to the option: a fraction of one standard deviation of the forward, of σ, of T.
            double sd = s * Math.Sqrt(T);
            double hF = 1e-4 * F * Math.Min(sd, 1.0), hS = 1e-5 * s, hR = 1e-5, hT = 1e-5 * T;
            double delta = (P(F + hF, s, r, T) - P(F - hF, s, r, T)) / (2 * hF);
            double gamma = (P(F + hF, s, r, T) - 2 * v.Price + P(F - hF, s, r, T)) / (hF * hF);
            double vega = (P(F, s + hS, r, T) - P(F, s - hS, r, T)) / (2 * hS);
            double rho = (P(F, s, r + hR, T) - P(F, s, r - hR, T)) / (2 * hR);
            double theta = -(P(F, s, r, T + hT) - P(F, s, r, T - hT)) / (2 * hT);

            double scale = Math.Max(F, c.Strike);
            // Tolerance: relative 1e-5 of the Greek, plus the rounding noise of the differenced prices.
            double noise = 1e-13 * scale;
            Assert.True(Math.Abs(delta - v.Delta) <= 1e-5 * Math.Abs(v.Delta) + noise / hF, $"{c} {right}: delta {v.Delta} vs {delta}");
            Assert.True(Math.Abs(gamma - v.Gamma) <= 1e-4 * Math.Abs(v.Gamma) + 4 * noise / (hF * hF), $"{c} {right}: gamma {v.Gamma} vs {gamma}");
            Assert.True(Math.Abs(vega - v.Vega) <= 1e-5 * Math.Abs(v.Vega) + noise / hS, $"{c} {right}: vega {v.Vega} vs {vega}");
            Assert.True(Math.Abs(rho - v.Rho) <= 1e-5 * Math.Abs(v.Rho) + noise / hR, $"{c} {right}: rho {v.Rho} vs {rho}");
            Assert.True(Math.Abs(theta - v.Theta) <= 1e-5 * Math.Abs(v.Theta) + noise / hT, $"{c} {right}: theta {v.Theta} vs {theta}");
            checkedCount++;
        }

        Assert.True(checkedCount > 1_000);
    }

    [Fact]
    public void Black_Scholes_greeks_are_with_respect_to_spot()
    {
        // Hull's example: S 42, K 40, r 10%, σ 20%, T 0.5.
        var terms = OptionTerms.Call(40, 0.5);
        var v = BlackScholes.Price(terms, new SpotMarket(42, 0.2, 0.1));
        double P(double spot, double vol, double rate, double years) => BlackScholes.Price(OptionTerms.Call(40, years), new SpotMarket(spot, vol, rate)).Price;
        Assert.Equal((P(42.001, 0.2, 0.1, 0.5) - P(41.999, 0.2, 0.1, 0.5)) / 0.002, v.Delta, 1e-7);
        Assert.Equal((P(42.01, 0.2, 0.1, 0.5) - 2 * v.Price + P(41.99, 0.2, 0.1, 0.5)) / 0.0001, v.Gamma, 1e-6);
        Assert.Equal((P(42, 0.2, 0.10001, 0.5) - P(42, 0.2, 0.09999, 0.5)) / 0.00002, v.Rho, 1e-6);
        Assert.Equal(-(P(42, 0.2, 0.1, 0.50001) - P(42, 0.2, 0.1, 0.49999)) / 0.00002, v.Theta, 1e-5);

        // Closed forms: Δ = Φ(d1) = 0.7791, ρ = K·T·e^(−rT)·Φ(d2) = 13.9 (Hull's figures for this example).
        Assert.Equal(0.7791, v.Delta, 0.0001);
    }

    [Fact]
    public void At_expiry_or_zero_volatility_an_option_is_worth_its_discounted_intrinsic_value()
    {
        var market = BlackMarket.Create(105, 0.5, 0.05);
        var itm = Black76.Price(OptionTerms.Call(100, 0), market);
        Assert.Equal(5.0, itm.Price);
        Assert.Equal(1.0, itm.Delta);
        Assert.Equal(0.0, itm.Gamma);
        Assert.Equal(0.0, itm.Vega);
        Assert.Equal(0.0, Black76.Price(OptionTerms.Put(100, 0), market).Price);
        Assert.Equal(0.5, Black76.Price(OptionTerms.Call(105, 0), market).Delta);

        var zeroVol = Black76.Price(OptionTerms.Put(110, 2.0), BlackMarket.Create(100, 0.0, 0.05));
        Assert.Equal(10.0 * Math.Exp(-0.1), zeroVol.Price, 1e-14);
        Assert.Equal(-Math.Exp(-0.1), zeroVol.Delta, 1e-15);

        // Far out of the money: a tiny but non-negative value; far in: the intrinsic value.
        var otm = Black76.Price(OptionTerms.Call(1_000_000, 1.0 / 365), BlackMarket.Create(100_000, 0.5, 0));
        Assert.Equal(0.0, otm.Price);
        var deepItm = Black76.Price(OptionTerms.Call(10_000, 1.0 / 365), BlackMarket.Create(100_000, 0.5, 0));
        Assert.Equal(90_000.0, deepItm.Price);
        Assert.Equal(1.0, deepItm.Delta);
    }

    [Fact]
    public void Invalid_terms_and_market_data_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OptionTerms.Call(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OptionTerms.Call(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OptionTerms.Call(double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OptionTerms.Call(100, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OptionTerms.Create(OptionRight.None, 100, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlackMarket.Create(0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlackMarket.Create(-100, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlackMarket.Create(100, -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlackMarket.Create(100, 0.5, double.PositiveInfinity));
        Assert.True(double.IsNaN(Black76.Evaluate(OptionRight.Call, -1, 100, 1, 0.5, 0).Price));
        Assert.True(double.IsNaN(Black76.Evaluate(OptionRight.None, 100, 100, 1, 0.5, 0).Delta));
    }

    internal readonly record struct Case(double Strike, double Years, BlackMarket Market);

    /// <summary>Forward 1 to 200,000; strike within about ×/÷ e^2.5 of it; σ 1%–500%; T a day to 5 years; r −2%..15%.</summary>
    internal static Case RandomCase(Random rng)
    {
        double forward = Math.Exp(rng.NextDouble() * Math.Log(200_000));
        double years = Math.Exp(Math.Log(1.0 / 365) + rng.NextDouble() * Math.Log(5 * 365.0));
        double vol = Math.Exp(Math.Log(0.01) + rng.NextDouble() * Math.Log(500.0));
        double strike = forward * Math.Exp((rng.NextDouble() - 0.5) * 5.0 * Math.Min(1.0, vol * Math.Sqrt(years) + 0.1));
        double rate = -0.02 + rng.NextDouble() * 0.17;
        return new Case(strike, years, BlackMarket.Create(forward, vol, rate));
    }
}
