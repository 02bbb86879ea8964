using System.Net;

namespace ManagedServers.Shared.Fleet;

/// <summary>
/// Where Prometheus may scrape an agent. The agent reports its metrics listener's <c>host:port</c>; the control plane
/// lists it only when the host belongs to the server: its configured address, or (for a server whose address is a
/// loopback one: an agent on the control plane's own machine) a loopback address. A wildcard listen address becomes the
/// server's address. Anything else (another machine, a cloud metadata address, a name the agent made up) is not
/// listed, and <see cref="Resolve"/> says why.
/// </summary>
public static class MetricsTarget
{
    public static string? Resolve(string? metricsAddress, string? serverAddress, out string? why)
    {
        why = null;
        if (string.IsNullOrWhiteSpace(metricsAddress))
        {
            return null;
        }

        var text = metricsAddress.Trim();
        var colon = text.LastIndexOf(':');
        if (text.Length > 300 || colon < 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            why = "it is not host:port with a port from 1 to 65535";
            return null;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            why = "an IPv6 address needs brackets ([addr]:port)";
            return null;
        }

        var address = serverAddress?.Trim() ?? string.Empty;
        if (IsWildcard(host))
        {
            host = address;
        }

        if (host.Length == 0 || IsWildcard(host))
        {
            why = "the server has no address to scrape";
            return null;
        }

        var belongs = string.Equals(host, address, StringComparison.OrdinalIgnoreCase)
            || (IsLoopback(address) && IsLoopback(host));
        if (!belongs)
        {
            why = $"{host} is not the server's address ({(address.Length == 0 ? "none" : address)})";
            return null;
        }

        var bracket = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return bracket ? $"[{host}]:{port}" : $"{host}:{port}";
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    private static bool IsWildcard(string host) =>
        host.Length == 0 || host is "*" or "+" or "0.0.0.0" or "::" || (IPAddress.TryParse(host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
}
