using System.Net;

namespace Clearhouse.Server.Hosting;

/// <summary>
/// The server is the operator's console: the native API's reads are open to anyone who can reach
/// it, and nothing is encrypted (plain HTTP), so it listens on loopback only: every URL it is given (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) must name
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
                    $"Refusing to listen on '{url}': the server binds to loopback only (e.g. {ServerOptions.DefaultUrl}), " +
                    "because the native API's reads are open and nothing is encrypted. Serve traders elsewhere through a TLS reverse proxy " +
                    "on this machine in front of /api/v2 and /ws/api/v2 (docs/native-api.md).");
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
