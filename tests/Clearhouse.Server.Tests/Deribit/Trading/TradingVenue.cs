using System.Net;
using System.Text.Json;
using Clearhouse.Core.Engine;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Clearhouse.Server.Deribit.Trading;
using Clearhouse.Server.Sequencing;
using Microsoft.Extensions.DependencyInjection;

namespace Clearhouse.Server.Tests.Deribit.Trading;

/// <summary>
/// The real server in this process without the demo and without clock ticks (so the BTC index and
/// the perpetual's mark stay at genesis' 95,000 and nothing runs between two commands of a test),
/// and a way to call the Deribit methods as an account: straight through the
/// <see cref="RpcDispatcher"/> (scopes, rate limits and handlers as over HTTP) with a principal for
/// that account, standing in for an authenticated API key. Makers and funding go through the
/// sequencer directly, as any other client of the engine would.
/// </summary>
public sealed class TradingVenue : IAsyncLifetime
{
    public const string BtcPerpetual = "BTC_USDC-PERPETUAL";
    public const string EthPerpetual = "ETH_USDC-PERPETUAL";

    public TradingVenue()
    {
    }

    /// <summary>Around a server the caller started (and disposes), e.g. one restarted on the same data directory.</summary>
    internal TradingVenue(RunningServer server) => Server = server;

    public RunningServer Server { get; private set; } = null!;

    public Sequencer Sequencer => Server.Services.GetRequiredService<Sequencer>();

    public RpcDispatcher Dispatcher => Server.Services.GetRequiredService<RpcDispatcher>();

    public UserChannels UserChannels => Server.Services.GetRequiredService<UserChannels>();

    public int BtcId => Sequencer.Instruments.TryGetId(BtcPerpetual, out int id) ? id : throw new InvalidOperationException("BTC perpetual not listed");

    public int EthId => Sequencer.Instruments.TryGetId(EthPerpetual, out int id) ? id : throw new InvalidOperationException("ETH perpetual not listed");

    public async Task InitializeAsync() => Server = await RunningServer.StartAsync(demo: false, "--TickMillis", "0", "--journal", "false");

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Opens an account funded with <paramref name="usdc"/>; returns its principal (read and trade scopes).</summary>
    public async Task<ApiPrincipal> OpenAccountAsync(decimal usdc = 100_000m, ApiScopes scopes = ApiScopes.Read | ApiScopes.Trade)
    {
        var created = await Sequencer.SubmitAsync(new CreateAccount());
        Assert.True(created.IsAccepted);
        int accountId = created.Events[0].AccountId;
        var deposit = await Sequencer.SubmitAsync(new Deposit(accountId, Money.FromDecimal(usdc)));
        Assert.True(deposit.IsAccepted, deposit.Reason.ToString());
        return new ApiPrincipal($"test-{accountId}", accountId, scopes);
    }

    /// <summary>A resting order placed through the sequencer (not the Deribit API); returns its order id.</summary>
    public async Task<long> RestAsync(ApiPrincipal account, int instrumentId, Side side, decimal price, decimal amount)
    {
        var result = await Sequencer.SubmitAsync(new PlaceOrder(account.AccountId, instrumentId, side, OrderType.Limit, TimeInForce.GoodTilCancelled, Price.FromDecimal(price), Quantity.FromDecimal(amount), OrderFlags.PostOnly));
        Assert.True(result.IsAccepted, result.Reason.ToString());
        return Array.Find(result.Events, e => e.Kind == EventKind.OrderAccepted).OrderId;
    }

    public Task<string> StateHashAsync() => Sequencer.QueryAsync(e => e.ComputeStateHashHex());

    /// <summary>Calls a method as <paramref name="caller"/>; the result as the JSON a client would read, or the error.</summary>
    public async Task<(JsonElement Result, RpcError? Error)> CallAsync(ApiPrincipal? caller, string method, object parameters)
    {
        byte[] request = JsonSerializer.SerializeToUtf8Bytes(new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        Assert.True(RpcEnvelope.TryParse(request, out var envelope, out _, out var parseError), parseError?.Reason);
        var context = new RpcContext { Transport = RpcTransport.Http, UsIn = Dispatcher.NowMicros(), RemoteAddress = IPAddress.Loopback, Principal = caller };
        var outcome = await Dispatcher.DispatchAsync(context, envelope!);
        if (outcome.Error is { } error)
        {
            return (default, error);
        }

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(outcome.Result, outcome.Result?.GetType() ?? typeof(object), DeribitJson.Options);
        return (JsonDocument.Parse(json).RootElement.Clone(), null);
    }

    /// <summary>A call that must succeed.</summary>
    public async Task<JsonElement> OkAsync(ApiPrincipal caller, string method, object parameters)
    {
        var (result, error) = await CallAsync(caller, method, parameters);
        Assert.True(error is null, $"{method} failed: {error}");
        return result;
    }

    /// <summary>A call that must fail; returns the error.</summary>
    public async Task<RpcError> FailAsync(ApiPrincipal? caller, string method, object parameters)
    {
        var (result, error) = await CallAsync(caller, method, parameters);
        Assert.True(error is not null, $"{method} should have failed but answered {result}");
        return error!;
    }
}
