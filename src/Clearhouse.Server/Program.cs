using Clearhouse.Server;
using Clearhouse.Server.Durability;

try
{
    await ClearhouseServer.Build(args, ownsProcess: true).RunAsync();
    return 0;
}
catch (ServerConfigurationException ex)
{
    Console.Error.WriteLine($"clearhouse: {ex.Message}");
    return 2;
}
catch (Exception ex) when (Refusal(ex) is { } refusal)
{
    // A damaged or inconsistent data directory (the message names the file and offset), or one
    // that another server has open: never start on top of it.
    Console.Error.WriteLine($"clearhouse: refusing to start: {refusal.Message}");
    return 3;
}

static Exception? Refusal(Exception? ex) => ex switch
{
    null => null,
    RecoveryRefusedException or IOException => ex,
    AggregateException aggregate => aggregate.InnerExceptions.Select(Refusal).FirstOrDefault(r => r is not null),
    _ => Refusal(ex.InnerException),
};
