using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>An HTTPS client that presents an enrolled agent's certificate, for probing what that agent may do.</summary>
public static class AgentTls
{
    public static HttpClient ClientFor(string stateDir, string baseUrl)
    {
        var certificate = CaChain.WithKey(File.ReadAllText(Path.Combine(stateDir, "cert.pem")), File.ReadAllText(Path.Combine(stateDir, "key.pem")));
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(stateDir, "ca.pem")));
        return new HttpClient(CaChain.PinnedHandler(ca, certificate)) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public static Heartbeat Beat(string serverId, long sequence = 1) =>
        new(serverId, Guid.NewGuid(), Guid.NewGuid(), sequence, DateTimeOffset.UtcNow, "test", 1, "probe", "Debian");

    public static Task<HttpResponseMessage> PostHeartbeatAsync(HttpClient client, Heartbeat beat) =>
        client.PostAsJsonAsync(AgentApi.Heartbeat, beat, ContractsJson.WireOptions);
}
