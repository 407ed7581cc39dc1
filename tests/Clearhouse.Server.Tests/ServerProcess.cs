using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The real server as a child process — <c>dotnet Clearhouse.Server.dll --data-dir DIR --demo false
/// --urls http://127.0.0.1:0</c>, the build the test project already holds — so that it can be
/// killed with SIGKILL (<see cref="Kill"/>) like a crashed machine would stop it. Its address is read
/// from its startup banner (port 0: the operating system picks a free one); its output is kept.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        this.process = process;
    }

    /// <summary>The server assembly next to the tests (copied there by the project reference).</summary>
    public static string ServerAssembly => Path.Combine(AppContext.BaseDirectory, "Clearhouse.Server.dll");

    public Uri Address { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public int ProcessId => process.Id;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the server and returns once it listens; throws with its output if it exits or does not listen in time.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, TimeSpan patience, params string[] extraArgs)
    {
        var server = Launch(dataDirectory, extraArgs);
        var exited = server.process.WaitForExitAsync();
        var first = await Task.WhenAny(server.listening.Task, exited, Task.Delay(patience));
        if (first != server.listening.Task)
        {
            string why = first == exited ? $"exited with code {server.process.ExitCode}" : $"did not listen within {patience}";
            await server.DisposeAsync();
            throw new InvalidOperationException($"The server {why}. Output:\n{server.Output}");
        }

        server.Address = await server.listening.Task;
        string tokenFile = Path.Combine(dataDirectory, Operations.OperatorCredential.FileName);
        server.Http = File.Exists(tokenFile)
            ? new HttpClient(new OperatorHeader(File.ReadAllText(tokenFile).Trim())) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) }
            : new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        return server;
    }

    /// <summary>Starts the server expecting it to refuse: returns its exit code and output once it exits.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDirectory, TimeSpan patience, params string[] extraArgs)
    {
        await using var server = Launch(dataDirectory, extraArgs);
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await server.process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"The server was expected to refuse to start but ran for {patience}. Output:\n{server.Output}");
        }

        server.process.WaitForExit(); // drains the redirected output
        return (server.process.ExitCode, server.Output);
    }

    private static ServerProcess Launch(string dataDirectory, string[] extraArgs)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (string arg in (string[])[
            ServerAssembly,
            "--data-dir", dataDirectory,
            "--demo", "false",
            "--urls", "http://127.0.0.1:0",
            "--Logging:LogLevel:Default", "Warning",
            "--Logging:LogLevel:Clearhouse", "Information",
            "--Logging:Console:FormatterName", "simple",
            .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_gcServer"] = "0";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed — a crash.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    public async Task WaitForExitAsync() => await process.WaitForExitAsync();

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
