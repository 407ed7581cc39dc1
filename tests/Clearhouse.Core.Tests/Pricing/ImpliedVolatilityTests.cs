using Clearhouse.Core.Instruments;
using Clearhouse.Core.Pricing;
using Xunit.Abstractions;

namespace Clearhouse.Core.Tests.Pricing;

public class ImpliedVolatilityTests(ITestOutputHelper output)
{
    [Fact]
    public void Implied_volatility_recovers_Haugs_28_percent_from_the_textbook_price()
    {
        // Haug (2nd ed.) Black-76: F 19, K 19, T 0.75, r 10%, σ 28% → 1.7011 (the exact model price round-trips to 0.28).
        var terms = OptionTerms.Call(19, 0.75);
        double price = Black76.Price(terms, BlackMarket.Create(19, 0.28, 0.10)).Price;
        var result = ImpliedVolatility.TrySolve(terms, 19, price, 0.10);
        Assert.Equal(ImpliedVolatilityStatus.Solved, result.Status);
        Assert.Equal(0.28, result.Volatility, 1e-15);

        // The rounded textbook figure itself gives 28% to within its four decimals.
        Assert.Equal(0.28, ImpliedVolatility.Solve(terms, 19, 1.7011, 0.10), 1e-4);
    }

    [Fact]
    public void Implied_volatility_round_trips_over_20000_random_cases_from_deep_in_to_deep_out_of_the_money()
    {
        var rng = new Random(2015);
        const int cases = 20_000;
        int solved = 0, skipped = 0;
        double worstRelative = 0, worstConditioned = 0, worstWellConditioned = 0;
        int wellConditioned = 0;
        string worstCase = "";
        var iterationCounts = new int[ImpliedVolatility.MaxIterations + 1];
        for (int i = 0; i < cases; i++)
        {
            double forward = Math.Exp(rng.NextDouble() * Math.Log(200_000));
            double years = Math.Exp(Math.Log(1.0 / 365) + rng.NextDouble() * Math.Log(5 * 365.0));
            double vol = Math.Exp(Math.Log(0.01) + rng.NextDouble() * Math.Log(500.0));
            double sd = vol * Math.Sqrt(years);

            // Moneyness ln(F/K) up to ±6 standard deviations (and up to ±3 in absolute terms).
            double x = (rng.NextDouble() * 2 - 1) * Math.Min(6 * sd, 3.0);
            double strike = forward / Math.Exp(x);
            double rate = rng.NextDouble() * 0.1;
            var terms = OptionTerms.Create(rng.Next(2) == 0 ? OptionRight.Call : OptionRight.Put, strike, years);
            var valuation = Black76.Price(terms, BlackMarket.Create(forward, vol, rate));

            // Only prices that carry information about σ: time value above 1e-12 of the price,
            // and the option not worth less than 1e-300 (below that the price has underflowed).
            double discount = Math.Exp(-rate * years);
            double intrinsic = discount * Math.Max(terms.Right == OptionRight.Call ? forward - strike : strike - forward, 0);
            if (valuation.Price - intrinsic <= 1e-12 * valuation.Price || valuation.Price < 1e-300)
            {
                skipped++;
                continue;
            }

            var result = ImpliedVolatility.TrySolve(terms, forward, valuation.Price, rate);
            Assert.True(result.IsSolved, $"{terms} F={forward:R} σ={vol:R} r={rate:R} price={valuation.Price:R}: {result.Status}");
            solved++;
            iterationCounts[result.Iterations]++;

            double relative = Math.Abs(result.Volatility - vol) / vol;

            // The price itself is only known to about 1e-16 of max(F, K)·D (rounding in F·Φ(d1) − K·Φ(d2)).
            // dσ = dPrice / vega, so the attainable relative accuracy is that error over vega·σ.
            double priceUncertainty = 2.2e-16 * discount * Math.Max(forward, strike);
            double attainable = priceUncertainty / (valuation.Vega * vol);
            double conditioned = relative / Math.Max(attainable, 2.2e-16);
            if (relative > worstRelative)
            {
                worstRelative = relative;
                worstCase = $"{terms} F={forward:R} σ={vol:R} r={rate:R} price={valuation.Price:R} → {result.Volatility:R} ({result.Iterations} it.)";
            }

            worstConditioned = Math.Max(worstConditioned, conditioned);
            if (attainable <= 1e-14)
            {
                wellConditioned++;
                worstWellConditioned = Math.Max(worstWellConditioned, relative);
            }

            Assert.True(conditioned <= 64, $"{terms} F={forward:R} σ={vol:R} → {result.Volatility:R}: relative error {relative:E2}, attainable {attainable:E2}");
        }

        var histogram = string.Join(", ", iterationCounts.Select((count, it) => (count, it)).Where(p => p.count > 0).Select(p => $"{p.it}: {p.count}"));
        double mean = iterationCounts.Select((count, it) => (double)count * it).Sum() / solved;
        output.WriteLine($"{solved} solved, {skipped} skipped (no time value left in a double)");
        output.WriteLine($"worst relative σ error {worstRelative:E2}: {worstCase}");
        output.WriteLine($"worst relative σ error {worstWellConditioned:E2} over the {wellConditioned} cases whose price pins σ to 1e-14 or better");
        output.WriteLine($"worst error / attainable (price rounding over vega·σ): {worstConditioned:F1}");
        output.WriteLine($"iterations: mean {mean:F2}; histogram {histogram}");
        Assert.True(solved >= 10_000);
    }

