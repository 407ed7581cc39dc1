using System.Security.Cryptography;
using System.Text;
using Clearhouse.Server.Api;

namespace Clearhouse.Server.Operations;

/// <summary>
/// The operator's bearer token for the native API's state-changing endpoints (open accounts,
/// deposit, withdraw, orders, margin settings, the insurance fund): no endpoint changes state
/// without a credential. Traders use the Deribit-compatible API with their own API keys; the native
/// API is the operator's console.
/// <para>
/// The token is kept in <c>operator-token</c> in the data directory (created on first start, mode
/// 0600, the same after a restart), or set with <c>--OperatorToken</c>; with the journal off it is
/// made anew for each process. It is compared in constant time.
/// </para>
/// </summary>
public sealed class OperatorCredential
{
    public const string FileName = "operator-token";

    private readonly byte[] token;

    public OperatorCredential(ServerOptions options, ILogger<OperatorCredential> logger)
    {
        if (options.OperatorToken is { } configured)
        {
            Token = configured;
            logger.LogInformation("Native API operator token: set by configuration (OperatorToken).");
        }
        else if (!options.Journal)
        {
            Token = NewToken();
            logger.LogInformation("Native API operator token (in memory, this process only): operator_token={Token}", Token);
        }
        else
        {
            string path = Path.Combine(options.DataDirectory, FileName);
            if (File.Exists(path))
            {
                Token = File.ReadAllText(path).Trim();
            }
            else
            {
                Token = NewToken();
                Directory.CreateDirectory(options.DataDirectory);
                using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
                {
                    file.Write(Encoding.UTF8.GetBytes(Token));
                    file.Flush(flushToDisk: true);
                }

                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                File.Move(path + ".tmp", path, overwrite: true);
            }

            logger.LogInformation("Native API operator token: in {Path} (send it as 'Authorization: Bearer <token>').", Path.GetFullPath(path));
        }

        token = Encoding.UTF8.GetBytes(Token);
    }

    /// <summary>The token itself (for the in-process tests and the demo's own use).</summary>
    public string Token { get; }

    /// <summary>Whether the request carries <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public bool Allows(HttpRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header.AsSpan(7).Trim().ToString()), token);
    }

    /// <summary>An endpoint filter for state-changing routes: 401 with an ApiError unless the operator token is sent.</summary>
    public static IEndpointFilter Filter { get; } = new RequireOperator();

    private static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed class RequireOperator : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var request = context.HttpContext.Request;
            if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
                || context.HttpContext.RequestServices.GetRequiredService<OperatorCredential>().Allows(request))
            {
                return await next(context);
            }

            return ApiError.From(GatewayReason.OperatorCredentialRequired).ToResult();
        }
    }
}
