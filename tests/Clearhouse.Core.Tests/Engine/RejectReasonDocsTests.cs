using Clearhouse.Core.Engine;

namespace Clearhouse.Core.Tests.Engine;

public class RejectReasonDocsTests
{
    [Fact]
    public void Every_reject_reason_has_a_sentence_and_a_row_in_the_engine_docs()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "engine.md"));
        foreach (var reason in Enum.GetValues<RejectReason>().Where(r => r != RejectReason.None))
        {
            Assert.DoesNotContain("Rejected (", RejectReasons.Describe(reason));
            Assert.Contains($"| {(int)reason} | `{reason}` |", docs);
        }
    }

    [Fact]
    public void Reject_codes_stay_inside_their_ranges()
    {
        foreach (var reason in Enum.GetValues<RejectReason>().Where(r => r != RejectReason.None))
        {
            Assert.InRange((int)reason, 100, 899); // 900–999 belong to gateways
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Clearhouse.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Repository root (Clearhouse.slnx) not found above " + AppContext.BaseDirectory);
    }
}