    [Fact]
    public void Prices_outside_the_no_arbitrage_bounds_have_no_implied_volatility()
    {
        var call = OptionTerms.Call(100, 1);
        var put = OptionTerms.Put(100, 1);
        Assert.Equal(ImpliedVolatilityStatus.BelowIntrinsic, ImpliedVolatility.TrySolve(call, 120, 19.99).Status);
        Assert.Equal(ImpliedVolatilityStatus.BelowIntrinsic, ImpliedVolatility.TrySolve(put, 80, 19.99).Status);
        Assert.Equal(ImpliedVolatilityStatus.AboveMaximum, ImpliedVolatility.TrySolve(call, 120, 120).Status);
        Assert.Equal(ImpliedVolatilityStatus.AboveMaximum, ImpliedVolatility.TrySolve(put, 80, 100.5).Status);
        Assert.Equal(ImpliedVolatilityStatus.InvalidInput, ImpliedVolatility.TrySolve(call, 100, -1).Status);
        Assert.Equal(ImpliedVolatilityStatus.InvalidInput, ImpliedVolatility.TrySolve(call, double.NaN, 1).Status);
        Assert.Equal(ImpliedVolatilityStatus.InvalidInput, ImpliedVolatility.TrySolve(OptionTerms.Call(100, 0), 100, 1).Status);
        Assert.True(double.IsNaN(ImpliedVolatility.Solve(call, 120, 19.99)));

        // Exactly the intrinsic value: zero volatility.
        Assert.Equal(0.0, ImpliedVolatility.Solve(call, 120, 20.0));
        Assert.Equal(0.0, ImpliedVolatility.Solve(call, 80, 0.0));
    }

    [Theory]
    [InlineData(100_000, 100_000, 0.5, 1.0 / 365)]   // at the money, a day
    [InlineData(100_000, 300_000, 0.8, 0.25)]        // far out of the money call
    [InlineData(100_000, 20_000, 0.8, 0.25)]         // far in the money call (via put–call parity)
    [InlineData(100, 100.0001, 0.01, 1.0 / 365)]      // tiny σ√T, near the money
    [InlineData(100, 150, 5.0, 5.0)]                  // 500% vol, five years: near the upper bound
    public void Implied_volatility_converges_in_a_few_iterations_at_the_extremes(double forward, double strike, double vol, double years)
    {
        var terms = OptionTerms.Call(strike, years);
        double price = Black76.Price(terms, BlackMarket.Create(forward, vol, 0)).Price;
        var result = ImpliedVolatility.TrySolve(terms, forward, price);
        output.WriteLine($"F={forward} K={strike} σ={vol} T={years}: {result.Volatility:R} in {result.Iterations} iterations");
        Assert.True(result.IsSolved);
        Assert.Equal(vol, result.Volatility, vol * 1e-9);
        Assert.True(result.Iterations <= 6);
    }
}
