using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Agent.Security;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Http;

/// <summary>Builds the HTTP stack every agent call uses: bundle-CA trust, optional client certificate, protocol header.</summary>
internal static class AgentHttp
{
    public static readonly TimeSpan PooledConnectionLifetime = TimeSpan.FromMinutes(5);

    public static SocketsHttpHandler CreateHandler(CaTrust trust, X509Certificate2? clientCertificate)
    {
        var ssl = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => trust.Validate(certificate, errors),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (clientCertificate is not null)
        {
            ssl.ClientCertificateContext = SslStreamCertificateContext.Create(clientCertificate, additionalCertificates: null, offline: true);
        }

        return new SocketsHttpHandler
        {
            SslOptions = ssl,
            PooledConnectionLifetime = PooledConnectionLifetime,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AllowAutoRedirect = false,
        };
    }

    public static HttpClient CreateClient(HttpMessageHandler handler)
    {
        // Timeouts are per call (linked cancellation tokens): the command long-poll outlives any sensible default.
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Add(AgentProtocol.VersionHeader, AgentProtocol.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ManagedServers.Agent", AgentInfo.Version));
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }
}
