using Clearhouse.Core.Engine;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;

namespace Clearhouse.Core.Tests.Liquidation;

/// <summary>
/// The JSON form of a proof (what the venue serves and <c>clearhouse verify-liquidation</c> reads)
/// gives back exactly the proof it was written from — every amount to the micro, every binary64
/// (option volatilities, ADL keys) to the bit — and the verifier treats it like the original.
/// </summary>
public class LiquidationProofDocumentTests
{
    /// <summary>A portfolio-margin liquidation with an option's volatility in it (see <see cref="LiquidationBoundaryTests"/>).</summary>
    internal static LiquidationProof PortfolioProof()
    {
        var (venue, trader, key, reporter) = LiquidationBoundaryTests.PortfolioAccountShortACall();
        venue.Accept(new SetVolatilitySurface(VolSurfaceUpdate.Sign(key, LiquidationBoundaryTests.Surface(venue.Now + 1_000_000, 1.5), reporter)), 2_000_000);
        var step = venue.EventsOf(EventKind.LiquidationStep).First(e => e.AccountId == trader);
        return venue.Proofs[step.ProofIndex];
    }

    /// <summary>A cross liquidation that reached auto-deleveraging (its ranking filled), and an isolated one.</summary>
    internal static (LiquidationProof Adl, LiquidationProof Isolated) PerpetualProofs()
    {
        var venue = new ClockedVenue();
        int btc = venue.ListPerpetual("BTC", 0.5m, 0.001m, 100_000m);
        int[] shorts = [venue.NewAccount(1_000_000m), venue.NewAccount(50_000m), venue.NewAccount(250_000m)];
        int crossed = venue.NewAccount(2_000m);
        int isolated = venue.NewAccount(1_000_000m);
        venue.Accept(new SetIsolatedMargin(isolated, btc, true));
        venue.Trade(crossed, shorts[0], btc, 100_000m, 0.4m);
        venue.Trade(crossed, shorts[1], btc, 100_000m, 0.3m);
        venue.Trade(crossed, shorts[2], btc, 100_000m, 0.3m);
        venue.Trade(isolated, shorts[0], btc, 100_000m, 0.5m);

        venue.SetIndex("BTC", 97_000m); // the cross long gaps through its bankruptcy price; the isolated one is below maintenance
        var steps = venue.EventsOf(EventKind.LiquidationStep).ToArray();
        var adl = venue.Proofs[steps.Single(e => e.AccountId == crossed).ProofIndex];
        var iso = venue.Proofs[steps.Single(e => e.AccountId == isolated).ProofIndex];
        Assert.Equal(3, adl.AdlRanking.Count(c => c.AccountId != 0));
        Assert.Equal(btc, iso.IsolatedInstrumentId);
        return (adl, iso);
    }

    public static TheoryData<string> Kinds => ["portfolio", "adl", "isolated"];

    private static LiquidationProof ProofOf(string kind) => kind switch
    {
        "portfolio" => PortfolioProof(),
        "adl" => PerpetualProofs().Adl,
        _ => PerpetualProofs().Isolated,
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_proof_written_as_json_and_read_back_is_the_same_proof_to_the_bit(string kind)
    {
        var proof = ProofOf(kind);
        Assert.True(LiquidationVerifier.Verify(proof).Valid);

        string json = LiquidationProofDocument.From(proof).ToJson();
        var back = LiquidationProofDocument.FromJson(json).ToProof();

        Assert.True(LiquidationProofs.SameFields(proof, back), json);
        var verdict = LiquidationVerifier.Verify(back);
        Assert.True(verdict.Valid, verdict.Reason);
        Assert.Equal(LiquidationVerifier.Verify(proof).Reason, verdict.Reason);
        Assert.Equal(json, LiquidationProofDocument.From(back).ToJson()); // and writes the same text again

        if (kind == "portfolio")
        {
            Assert.Equal(MarginMode.Portfolio, back.Mode);
            var option = Assert.Single(back.Positions, p => !double.IsNaN(p.OptionVolatility));
            var original = proof.Positions.Single(p => p.InstrumentId == option.InstrumentId);
            Assert.Equal(BitConverter.DoubleToInt64Bits(original.OptionVolatility), BitConverter.DoubleToInt64Bits(option.OptionVolatility));
            Assert.True(option.OptionForward.IsPositive);
        }
    }

    [Fact]
    public void A_document_of_another_version_or_with_a_malformed_amount_is_refused()
    {
        var document = LiquidationProofDocument.From(PerpetualProofs().Adl);
        document.Version = "clearhouse/liquidation-proof/v0";
        Assert.Throws<FormatException>(() => LiquidationProofDocument.FromJson(document.ToJson()).ToProof());

        document.Version = LiquidationProofDocument.CurrentVersion;
        document.Cash = "12,5";
        Assert.Throws<FormatException>(() => LiquidationProofDocument.FromJson(document.ToJson()).ToProof());
    }

    [Fact]
    public void An_isolated_proof_whose_cash_disagrees_with_its_positions_collateral_is_invalid()
    {
        var proof = PerpetualProofs().Isolated;
        var shortfall = proof.Maintenance - proof.Equity;

        // The cash field alone raised: before the fix the verifier judged the position's collateral and ignored it (VALID).
        var verdict = LiquidationVerifier.Verify(proof with { Cash = proof.Cash + shortfall });
        Assert.False(verdict.Valid);
        Assert.Contains("collateral", verdict.Reason);

        // Both raised consistently, with the equity to match: not due.
        var healthy = LiquidationVerifier.Verify(LiquidationProperties.Driver.WithCashRaised(proof, shortfall) with { Equity = proof.Maintenance });
        Assert.False(healthy.Valid);
        Assert.Contains("Not due", healthy.Reason);
    }
}
