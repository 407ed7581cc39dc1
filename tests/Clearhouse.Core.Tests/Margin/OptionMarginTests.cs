using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Tests.Margin;

/// <summary>
/// Deribit's standard option margin (<see cref="OptionMargin"/>) against published worked examples
/// and hand computations, to the micro-USDC.
/// </summary>
public class OptionMarginTests
{
    private static readonly OptionMarginRates Deribit = OptionMarginRates.Deribit;

    [Fact]
    public void Bitcom_usdt_margined_eth_put_example_is_reproduced_to_the_unit()
    {
        // bit.com, "Margin Rules for USDT Margined Options" (Deribit's formula),
        // https://hc.bitexch.dev/en/articles/9771460-margin-rules-for-usdt-margined-options :
        // short ETH put, underlying 2098, strike 1850, mark 2.4, size 50.
        //   maintenance = max(0.075 × 2098, 0.075 × 2.4) + 2.4 = 159.75 per contract; × 50 = 7,987.5
        //   initial     = max(0.15 × 2098 − (2098 − 1850), 0.1 × 2098) + 2.4 = 212.2 per contract; × 50 = 10,610
        var underlying = Price.FromDecimal(2_098m);
        var strike = Price.FromDecimal(1_850m);
        var mark = Price.FromDecimal(2.4m);

        Assert.Equal(Price.FromDecimal(159.75m), OptionMargin.ShortMaintenancePerContract(OptionRight.Put, underlying, mark, Deribit));
        Assert.Equal(Price.FromDecimal(212.2m), OptionMargin.ShortInitialPerContract(OptionRight.Put, strike, underlying, mark, Deribit));
        Assert.Equal(Money.FromDecimal(10_610m), OptionMargin.InitialOfSize(Quantity.FromWhole(-50), OptionRight.Put, strike, underlying, mark, Deribit));

        var position = new Accounts.Position { Size = Quantity.FromWhole(-50) };
        Assert.Equal(Money.FromDecimal(7_987.5m), OptionMargin.Maintenance(position, OptionRight.Put, underlying, mark, Deribit));
        Assert.Equal(Money.FromDecimal(10_610m), OptionMargin.Initial(position, OptionRight.Put, strike, underlying, mark, Deribit));
    }

    /// <summary>
    /// Short calls by Deribit's formula (doc.tslab.pro, "Deribit Margin Requirements Calculation"):
    /// initial = max(0.15 − OTM/U, 0.1) + mark and maintenance = 0.075 + mark, in underlying units;
    /// ours is the same × U, in USDC.
    /// </summary>
    [Theory]
    // underlying, strike, mark, initial per contract, maintenance per contract
    // 10% OTM: max(15,000 − 10,000, 10,000) + 1,500 = 11,500; 7,500 + 1,500 = 9,000
    [InlineData(100_000, 110_000, 1_500, 11_500, 9_000)]
    // 3% OTM: the discount still leaves more than the floor: 15,000 − 3,000 + 4,000 = 16,000
    [InlineData(100_000, 103_000, 4_000, 16_000, 11_500)]
    // in the money: no discount: 15,000 + 11,000 = 26,000; 7,500 + 11,000 = 18,500
    [InlineData(100_000, 90_000, 11_000, 26_000, 18_500)]
    // deep out of the money: the 10% floor: 10,000 + 5 = 10,005; 7,500 + 5 = 7,505
    [InlineData(100_000, 200_000, 5, 10_005, 7_505)]
    // at the money: 15,000 + 4,800 = 19,800
    [InlineData(100_000, 100_000, 4_800, 19_800, 12_300)]
    public void Short_call_per_contract_follows_deribits_formula(long underlying, long strike, long mark, long initial, long maintenance)
    {
        var u = Price.FromWhole(underlying);
        var k = Price.FromWhole(strike);
        var m = Price.FromWhole(mark);
        Assert.Equal(Price.FromWhole(initial), OptionMargin.ShortInitialPerContract(OptionRight.Call, k, u, m, Deribit));
        Assert.Equal(Price.FromWhole(maintenance), OptionMargin.ShortMaintenancePerContract(OptionRight.Call, u, m, Deribit));
    }

