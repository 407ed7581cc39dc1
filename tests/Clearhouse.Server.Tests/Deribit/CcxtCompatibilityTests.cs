using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Clearhouse.Server.Tests.Deribit;

/// <summary>
/// ccxt 4.5.84 from npm, unmodified, against the real server as a child process running the demo:
/// <c>tests/ccxt/ccxt-e2e.mjs</c> trades with the demo API key the server prints at startup
/// (<c>client_id=…</c>, <c>client_secret=…</c>) and checks every method and channel ccxt users rely
/// on (docs/api.md). Node.js and the npm package are needed: <c>.ci/run</c> installs them; locally
/// the test runs <c>npm ci</c> itself when <c>tests/ccxt/node_modules</c> is missing.
/// </summary>
public sealed partial class CcxtCompatibilityTests(ITestOutputHelper output)
{
    /// <param name="inlineSocketIo">The server's <c>--InlineSocketIo</c>: request code on the socket threads (docs/operations.md) must serve the same.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ccxt_trades_against_the_demo_venue(bool inlineSocketIo)
    {
        string ccxtDirectory = CcxtDirectory();
        await EnsureNodeModulesAsync(ccxtDirectory);

        string data = TemporaryDirectory.Create("ccxt");
        try
        {
            await using var server = await ServerProcess.StartAsync(data, TimeSpan.FromSeconds(60), "--demo", "true", "--DemoTickMillis", "200", "--InlineSocketIo", inlineSocketIo ? "true" : "false");
            var (clientId, clientSecret) = await DemoKeyAsync(server);

            var (exitCode, text) = await RunAsync("node", ccxtDirectory, TimeSpan.FromMinutes(3), ["ccxt-e2e.mjs"], new()
            {
                ["CLEARHOUSE_URL"] = server.Address.ToString().TrimEnd('/'),
                ["CLIENT_ID"] = clientId,
                ["CLIENT_SECRET"] = clientSecret,
            });
            output.WriteLine(text);
            Assert.True(exitCode == 0, $"ccxt checks failed (exit {exitCode}):\n{text}\nServer output:\n{Tail(server.Output)}");
            Assert.Matches(@"ccxt: \d+ passed, 0 failed", text);
            Assert.DoesNotContain("FAIL ", text);
        }
        finally
        {
            TemporaryDirectory.Delete(data);
        }
    }

    /// <summary>
    /// The README's ccxt script, as printed there (only its address is this server's): a market
    /// buy that fills against the demo makers, then the USDC balance and the position it opened.
    /// </summary>
    [Fact]
    public async Task The_readme_ccxt_script_trades_against_the_demo_venue()
    {
        string ccxtDirectory = CcxtDirectory();
        await EnsureNodeModulesAsync(ccxtDirectory);
        string readme = File.ReadAllText(Path.Combine(ccxtDirectory, "..", "..", "README.md"));
        var block = ReadmeCcxtScript().Match(readme);
        Assert.True(block.Success, "README.md has no ```js block after **Trade with ccxt.**");
        Assert.Contains("127.0.0.1:5080", block.Groups[1].Value);

        string data = TemporaryDirectory.Create("ccxt-readme");
        string script = Path.Combine(ccxtDirectory, $"readme-{Guid.NewGuid():N}.mjs"); // beside node_modules, so that 'ccxt' resolves
        try
        {
            await using var server = await ServerProcess.StartAsync(data, TimeSpan.FromSeconds(60), "--demo", "true", "--DemoTickMillis", "200");
            var (clientId, clientSecret) = await DemoKeyAsync(server);
            await WaitForDemoQuotesAsync(server);
            File.WriteAllText(script, block.Groups[1].Value.Replace("127.0.0.1:5080", server.Address.Authority, StringComparison.Ordinal));

            var (exitCode, text) = await RunAsync("node", ccxtDirectory, TimeSpan.FromMinutes(1), [script], new()
            {
                ["CLIENT_ID"] = clientId,
                ["CLIENT_SECRET"] = clientSecret,
            });
            output.WriteLine(text);
            Assert.True(exitCode == 0, $"the README's script failed (exit {exitCode}):\n{text}");
            Assert.Contains("status: 'closed'", text);        // the market order filled
            Assert.Contains("symbol: 'BTC/USDC:USDC'", text);
            Assert.Matches(@"side: 'long'", text);            // fetchPositions: the position it opened
            Assert.Matches(@"total: \d", text);               // the USDC balance
        }
        finally
        {
            File.Delete(script);
            TemporaryDirectory.Delete(data);
        }
    }

    /// <summary>Waits until the demo makers quote both sides of the BTC perpetual, so that a market order fills.</summary>
    private static async Task WaitForDemoQuotesAsync(ServerProcess server)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        for (int i = 0; i < 150; i++)
        {
            string book = await http.GetStringAsync("/api/v2/public/get_order_book?instrument_name=BTC_USDC-PERPETUAL&depth=1");
            if (book.Contains("\"bids\":[[", StringComparison.Ordinal) && book.Contains("\"asks\":[[", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException("The demo makers did not quote BTC_USDC-PERPETUAL within 30 s.");
    }

    /// <summary>The demo key from the startup output, waiting for the demo to open its account.</summary>
    private static async Task<(string ClientId, string ClientSecret)> DemoKeyAsync(ServerProcess server)
    {
        for (int i = 0; i < 300; i++)
        {
            var id = ClientIdLine().Match(server.Output);
            var secret = ClientSecretLine().Match(server.Output);
            if (id.Success && secret.Success)
            {
                return (id.Groups[1].Value, secret.Groups[1].Value);
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"The server did not print client_id=… and client_secret=… within 30 s. Output:\n{server.Output}");
    }

    internal static string CcxtDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "ccxt");
            if (File.Exists(Path.Combine(candidate, "ccxt-e2e.mjs")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/ccxt/ccxt-e2e.mjs not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Installs the pinned ccxt (package-lock.json) when it is not there yet; CI installs it up front.</summary>
    internal static async Task EnsureNodeModulesAsync(string ccxtDirectory)
    {
        if (Directory.Exists(Path.Combine(ccxtDirectory, "node_modules", "ccxt")))
        {
            return;
        }

        var (exitCode, text) = await RunAsync("npm", ccxtDirectory, TimeSpan.FromMinutes(5), ["ci", "--no-audit", "--no-fund"], []);
        Assert.True(exitCode == 0, $"npm ci failed in {ccxtDirectory} (Node.js and npm are needed for the ccxt tests):\n{text}");
    }

    internal static async Task<(int ExitCode, string Output)> RunAsync(string program, string directory, TimeSpan patience, string[] args, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{program} ran longer than {patience}:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];

    [GeneratedRegex(@"\*\*Trade with ccxt\.\*\*.*?```js\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ReadmeCcxtScript();

    [GeneratedRegex(@"client_id=(\S+)")]
    private static partial Regex ClientIdLine();

    [GeneratedRegex(@"client_secret=(\S+)")]
    private static partial Regex ClientSecretLine();
}
