using Clearhouse.Server;

try
{
    await ClearhouseServer.Build(args).RunAsync();
    return 0;
}
catch (ServerConfigurationException ex)
{
    Console.Error.WriteLine($"clearhouse: {ex.Message}");
    return 2;
}
