using Clearhouse.Server.Hosting;

namespace Clearhouse.Server.Tests;

public sealed class LoopbackUrlsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://127.0.0.2:0", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://192.168.1.10:5080", false)]
    [InlineData("http://example.com", false)]
    public void Only_loopback_addresses_are_accepted(string url, bool accepted) =>
        Assert.Equal(accepted, LoopbackUrls.IsLoopback(url));

    [Fact]
    public void The_server_refuses_to_start_on_a_wildcard_address()
    {
        var ex = Assert.Throws<ServerConfigurationException>(() => ClearhouseServer.Build(["--urls", "http://0.0.0.0:0", "--demo", "false"]));
        Assert.Contains("loopback", ex.Message);
    }

    [Fact]
    public void The_server_refuses_a_demo_flag_that_is_not_true_or_false()
    {
        var ex = Assert.Throws<ServerConfigurationException>(() => ClearhouseServer.Build(["--urls", "http://127.0.0.1:0", "--demo", "maybe"]));
        Assert.Contains("--demo", ex.Message);
    }

    [Fact]
    public void The_server_refuses_Kestrel_endpoint_sections_that_would_bypass_the_loopback_check()
    {
        var ex = Assert.Throws<ServerConfigurationException>(() => ClearhouseServer.Build(["--Kestrel:Endpoints:Http:Url", "http://0.0.0.0:0", "--demo", "false"]));
        Assert.Contains("Kestrel:Endpoints", ex.Message);
    }
}
