using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>An HTTPS client that presents an enrolled agent's certificate, for probing what that agent may do.</summary>
public static class AgentTls
{
    public static HttpClient ClientFor(string stateDir, string baseUrl) =>
        new(CaChain.PinnedHandler(Ca(stateDir), Certificate(stateDir))) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>An enrolled agent's client certificate with its key, from its state directory.</summary>
    public static X509Certificate2 Certificate(string stateDir) =>
        CaChain.WithKey(File.ReadAllText(Path.Combine(stateDir, "cert.pem")), File.ReadAllText(Path.Combine(stateDir, "key.pem")));

    /// <summary>The CA an enrolled agent trusts (the first of its ca.pem).</summary>
    public static X509Certificate2 Ca(string stateDir) => X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(stateDir, "ca.pem")));

    public static Heartbeat Beat(string serverId, long sequence = 1) =>
        new(serverId, Guid.NewGuid(), Guid.NewGuid(), sequence, DateTimeOffset.UtcNow, "test", 1, "probe", "Debian");

    public static Task<HttpResponseMessage> PostHeartbeatAsync(HttpClient client, Heartbeat beat) =>
        client.PostAsJsonAsync(AgentApi.Heartbeat, beat, ContractsJson.WireOptions);
}
