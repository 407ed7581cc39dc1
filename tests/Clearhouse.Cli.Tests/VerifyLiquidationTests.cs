using System.Text.Json.Nodes;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Liquidation;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using CoreEngine = Clearhouse.Core.Engine.Engine;

namespace Clearhouse.Cli.Tests;

/// <summary>
/// <c>clearhouse verify-liquidation FILE</c> on proofs written from real liquidations: VALID with
/// exit 0; a proof tampered with is INVALID with the check-failed exit code; a file that is not a
/// proof is INVALID too, never a crash.
/// </summary>
public sealed class VerifyLiquidationTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "clearhouse-cli-tests", Guid.NewGuid().ToString("N"));

    public VerifyLiquidationTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>
    /// A BTC perpetual venue where two longs fall below maintenance at once: one cross (1 BTC at
    /// 100,000 with 3,000, filled through a bid at 97,400) and one isolated (0.5 BTC, with its
    /// initial margin only). Returns the proofs of the index move to 97,500.
    /// </summary>
    private static (LiquidationProof Cross, LiquidationProof Isolated) RealLiquidations()
    {
        var engine = new CoreEngine();
        long sequence = 0;
        long time = 1_767_225_600_000_000;
        void Apply(Command command)
        {
            var reason = engine.Apply(command with { Sequence = ++sequence, TimestampMicros = time += 1_000 });
            Assert.True(reason == RejectReason.None, $"{command}: {reason}");
        }

        Apply(new ListInstrument(InstrumentSpec.Create(InstrumentTerms.Perpetual("BTC"), Price.FromDecimal(0.5m), Quantity.FromDecimal(0.001m), 0, 0)));
        Apply(new SetIndexPrice("BTC", Price.FromWhole(100_000)));
        for (int i = 0; i < 3; i++)
        {
            Apply(new CreateAccount());
        }

        Apply(new Deposit(1, Money.FromWhole(10_000_000)));
        Apply(new Deposit(2, Money.FromWhole(3_000)));
        Apply(new Deposit(3, Money.FromWhole(1_000_000)));
        Apply(new SetIsolatedMargin(3, 1, true));
        Apply(new PlaceOrder(1, 1, Side.Sell, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromWhole(100_000), Quantity.FromDecimal(1.5m)));
        Apply(new PlaceOrder(2, 1, Side.Buy, OrderType.Limit, TimeInForce.ImmediateOrCancel, Price.FromWhole(100_000), Quantity.FromWhole(1)));
        Apply(new PlaceOrder(3, 1, Side.Buy, OrderType.Limit, TimeInForce.ImmediateOrCancel, Price.FromWhole(100_000), Quantity.FromDecimal(0.5m)));
        Apply(new PlaceOrder(1, 1, Side.Buy, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromWhole(97_400), Quantity.FromWhole(1)));
        Apply(new SetIndexPrice("BTC", Price.FromWhole(97_500)));

        var cross = engine.Liquidations.Single(p => p.AccountId == 2);
        var isolated = engine.Liquidations.Single(p => p.AccountId == 3);
        Assert.Equal(1, isolated.IsolatedInstrumentId);
        return (cross, isolated);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Json(LiquidationProof proof) => LiquidationProofDocument.From(proof).ToJson();

    [Fact]
    public void A_proof_written_from_a_real_liquidation_is_valid()
    {
        var (cross, isolated) = RealLiquidations();

        var run = CliRun.Of("verify-liquidation", Write("cross.json", Json(cross)));
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains($"Liquidation of account 2 (cross) at sequence {cross.Sequence}", run.Output);
        Assert.Contains($"claimed equity {cross.Equity}, maintenance {cross.Maintenance}", run.Output);
        Assert.Contains("VALID: Due: equity 500 < maintenance 975", run.Output);
        Assert.Equal("", run.Error);

        var isolatedRun = CliRun.Of("verify-liquidation", Write("isolated.json", Json(isolated)));
        Assert.True(isolatedRun.ExitCode == ExitCodes.Ok, isolatedRun.ToString());
        Assert.Contains("(isolated position in instrument 1)", isolatedRun.Output);
        Assert.Contains("VALID", isolatedRun.Output);
    }

    [Fact]
    public void A_proof_with_its_cash_raised_to_health_is_invalid_with_the_check_failed_exit_code()
    {
        var (cross, isolated) = RealLiquidations();
        var shortfall = (cross.Maintenance - cross.Equity).ToDecimal();

        // The cash raised, the claimed equity left: the figures do not add up.
        var document = JsonNode.Parse(Json(cross))!;
        document["cash"] = (cross.Cash.ToDecimal() + shortfall).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var run = CliRun.Of("verify-liquidation", Write("tampered.json", document.ToJsonString()));
        Assert.True(run.ExitCode == ExitCodes.CheckFailed, run.ToString());
        Assert.Contains($"INVALID: Equity recomputes to {cross.Maintenance}, not {cross.Equity}.", run.Output);

        // The claimed equity raised with it: consistent, and not due.
        document["equity"] = cross.Maintenance.ToString();
        var healthy = CliRun.Of("verify-liquidation", Write("healthy.json", document.ToJsonString()));
        Assert.True(healthy.ExitCode == ExitCodes.CheckFailed, healthy.ToString());
        Assert.Contains($"INVALID: Not due: equity {cross.Maintenance} is not below maintenance {cross.Maintenance}.", healthy.Output);

        // An isolated proof's cash is its position's collateral: raising one without the other is caught.
        var isolatedDocument = JsonNode.Parse(Json(isolated))!;
        isolatedDocument["cash"] = (isolated.Cash.ToDecimal() + 1_000m).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var isolatedRun = CliRun.Of("verify-liquidation", Write("isolated.json", isolatedDocument.ToJsonString()));
        Assert.True(isolatedRun.ExitCode == ExitCodes.CheckFailed, isolatedRun.ToString());
        Assert.Contains("INVALID", isolatedRun.Output);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "not JSON", "{ this is not json" },
        { "JSON null", "null" },
        { "an array", "[1, 2, 3]" },
        { "an empty object", "{}" },
        { "another version", """{ "version": "clearhouse/liquidation-proof/v9" }""" },
        { "a number where text belongs", """{ "version": "clearhouse/liquidation-proof/v1", "cash": 12 }""" },
        { "no positions", """{ "version": "clearhouse/liquidation-proof/v1", "positions": null }""" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_file_that_is_not_a_proof_is_invalid_not_a_crash(string what, string text)
    {
        var run = CliRun.Of("verify-liquidation", Write("malformed.json", text));
        Assert.True(run.ExitCode == ExitCodes.CheckFailed, $"{what}: {run}");
        Assert.Contains("INVALID", run.Output);
        Assert.Equal("", run.Error);
    }

    /// <summary>Edits of a real proof, each <c>path=json</c> (several separated by <c>;</c>); a zero full-close notional makes the step rules apply.</summary>
    public static TheoryData<string, string> BrokenFields => new()
    {
        { "a cash that is not a number", "cash=\"lots\"" },
        { "an amount finer than a micro", "equity=\"1.0000001\"" },
        { "an amount beyond the range", "maintenance=\"99999999999999999999\"" },
        { "a bad instrument name", "positions/0/instrument=\"BTC-SOMETIME\"" },
        { "a lot of zero", "positions/0/minAmount=\"0\";fullCloseNotionalMicros=0" },
        { "a negative lot", "positions/0/minAmount=\"-0.001\";fullCloseNotionalMicros=0" },
        { "a tick of zero", "positions/0/tickSize=\"0\"" },
        { "a mark of zero", "positions/0/mark=\"0\"" },
        { "a size of zero", "positions/0/size=\"0\"" },
        { "no margin tiers", "positions/0/tiers=[]" },
        { "a step rate of zero", "stepPpm=0" },
        { "a step rate above one", "stepPpm=1000001" },
        { "a negative full-close notional", "fullCloseNotionalMicros=-1" },
        { "an unknown margin mode", "mode=\"optimistic\"" },
        { "no underlying index", "underlyings=[]" },
        { "the position listed twice", "positions/1=null" },
    };

    [Theory]
    [MemberData(nameof(BrokenFields))]
    public void A_proof_with_a_broken_field_is_invalid_not_a_crash(string what, string edits)
    {
        var (cross, _) = RealLiquidations();
        var document = JsonNode.Parse(Json(cross))!;
        foreach (var edit in edits.Split(';'))
        {
            var (field, json) = (edit[..edit.IndexOf('=')], edit[(edit.IndexOf('=') + 1)..]);
            var path = field.Split('/');
            JsonNode parent = document;
            foreach (var part in path[..^1])
            {
                parent = int.TryParse(part, out int index) ? parent[index]! : parent[part]!;
            }

            if (parent is JsonArray array && int.TryParse(path[^1], out int at))
            {
                array.Insert(at, array[0]!.DeepClone()); // a second copy of the first element
            }
            else
            {
                parent[path[^1]] = JsonNode.Parse(json);
            }
        }

        var run = CliRun.Of("verify-liquidation", Write("broken.json", document.ToJsonString()));
        Assert.True(run.ExitCode == ExitCodes.CheckFailed, $"{what}: {run}");
        Assert.Contains("INVALID", run.Output);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public void A_missing_file_cannot_be_checked()
    {
        var run = CliRun.Of("verify-liquidation", Path.Combine(directory, "nope.json"));
        Assert.Equal(ExitCodes.CannotRun, run.ExitCode);
        Assert.Contains("No such file", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }
}
