using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Margin;

public class MarginTiersTests
{
    private static readonly MarginTiers Tiers = MarginTiers.LargeCap;

    [Theory]
    // notional (USDC), initial (USDC), maintenance (USDC)
    [InlineData(0, 0, 0)]
    [InlineData(100_000, 2_000, 1_000)]
    [InlineData(1_000_000, 20_000, 10_000)]              // boundary: tier 2 rate with its deduction gives the same value
    [InlineData(2_000_000, 60_000, 30_000)]              // 2% of 1M + 4% of 1M
    [InlineData(5_000_000, 180_000, 90_000)]             // 20k + 4% of 4M
    [InlineData(10_000_000, 680_000, 340_000)]           // 180k + 10% of 5M
    [InlineData(30_000_000, 3_680_000, 1_840_000)]       // 180k + 10% of 15M + 20% of 10M
    public void Requirement_is_each_tiers_rate_on_the_notional_within_it(long notional, long initial, long maintenance)
    {
        Assert.Equal(Money.FromWhole(initial), Tiers.Initial(Money.FromWhole(notional)));
        Assert.Equal(Money.FromWhole(maintenance), Tiers.Maintenance(Money.FromWhole(notional)));
    }

    [Fact]
    public void Requirement_is_continuous_at_every_tier_boundary()
    {
        foreach (var tier in Tiers.Tiers.Take(Tiers.Tiers.Count - 1))
        {
            var below = Tiers.Initial(tier.NotionalCap - new Money(1));
            var at = Tiers.Initial(tier.NotionalCap);
            Assert.InRange(at.Micros - below.Micros, 0, 1);
        }
    }

    [Fact]
    public void Requirement_never_decreases_as_the_position_grows()
    {
        var previous = Money.Zero;
        for (long usdc = 0; usdc <= 40_000_000; usdc += 97_531)
        {
            var current = Tiers.Initial(Money.FromWhole(usdc));
            Assert.True(current >= previous, $"{usdc}: {current} < {previous}");
            previous = current;
        }
    }

    [Fact]
    public void A_table_whose_rates_fall_with_size_is_refused()
    {
        var rows = new[]
        {
            new MarginTier(Money.FromWhole(1_000), 50_000, 25_000),
            new MarginTier(new Money(long.MaxValue), 20_000, 10_000),
        };
        Assert.False(MarginTiers.TryValidate(rows, out string? error));
        Assert.Contains("not decrease", error);
    }

    [Fact]
    public void Maintenance_above_initial_is_refused() =>
        Assert.False(MarginTiers.TryValidate([new MarginTier(new Money(long.MaxValue), 10_000, 20_000)], out _));
}
