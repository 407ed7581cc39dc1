using System.Text.Json;

namespace Clearhouse.Server.Tests;

/// <summary>
/// The runtime settings the server ships with, in the <c>Clearhouse.Server.runtimeconfig.json</c>
/// that <c>dotnet run</c> and <c>dotnet Clearhouse.Server.dll</c> read (written from
/// <c>Clearhouse.Server.csproj</c>): each one was measured to matter for latency, and
/// docs/operations.md tells operators what it does and how to change it.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Theory]
    [InlineData("System.GC.Server", "true")]                                       // "Garbage collection"
    [InlineData("System.GC.DynamicAdaptationMode", "0")]                          // no DATAS
    [InlineData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", "0")]     // workers block at once
    [InlineData("System.Runtime.TieredCompilation.CallCountingDelayMs", "0")]     // "The JIT's first seconds"
    public void The_server_ships_with_its_latency_settings(string setting, string value)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Clearhouse.Server.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.TryGetProperty(setting, out var actual), $"{setting} is missing from {path}");
        Assert.Equal(value, actual.ToString().ToLowerInvariant());
    }
}
