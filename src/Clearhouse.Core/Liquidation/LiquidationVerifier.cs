using Clearhouse.Core.Accounts;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;

namespace Clearhouse.Core.Liquidation;

/// <summary>The verdict on a liquidation proof.</summary>
public readonly record struct LiquidationVerdict(bool Valid, string Reason);

/// <summary>
/// Checks a <see cref="LiquidationProof"/> from its contents alone: rebuilds the account's
/// positions, prices and (for options) scenario grids, recomputes equity, maintenance and
/// initial with the same code the engine uses, and checks that the step was due (equity strictly
/// below maintenance), that the position chosen is the one the rules pick, and that the step size
/// and the bankruptcy price follow the rules. A proof for a healthy account, or one whose figures
/// do not follow from its inputs, is rejected with the first discrepancy found.
/// </summary>
public static class LiquidationVerifier
{
    public static LiquidationVerdict Verify(LiquidationProof proof, EngineConfig? config = null)
    {
        config ??= EngineConfig.Default;
        if (proof.Positions.Count == 0)
        {
            return new(false, "The proof lists no position.");
        }

        // Rebuild the account with instruments numbered 1..n in the proof's (instrument id) order,
        // so that every sum runs in the same order as in the engine and gives the same bits.
        var underlyingList = new List<Underlying>();
        var underlyingById = new Dictionary<int, Underlying>();
        foreach (var u in proof.Underlyings)
        {
            var rebuilt = new Underlying(underlyingList.Count + 1, u.Name, new IndexTwap()) { IndexPrice = u.Index };
            underlyingList.Add(rebuilt);
            underlyingById[u.Id] = rebuilt;
        }

        var instrumentList = new List<Instrument>();
        var margin = new AccountMargin(instrumentList, underlyingList, config.OptionMargin, config.PortfolioMargin);
        var grid = new OptionRiskGrid(config.PortfolioMargin);
        var account = new Account(proof.AccountId, proof.Positions.Count + 1) { Cash = proof.Cash, MarginMode = proof.Mode };
        var marks = new Price[proof.Positions.Count + 1];
        var newIdOf = new Dictionary<int, int>();
        var groups = new Dictionary<(DateOnly, long, int), int>();
        int previousId = 0;
        foreach (var p in proof.Positions)
        {
            if (p.InstrumentId <= previousId)
            {
                return new(false, "Positions must be listed once each, by increasing instrument id.");
            }

            previousId = p.InstrumentId;
            var underlyingName = p.Spec.Terms.Underlying;
            var underlying = underlyingList.Find(u => u.Name == underlyingName);
            if (underlying is null)
            {
                return new(false, $"No index given for underlying {underlyingName}.");
            }

            int id = instrumentList.Count + 1;
            var instrument = new Instrument(id, p.Spec, underlying, new ReferenceOrderBook(), 0, config.MarkClampPpm)
            {
                OptionForward = p.OptionForward,
                OptionMarkedMicros = p.OptionMarkedMicros,
                OptionMark = p.Spec.Terms.Kind == InstrumentKind.Option ? p.Mark : Price.Zero,
            };
            instrumentList.Add(instrument);
            newIdOf[p.InstrumentId] = id;
            marks[id] = p.Mark;
            if (instrument.Kind == InstrumentKind.Option)
            {
                var terms = p.Spec.Terms;
                var key = (terms.ExpiryDate!.Value, terms.Strike.Micros, underlying.Id);
                if (!groups.TryGetValue(key, out int group))
                {
                    group = groups.Count;
                    groups[key] = group;
                    margin.RegisterGroup(group, underlying.Id);
                }

                instrument.StrikeGroup = group;
                if (proof.Mode == MarginMode.Portfolio)
                {
                    double vol = double.IsNaN(p.OptionVolatility) ? 0.0 : p.OptionVolatility;
                    var input = new OptionRiskInput(terms.Right, Pricing.OptionMarks.ToDouble(terms.Strike), Pricing.OptionMarks.ToDouble(p.OptionForward), Pricing.YearFraction.Between(p.OptionMarkedMicros, terms.ExpiryMicros), vol);
                    instrument.EnsureRiskGrid(grid.ScenarioCount);
                    grid.Compute([input], instrument.RiskGridStorage, new double[1], config.PricingPath);
                }
            }

            ref var position = ref account.PositionIn(id);
            position.Size = p.Size;
            position.OpenCost = p.OpenCost;
            position.OpenBuyQuantity = p.OpenBuyQuantity;
            position.OpenSellQuantity = p.OpenSellQuantity;
            position.OpenBuyNotional = p.OpenBuyNotional;
            position.OpenSellNotional = p.OpenSellNotional;
            position.Isolated = p.Isolated;
            position.IsolatedCash = p.IsolatedCash;
            account.Activate(id);
        }

        margin.UseMarks(marks);
        MarginSummary summary;
        if (proof.IsolatedInstrumentId != 0)
        {
            if (!newIdOf.TryGetValue(proof.IsolatedInstrumentId, out int isolatedId) || proof.Positions.Count != 1 || !account.GetPosition(isolatedId).Isolated)
            {
                return new(false, "An isolated liquidation must list exactly its isolated position.");
            }

            // The proof's cash is the isolated position's collateral: the two must agree, or a proof could claim one and be judged on the other.
            var collateral = account.GetPosition(isolatedId).IsolatedCash;
            if (collateral != proof.Cash)
            {
                return new(false, $"The cash of an isolated liquidation is its position's collateral {collateral}, not {proof.Cash}.");
            }

            summary = margin.Isolated(instrumentList[isolatedId - 1], account.GetPosition(isolatedId));
        }
        else
        {
            if (proof.Positions.Any(p => p.Isolated))
            {
                return new(false, "A cross liquidation lists only cross positions.");
            }

            summary = margin.Cross(account);
        }

        if (summary.Equity != proof.Equity)
        {
            return new(false, $"Equity recomputes to {summary.Equity}, not {proof.Equity}.");
        }

        if (summary.Maintenance != proof.Maintenance)
        {
            return new(false, $"Maintenance recomputes to {summary.Maintenance}, not {proof.Maintenance}.");
        }

        if (summary.Initial != proof.Initial)
        {
            return new(false, $"Initial margin recomputes to {summary.Initial}, not {proof.Initial}.");
        }

        if (summary.Equity >= summary.Maintenance)
        {
            return new(false, $"Not due: equity {summary.Equity} is not below maintenance {summary.Maintenance}.");
        }

        // The position the rules pick.
        int expected;
        if (proof.IsolatedInstrumentId != 0)
        {
            expected = proof.IsolatedInstrumentId;
        }
        else
        {
            int best = LiquidationRules.LargestContribution(margin.Report(account).Positions);
            expected = best == 0 ? 0 : proof.Positions[best - 1].InstrumentId;
        }

        if (expected != proof.ChosenInstrumentId)
        {
            return new(false, $"The rules close instrument {expected} first, not {proof.ChosenInstrumentId}.");
        }

        var chosen = proof.Positions.First(p => p.InstrumentId == proof.ChosenInstrumentId);
        var step = LiquidationRules.StepSize(chosen.Size.Abs(), chosen.Mark, chosen.Spec.MinAmount, proof.FullCloseNotionalMicros, proof.StepPpm);
        if (step != proof.Step)
        {
            return new(false, $"The step recomputes to {step}, not {proof.Step}.");
        }

        var bankruptcy = LiquidationRules.BankruptcyPrice(chosen.Size, chosen.Mark, summary.Equity);
        if (bankruptcy != proof.BankruptcyPrice)
        {
            return new(false, $"The bankruptcy price recomputes to {bankruptcy}, not {proof.BankruptcyPrice}.");
        }

        for (int i = 1; i < proof.AdlRanking.Count; i++)
        {
            var previous = proof.AdlRanking[i - 1];
            var current = proof.AdlRanking[i];
            if (current.AccountId != 0 && (current.Key > previous.Key || (current.Key == previous.Key && current.AccountId < previous.AccountId)))
            {
                return new(false, "The auto-deleveraging ranking is not in key order.");
            }
        }

        return new(true, $"Due: equity {summary.Equity} < maintenance {summary.Maintenance}; step {step} of instrument {proof.ChosenInstrumentId} at bankruptcy price {bankruptcy}.");
    }
}