    [Theory]
    // underlying, strike, mark, initial per contract, maintenance per contract
    // 10% OTM put: max(15,000 − 10,000, 10,000) + 800 = 10,800; max(7,500, 60) + 800 = 8,300
    [InlineData(100_000, 90_000, 800, 10_800, 8_300)]
    // ITM put: 15,000 + 50,500 = 65,500; max(7,500, 3,787.5) + 50,500 = 58,000
    [InlineData(100_000, 150_000, 50_500, 65_500, 58_000)]
    // Deep ITM put whose mark is over twice the underlying: 7.5% of the mark (22,500) beats 7.5% of U,
    // and the initial is raised to the maintenance: max(15,000 + 300,000, 22,500 + 300,000) = 322,500.
    [InlineData(100_000, 400_000, 300_000, 322_500, 322_500)]
    public void Short_put_per_contract_follows_deribits_formula_and_initial_never_falls_below_maintenance(long underlying, long strike, long mark, long initial, long maintenance)
    {
        var u = Price.FromWhole(underlying);
        var k = Price.FromWhole(strike);
        var m = Price.FromWhole(mark);
        Assert.Equal(Price.FromWhole(initial), OptionMargin.ShortInitialPerContract(OptionRight.Put, k, u, m, Deribit));
        Assert.Equal(Price.FromWhole(maintenance), OptionMargin.ShortMaintenancePerContract(OptionRight.Put, u, m, Deribit));
    }

    [Fact]
    public void Per_contract_figures_round_up_against_the_account()
    {
        // U = 100,000.000003: 15% is 15,000.00000045 and 10% 10,000.0000003, 7.5% 7,500.000000225;
        // each rounds up to the next micro.
        var u = new Price(100_000_000_003);
        var k = new Price(200_000_000_000);
        Assert.Equal(new Price(10_000_000_001 + 5_000_000), OptionMargin.ShortInitialPerContract(OptionRight.Call, k, u, Price.FromWhole(5), Deribit));
        Assert.Equal(new Price(7_500_000_001 + 5_000_000), OptionMargin.ShortMaintenancePerContract(OptionRight.Call, u, Price.FromWhole(5), Deribit));

        // 0.01 contract of an 11,500.000001 requirement is 115.00000001: rounds up to 115.000001.
        var small = OptionMargin.InitialOfSize(Quantity.FromDecimal(-0.01m), OptionRight.Call, Price.FromWhole(110_000), Price.FromWhole(100_000), new Price(1_500_000_001), Deribit);
        Assert.Equal(Money.FromDecimal(115.000001m), small);
    }

    [Fact]
    public void A_long_option_needs_its_value_at_the_mark_rounded_down_and_no_maintenance()
    {
        var mark = new Price(1_500_123_457);
        var size = Quantity.FromDecimal(0.03m);
        // 0.03 × 1,500.123457 = 45.00370371: the value rounds down, like the equity it is part of.
        Assert.Equal(new Money(45_003_703), OptionMargin.InitialOfSize(size, OptionRight.Call, Price.FromWhole(110_000), Price.FromWhole(100_000), mark, Deribit));
        var position = new Accounts.Position { Size = size };
        Assert.Equal(Money.Zero, OptionMargin.Maintenance(position, OptionRight.Call, Price.FromWhole(100_000), mark, Deribit));
    }

    [Fact]
    public void Open_orders_count_on_their_worse_side_and_orders_through_the_mark_add_their_loss()
    {
        var u = Price.FromWhole(100_000);
        var k = Price.FromWhole(110_000);
        var mark = Price.FromWhole(1_500);

        // Long 2, resting sell 5: the worse side is short 3 (3 × 11,500 = 34,500), not long 2 (3,000).
        var position = new Accounts.Position
        {
            Size = Quantity.FromWhole(2),
            OpenSellQuantity = Quantity.FromWhole(5),
            OpenSellNotional = Money.FromWhole(5 * 1_400), // five sold at 1,400: 100 each below the mark
        };
        Assert.Equal(Money.FromWhole(34_500 + 500), OptionMargin.Initial(position, OptionRight.Call, k, u, mark, Deribit));

        // Flat with a buy of 2 at 1,600: the premium at the mark (3,000) plus the 2 × 100 paid over it.
        var buyer = new Accounts.Position { OpenBuyQuantity = Quantity.FromWhole(2), OpenBuyNotional = Money.FromWhole(3_200) };
        Assert.Equal(Money.FromWhole(3_200), OptionMargin.Initial(buyer, OptionRight.Call, k, u, mark, Deribit));
    }
}
