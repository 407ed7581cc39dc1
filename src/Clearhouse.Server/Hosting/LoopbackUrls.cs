using System.Net;

namespace Clearhouse.Server.Hosting;

/// <summary>
/// The API is unauthenticated until the API issue adds authentication, so the server listens on
/// loopback only: every URL it is given (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) must name
/// 127.0.0.1, another 127.x address, [::1] or localhost. Wildcards (<c>*</c>, <c>+</c>,
/// <c>0.0.0.0</c>) and other addresses stop the start.
/// </summary>
public static class LoopbackUrls
{
    public static IReadOnlyList<string> Validate(string urls)
    {
        var list = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0)
        {
            throw new ServerConfigurationException("No URL to listen on was given.");
        }

        foreach (string url in list)
        {
            if (!IsLoopback(url))
            {
                throw new ServerConfigurationException(
                    $"Refusing to listen on '{url}': the API is unauthenticated, so it binds to loopback only (e.g. {ServerOptions.DefaultUrl}). " +
                    "Authentication arrives with the API issue.");
            }
        }

        return list;
    }

    public static bool IsLoopback(string url)
    {
        // Kestrel accepts wildcard hosts that Uri does not parse ("http://*:5080", "http://+:5080").
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return false;
        }

        string host = uri.Host;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
