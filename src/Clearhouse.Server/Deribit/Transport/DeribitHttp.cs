using System.Buffers;
using System.Net;
using Clearhouse.Server.Deribit.Auth;
using Clearhouse.Server.Deribit.Rpc;
using Microsoft.AspNetCore.Http.Features;

namespace Clearhouse.Server.Deribit.Transport;

/// <summary>
/// JSON-RPC over HTTP at <c>/api/v2/{public|private}/{method}</c>: GET with the parameters in the
/// query string (how ccxt calls every method) or POST with a JSON-RPC body; also POST <c>/api/v2</c>
/// with the method named in the body. A request is authenticated by its <c>Authorization</c> header
/// (a <c>deri-hmac-sha256</c> signature or a <c>Bearer</c> access token) or an <c>access_token</c>
/// parameter. Success is 200; an error is 400 (429 for the rate limit) with Deribit's error object.
/// </summary>
public static class DeribitHttp
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/api/v2/{scope}/{method}", ["GET", "POST"], (HttpContext http, string scope, string method, RpcDispatcher dispatcher, IApiAuthenticator authenticator) =>
            HandleAsync(http, $"{scope}/{method}", dispatcher, authenticator)).ExcludeFromDescription();
        app.MapPost("/api/v2", (HttpContext http, RpcDispatcher dispatcher, IApiAuthenticator authenticator) =>
            HandleAsync(http, null, dispatcher, authenticator)).ExcludeFromDescription();
    }

    private static async Task HandleAsync(HttpContext http, string? pathMethod, RpcDispatcher dispatcher, IApiAuthenticator authenticator)
    {
        long usIn = dispatcher.NowMicros();
        byte[]? id = null;
        RpcOutcome outcome;
        try
        {
            (var request, id, var error) = await ReadRequestAsync(http, pathMethod);
            if (error is not null)
            {
                outcome = RpcOutcome.Failed(error);
            }
            else
            {
                var context = new RpcContext
                {
                    Transport = RpcTransport.Http,
                    UsIn = usIn,
                    RemoteAddress = http.Connection.RemoteIpAddress ?? IPAddress.Loopback,
                };
                context.Principal = await authenticator.AuthenticateHttpAsync(
                    new HttpCredentials(http.Request.Method, RawTarget(http), request!.Body, http.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null),
                    usIn);
                outcome = await dispatcher.DispatchAsync(context, request.Envelope);
            }
        }
        catch (RpcException ex)
        {
            outcome = RpcOutcome.Failed(ex.Error);
        }

        var output = new ArrayBufferWriter<byte>(512);
        long usOut = dispatcher.NowMicros();
        if (outcome.Error is { } failure)
        {
            RpcResponse.WriteError(output, id, failure, usIn, usOut);
            http.Response.StatusCode = failure.Code == 10028 ? StatusCodes.Status429TooManyRequests : StatusCodes.Status400BadRequest;
        }
        else
        {
            RpcResponse.WriteResult(output, id, outcome.Result, usIn, usOut);
        }

        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(output.WrittenMemory);
    }

    private sealed record HttpRequestBody(RpcEnvelope Envelope, ReadOnlyMemory<byte> Body);

    private static async Task<(HttpRequestBody? Request, byte[]? Id, RpcError? Error)> ReadRequestAsync(HttpContext http, string? pathMethod)
    {
        var body = await ReadBodyAsync(http.Request);
        if (body is null)
        {
            return (null, null, RpcError.RequestTooLarge(RpcEnvelope.MaxRequestBytes));
        }

        if (HttpMethods.IsGet(http.Request.Method))
        {
            if (pathMethod is null)
            {
                return (null, null, RpcError.InvalidRequest("Name the method in the path: GET /api/v2/public/get_time."));
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in http.Request.Query)
            {
                if (value.Count != 1)
                {
                    return (null, null, RpcError.InvalidRequest($"The query parameter '{key}' appears more than once."));
                }

                values[key] = value.ToString();
            }

            return (new HttpRequestBody(RpcEnvelope.Create(pathMethod, RpcParams.FromText(values)), body), null, null);
        }

        if (!RpcEnvelope.TryParse(body, out var envelope, out byte[]? id, out var error))
        {
            return (null, id, error);
        }

        if (pathMethod is not null && envelope!.Method != pathMethod)
        {
            return (null, id, RpcError.InvalidRequest($"The path names '{pathMethod}' but the body names '{envelope.Method}'."));
        }

        return (new HttpRequestBody(envelope!, body), id, null);
    }

    /// <summary>The body, or null when it is larger than <see cref="RpcEnvelope.MaxRequestBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > RpcEnvelope.MaxRequestBytes)
        {
            return null;
        }

        var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > RpcEnvelope.MaxRequestBytes)
                {
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    /// <summary>The path and query exactly as the client sent them: what a <c>deri-hmac-sha256</c> signature covers.</summary>
    private static string RawTarget(HttpContext http) =>
        http.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : http.Request.Path + http.Request.QueryString;
}
