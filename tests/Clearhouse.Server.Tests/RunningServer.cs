using System.Text;
using System.Text.Json;
using Clearhouse.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The real server, in this process, listening through Kestrel on 127.0.0.1 on a free port
/// (port 0: the operating system picks), and an <see cref="HttpClient"/> that talks to it over
/// that socket. Nothing is mocked: the same composition root that <c>dotnet run</c> uses.
/// </summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string? ownedDataDirectory;

    private RunningServer(WebApplication app, Uri address, string? ownedDataDirectory)
    {
        this.app = app;
        this.ownedDataDirectory = ownedDataDirectory;
        Address = address;
        Http = new HttpClient(new OperatorHeader(app.Services.GetRequiredService<Operations.OperatorCredential>().Token)) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    /// <summary>The services of the running app (the sequencer, the recovered venue).</summary>
    public IServiceProvider Services => app.Services;

    /// <summary>
    /// Starts the server on a free port. Unless <paramref name="extraArgs"/> names a
    /// <c>--data-dir</c>, the journal goes to a fresh temporary directory deleted on dispose.
    /// </summary>
    public static async Task<RunningServer> StartAsync(bool demo, params string[] extraArgs)
    {
        string? owned = extraArgs.Contains("--data-dir") ? null : TemporaryDirectory.Create("server");
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--demo", demo ? "true" : "false",
            "--DemoTickMillis", "100",
            "--Logging:LogLevel:Default", "Warning",
            .. owned is null ? Array.Empty<string>() : ["--data-dir", owned],
            .. extraArgs,
        ];
        WebApplication? app = null;
        try
        {
            app = ClearhouseServer.Build(args);
            await app.StartAsync();
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            TemporaryDirectory.Delete(owned);
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RunningServer(app, new Uri(address), owned);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        TemporaryDirectory.Delete(ownedDataDirectory);
    }

    // ---------------------------------------------------------------- calls

    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return ((int)response.StatusCode, body);
    }

    public Task<(int Status, JsonElement Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<(int Status, JsonElement Body)> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, JsonSerializer.Serialize(body));

    public Task<(int Status, JsonElement Body)> PostRawAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);

    public Task<(int Status, JsonElement Body)> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    /// <summary>GET that must succeed.</summary>
    public async Task<JsonElement> GetOkAsync(string path)
    {
        var (status, body) = await GetAsync(path);
        Assert.True(status == 200, $"GET {path} answered {status}: {body}");
        return body;
    }

    /// <summary>Opens an account and deposits <paramref name="funding"/> USDC into it; returns its id.</summary>
    public async Task<int> OpenFundedAccountAsync(string funding = "1000000")
    {
        var (status, created) = await SendAsync(HttpMethod.Post, "/api/accounts");
        Assert.Equal(201, status);
        int accountId = created.GetProperty("accountId").GetInt32();
        var (depositStatus, deposit) = await PostAsync($"/api/accounts/{accountId}/deposit", new { amount = funding });
        Assert.True(depositStatus == 200, deposit.ToString());
        return accountId;
    }

    public async Task<JsonElement> PlaceOkAsync(object order)
    {
        var (status, body) = await PostAsync("/api/orders", order);
        Assert.True(status == 200, $"order answered {status}: {body}");
        return body;
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>One server with the demo market running, shared by a test class.</summary>
public sealed class DemoServer : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RunningServer.StartAsync(demo: true, "--DemoSeed", "42");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>One server without the demo: genesis only, nothing trades unless a test makes it.</summary>
public sealed class QuietServer : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    // No clock ticks: the tests here check that refused requests stamp no sequence number, which a
    // tick landing in between would blur. Ticks are tested with the demo server and the crash test.
    public async Task InitializeAsync() => Server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
