using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Clearhouse.Server.Tests;

/// <summary>
/// A command line with an option nobody reads stops the start (docs/native-api.md, "Settings"):
/// ASP.NET would take <c>--data /tmp/venue</c> quietly and run the venue in <c>./data</c>.
/// </summary>
public sealed partial class CommandLineCheckTests
{
    [Theory]
    [InlineData("--data", "/tmp/venue", "--data is not an option; did you mean --data-dir?")]
    [InlineData("--IdleSpin", "50", "--IdleSpin is not an option; did you mean --IdleSpinMicros?")]
    [InlineData("--Journal-Sync", "fsync", "--Journal-Sync is not an option; did you mean --JournalSync?")]
    [InlineData("--DemoSeeds", "3", "--DemoSeeds is not an option; did you mean --DemoSeed?")]
    [InlineData("--colour", "blue", "--colour is not an option (all options: docs/native-api.md).")]
    public void An_unknown_option_is_refused_with_the_closest_known_one(string key, string value, string message)
    {
        var error = Assert.Throws<ServerConfigurationException>(() => CommandLineCheck.Validate(["--demo", "false", key, value]));
        Assert.StartsWith(message.TrimEnd('.'), error.Message);
    }

    [Theory]
    [InlineData(new[] { "--demo", "false", "--journal" }, "--journal needs a value")]
    [InlineData(new[] { "-demo", "false" }, "'-demo': options start with two dashes")]
    [InlineData(new[] { "demo" }, "'demo' is not an option")]
    public void An_option_without_its_value_or_its_dashes_is_refused(string[] args, string message)
    {
        var error = Assert.Throws<ServerConfigurationException>(() => CommandLineCheck.Validate(args));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Known_options_in_any_spelling_configuration_sections_and_the_hosts_settings_pass()
    {
        CommandLineCheck.Validate([
            "--demo=false", "--DATA-DIR", "/tmp/x", "--DataDir", "/tmp/x", "/TickMillis", "0", "IdleSpinMicros=0",
            "--Logging:LogLevel:Default", "Warning", "--Deribit:MinHeartbeatSeconds", "5", "--urls", "http://127.0.0.1:0",
            "--environment", "Production",
        ]);
        foreach (string key in CommandLineCheck.KnownKeys)
        {
            CommandLineCheck.Validate(["--" + key, "1"]);
        }
    }

    [Fact]
    public void The_settings_table_in_docs_native_api_md_lists_exactly_the_options_the_server_reads()
    {
        string doc = File.ReadAllText(Path.Combine(Deribit.CcxtCompatibilityTests.CcxtDirectory(), "..", "..", "docs", "native-api.md"));
        var documented = doc.Split('\n')
            .Where(line => line.StartsWith("| `--", StringComparison.Ordinal))
            .SelectMany(line => OptionName().Matches(line.Split('|')[1]).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        // The host's keys are ASP.NET's (only --urls is in the table); --DataDir is --data-dir's other spelling.
        var notInTable = CommandLineCheck.HostKeys.Where(k => k != "urls").Append("DataDir");
        var read = CommandLineCheck.KnownKeys.Except(notInTable, StringComparer.OrdinalIgnoreCase).ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.Empty(read.Except(documented, StringComparer.OrdinalIgnoreCase).Order());
        Assert.Empty(documented.Except(read, StringComparer.OrdinalIgnoreCase).Order());
    }

    [Fact]
    public async Task The_server_process_stops_with_exit_code_2_and_creates_no_data_directory()
    {
        string workingDirectory = TemporaryDirectory.Create("command-line");
        try
        {
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in new[] { ServerProcess.ServerAssembly, "--urls", "http://127.0.0.1:0", "--data", Path.Combine(workingDirectory, "venue") })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(2, process.ExitCode);
            Assert.Contains("clearhouse: --data is not an option; did you mean --data-dir?", await stderr);
            Assert.Empty(Directory.GetFileSystemEntries(workingDirectory));
        }
        finally
        {
            TemporaryDirectory.Delete(workingDirectory);
        }
    }

    [GeneratedRegex("`--([A-Za-z_-]+)`")]
    private static partial Regex OptionName();
}
