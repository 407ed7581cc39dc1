using System.Text.Json;
using Clearhouse.Server.Api;
using Clearhouse.Server.Demo;
using Clearhouse.Server.Deribit;
using Clearhouse.Server.Durability;
using Clearhouse.Server.Genesis;
using Clearhouse.Server.Hosting;
using Clearhouse.Server.Operations;
using Clearhouse.Server.Sequencing;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Prometheus;

namespace Clearhouse.Server;

/// <summary>
/// The composition root, in pipeline order: settings and loopback check, recovery of the venue
/// from its data directory (snapshot + journal replay), the one sequencer thread that journals,
/// applies and seals, genesis (fresh venues only), the demo market, then the HTTP endpoints.
/// <c>Program</c> runs it; the tests build the same app on a free port.
/// </summary>
public static class ClearhouseServer
{
    /// <summary>Builds the server from its command-line <paramref name="args"/>.</summary>
    /// <param name="args">The command line (docs/operations.md).</param>
    /// <param name="ownsProcess">
    /// The server is the whole process (<c>Program</c>): it may set process-wide runtime settings
    /// (see <see cref="ServerOptions.InlineSocketIo"/>). False where it is hosted beside other code,
    /// as in the tests.
    /// </param>
    public static WebApplication Build(string[] args, bool ownsProcess = false)
    {
        CommandLineCheck.Validate(args);

        // appsettings.json is read from next to the binary, wherever the process was started from
        // (the working directory only decides where the default ./data goes).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // 1. Settings: loopback only, demo on or off. Kestrel endpoint sections would bypass the
        // loopback check, so they are refused rather than silently honoured.
        if (builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            throw new ServerConfigurationException("Kestrel:Endpoints is not supported: give loopback URLs with --urls or ASPNETCORE_URLS instead.");
        }

        string urls = builder.Configuration["urls"] is { Length: > 0 } configured ? configured : ServerOptions.DefaultUrl;
        builder.WebHost.UseUrls([.. LoopbackUrls.Validate(urls)]);
        var options = ServerOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        if (options.InlineSocketIo)
        {
            // Kestrel runs request code where the socket completes. The runtime's half (socket
            // operations completed on the epoll thread rather than the thread pool; Kestrel's doc
            // for the option asks for it) is an environment variable read once, when the process
            // makes its first socket, and it applies to every socket of the process: only a process
            // that is the server sets it (Program), not one that hosts it beside its own clients (tests).
            builder.Services.Configure<SocketTransportOptions>(socket => socket.UnsafePreferInlineScheduling = true);
            if (ownsProcess)
            {
                Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
            }
        }

        // 2. Recovery: the engine from the newest snapshot plus the journal after it (or fresh), the
        // open journal and block log. It runs as soon as the app is built (below), before anything
        // starts; a damaged data directory throws from Build and the server refuses to start.
        builder.Services.AddSingleton(sp => VenueRecovery.Open(options, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Clearhouse.Durability")));

        // 3. The single thread that drives the engine: stamp, journal, apply, seal blocks, snapshot,
        // answer once durable; clock ticks. Hosted services start in the order they are
        // registered, before the server listens, and stop in reverse.
        builder.Services.AddSingleton(SequencerOptions.From(options));
        builder.Services.AddSingleton(sp => new Sequencer(
            sp.GetRequiredService<RecoveredVenue>(), sp.GetRequiredService<SequencerOptions>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Sequencer>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Sequencer>());

        // 4. Genesis, on a fresh venue only: the instruments and their first index prices.
        builder.Services.AddSingleton<VenueGenesis>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VenueGenesis>());

        // 5. The demo market.
        if (options.Demo)
        {
            builder.Services.AddHostedService<DemoMarket>();
        }

        // 6. The Deribit-compatible API (docs/api.md): its services, and the observers it adds to the sequencer.
        builder.Services.AddDeribitApi();

        // 7. Operations: Prometheus metrics at /metrics, OpenAPI for the native REST endpoints.
        builder.Services.AddSingleton<VenueMetrics>();
        builder.Services.AddSingleton<OperatorCredential>();
        builder.Services.AddOpenApi();

        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            json.SerializerOptions.WriteIndented = false;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(15));

        var app = builder.Build();
        app.Services.GetRequiredService<RecoveredVenue>();
        app.Services.GetRequiredService<Sequencer>().AddObserver(app.Services.GetRequiredService<VenueMetrics>());
        app.Services.GetRequiredService<OperatorCredential>();

        // 8. HTTP: errors as ApiError, the pages, the native API (with blocks and proofs), the Deribit API, operations.
        app.UseExceptionHandler(error => error.Run(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsJsonAsync(ApiError.From(GatewayReason.InternalError));
        }));
        app.MapGet("/", () => Results.Content(HomePage.Html, "text/html; charset=utf-8"));
        app.MapGet("/health", Health);
        app.MapNativeApi();
        app.MapDeribitApi();
        app.MapMetrics("/metrics", app.Services.GetRequiredService<VenueMetrics>().Registry);
        app.MapOpenApi();
        StartupBanner.Register(app);
        return app;
    }

    /// <summary>Healthy when the engine thread answers a query within two seconds.</summary>
    private static async Task<IResult> Health(Sequencer sequencer, CancellationToken ct)
    {
        try
        {
            long sequence = await sequencer.QueryAsync(e => e.LastSequence, ct).WaitAsync(TimeSpan.FromSeconds(2), ct);
            return Results.Json(new { status = "ok", lastSequence = sequence });
        }
        catch (Exception ex) when (ex is TimeoutException or SequencerStoppedException)
        {
            return Results.Json(new { status = "unavailable", lastSequence = sequencer.LastAppliedSequence }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
