using System.Net;
using System.Net.Sockets;

namespace ManagedServers.Cli.Tests;

internal static class TestUtil
{
    /// <summary>A loopback URL on which nothing listens (the port was just freed).</summary>
    public static string ClosedPortUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }
}
