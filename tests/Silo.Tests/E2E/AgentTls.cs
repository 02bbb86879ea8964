using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>An HTTPS client that presents an enrolled agent's certificate, for probing what that agent may do.</summary>
public static class AgentTls
{
    public static HttpClient ClientFor(string stateDir, string baseUrl)
    {
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(stateDir, "cert.pem"), Path.Combine(stateDir, "key.pem"));
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(stateDir, "ca.pem")));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [certificate];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
        {
            if (cert is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(cert));
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public static Heartbeat Beat(string serverId, long sequence = 1) =>
        new(serverId, Guid.NewGuid(), Guid.NewGuid(), sequence, DateTimeOffset.UtcNow, "test", 1, "probe", "Debian");

    public static Task<HttpResponseMessage> PostHeartbeatAsync(HttpClient client, Heartbeat beat) =>
        client.PostAsJsonAsync("/api/v1/monitoring/heartbeat", beat, ContractsJson.WireOptions);
}
