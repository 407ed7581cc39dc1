using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Genesis;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Clearhouse.Server.Hosting;

/// <summary>Logs what is being served, where, and how it is authenticated, once the server listens.</summary>
public static class StartupBanner
{
    public static void Register(WebApplication app)
    {
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Clearhouse.Server");
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var genesis = app.Services.GetRequiredService<VenueGenesis>();
            var options = app.Services.GetRequiredService<ServerOptions>();
            var keys = app.Services.GetRequiredService<ApiKeyStore>();
            var instruments = genesis.Listed.IsCompletedSuccessfully ? genesis.Listed.Result : [];
            logger.LogInformation(
                """
                Clearhouse server listening on {Urls}
                  Instruments: {Instruments}
                  Demo market: {Demo}
                  Data: {Data}
                  Endpoints: GET / · GET /health · GET /api/instruments · GET /api/book/{{instrument}} · /api/accounts · /api/accounts/{{id}}/margin · /api/orders · /api/blocks · /api/accounts/{{id}}/proof (docs/native-api.md)
                  Deribit-compatible API: /api/v2/{{public|private}}/{{method}} · WebSocket /ws/api/v2 (docs/api.md); private methods need an API key ({Keys}){DemoKey}
                  The native API (/api/...) is bound to loopback: reads are open; changes need the operator token (docs/native-api.md).
                """,
                string.Join(", ", addresses),
                string.Join(", ", instruments),
                options.Demo ? "on (--demo false turns it off)" : "off",
                options.Journal ? $"{Path.GetFullPath(options.DataDirectory)} (journal on; acknowledged commands are durable)" : "in memory (--journal false): nothing survives a restart",
                keys.FilePath ?? "in memory",
                options.Demo ? "; the demo's key is printed on standard output, as client_id and client_secret lines" : ".");
        });
    }
}
