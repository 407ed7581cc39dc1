namespace Clearhouse.Server.Tests;

/// <summary>
/// Sends the operator token with the native API's requests (<c>/api/…</c>), as an operator's
/// console would, but not with the Deribit API's (<c>/api/v2/…</c>), where an
/// <c>Authorization</c> header is a trader's credential.
/// </summary>
public sealed class OperatorHeader(string token) : DelegatingHandler(new HttpClientHandler())
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string path = request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : request.RequestUri?.OriginalString ?? "";
        if (path.StartsWith("/api/", StringComparison.Ordinal) && !path.StartsWith("/api/v2", StringComparison.Ordinal) && request.Headers.Authorization is null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
