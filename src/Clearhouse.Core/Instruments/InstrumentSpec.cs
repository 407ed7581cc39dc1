using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;

namespace Clearhouse.Core.Instruments;

/// <summary>
/// Everything needed to list an instrument: its terms and its trading parameters.
/// </summary>
/// <param name="Terms">What the contract is.</param>
/// <param name="TickSize">Smallest price increment; every order price is a multiple of it.</param>
/// <param name="MinAmount">Lot size: every order amount is a positive multiple of it.</param>
/// <param name="MakerFeePpm">Maker fee in ppm of notional; negative is a rebate, never larger than the taker fee.</param>
/// <param name="TakerFeePpm">Taker fee in ppm of notional, 0 to 100,000 (10%).</param>
/// <param name="Tiers">Tiered margin for futures and perpetuals.</param>
/// <param name="MarketProtectionPpm">How far from the mark a market order may fill, in ppm (e.g. 50,000 = 5%).</param>
public sealed record InstrumentSpec(
    InstrumentTerms Terms,
    Price TickSize,
    Quantity MinAmount,
    int MakerFeePpm,
    int TakerFeePpm,
    MarginTiers Tiers,
    int MarketProtectionPpm)
{
    public string Name => Terms.Name;

    /// <summary>Defaults modelled on Deribit's linear USDC perpetuals: 0 maker, 0.05% taker, 5% market protection.</summary>
    public static InstrumentSpec Create(InstrumentTerms terms, Price tickSize, Quantity minAmount, int makerFeePpm = 0, int takerFeePpm = 500, MarginTiers? tiers = null, int marketProtectionPpm = 50_000) =>
        new(terms, tickSize, minAmount, makerFeePpm, takerFeePpm, tiers ?? MarginTiers.LargeCap, marketProtectionPpm);

    public bool TryValidate(out string? error)
    {
        error = null;
        if (!TickSize.IsPositive)
        {
            error = "The tick size must be positive.";
        }
        else if (!MinAmount.IsPositive)
        {
            error = "The minimum amount (lot) must be positive.";
        }
        else if (TakerFeePpm is < 0 or > 100_000)
        {
            error = "The taker fee must be between 0 and 100,000 ppm (10%).";
        }
        else if (MakerFeePpm > 100_000 || MakerFeePpm < -TakerFeePpm)
        {
            error = "The maker fee must be at most 10%, and a maker rebate may not exceed the taker fee (the fee account must never pay out more than it takes on a trade).";
        }
        else if (MarketProtectionPpm is <= 0 or >= 1_000_000)
        {
            error = "Market protection must be between 1 and 999,999 ppm of the mark.";
        }

        return error is null;
    }
}
