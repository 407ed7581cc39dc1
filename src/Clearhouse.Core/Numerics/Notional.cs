namespace Clearhouse.Core.Numerics;

/// <summary>Products of price and quantity, formed exactly and rounded explicitly.</summary>
public static class Notional
{
    /// <summary>
    /// <c>price × quantity</c> in money. Price is 1e-6 USDC and quantity 1e-8 units, so the exact
    /// product has scale 1e-14 and is divided by 1e8 with the rounding the caller names.
    /// Signed: a negative quantity (short) gives a negative value.
    /// </summary>
    public static Money Of(Price price, Quantity quantity, Rounding rounding) =>
        new(FixedMath.MulDiv(price.Micros, quantity.Units, Quantity.Scale, rounding));
}
