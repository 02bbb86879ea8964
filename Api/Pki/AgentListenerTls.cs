using System.Net;
using System.Net.NetworkInformation;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;
using ManagedServers.Grains.Interfaces.Settings;
using Microsoft.Extensions.Configuration;

namespace ManagedServers.Api.Pki;

/// <summary>
/// TLS for the agent listener: a server certificate from the built-in CA (renewed well before it
/// expires) and client certificates checked against the same CA. A connection without a client
/// certificate is let through TLS only so that enrolment can happen; every other agent endpoint
/// requires the certificate (see AgentCertificateHandler).
/// </summary>
public sealed class AgentListenerTls(CertificateIssuer issuer, IGrainFactory grains, IConfiguration configuration, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(30);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private X509Certificate2? _current;
    private X509Certificate2Collection? _trusted;

    public async ValueTask<SslServerAuthenticationOptions> GetOptionsAsync(bool requestClientCertificate, CancellationToken cancellationToken)
    {
        var certificate = await GetCertificateAsync(cancellationToken);
        return new SslServerAuthenticationOptions
        {
            ServerCertificate = certificate,
            ClientCertificateRequired = requestClientCertificate,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = ValidateClient,
        };
    }

    /// <summary>Forces a new listener certificate on the next handshake (e.g. after the monitoring IP changed).</summary>
    public void Invalidate() => Interlocked.Exchange(ref _current, null);

    public void Dispose()
    {
        _current?.Dispose();
        _gate.Dispose();
    }

    private async Task<X509Certificate2> GetCertificateAsync(CancellationToken cancellationToken)
    {
        // Cheap: the issuer asks the CA grain at most every few seconds (and loads the CAs DueForReplacement reads).
        Volatile.Write(ref _trusted, await issuer.GetTrustedCasAsync());
        var current = _current;
        if (current is not null && !issuer.DueForReplacement(current))
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is not null && !issuer.DueForReplacement(_current))
            {
                return _current;
            }

            var settings = await grains.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
            _current = await issuer.IssueListenerCertificateAsync(Hosts(settings.MonitoringApiIp), Lifetime);
            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }

    private IEnumerable<string> Hosts(string monitoringApiIp)
    {
        yield return "localhost";
        yield return "127.0.0.1";
        yield return "::1";
        yield return Dns.GetHostName();
        yield return monitoringApiIp;
        foreach (var host in (configuration["AgentCertificateHosts"] ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            yield return host;
        }

        foreach (var url in AgentEndpointConfig.AgentUrls(configuration))
        {
            if (Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                && uri.Host is not ("0.0.0.0" or "[::]"))
            {
                yield return uri.Host.Trim('[', ']');
            }
        }

        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up))
        {
            foreach (var address in nic.GetIPProperties().UnicastAddresses)
            {
                if (!address.Address.IsIPv6LinkLocal)
                {
                    yield return address.Address.ToString();
                }
            }
        }
    }

    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return true; // enrolment; endpoint authorisation decides
        }

        var trusted = Volatile.Read(ref _trusted);
        if (trusted is null)
        {
            return false;
        }

        return CaChain.IsTrusted(certificate, trusted, time.GetUtcNow().UtcDateTime, CaChain.ClientAuthOid);
    }
}

/// <summary>Reads the agent listener addresses from configuration (<c>--AgentUrls</c>, ';'-separated).</summary>
public static class AgentEndpointConfig
{
    public const string DefaultAgentUrls = "https://127.0.0.1:8443";

    public static IReadOnlyList<string> AgentUrls(IConfiguration configuration) =>
        (configuration["AgentUrls"] ?? DefaultAgentUrls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The address agents are told to use when no monitoring API IP is set: the listener's own.</summary>
    public static (string Host, int Port) DefaultAgentAddress(IConfiguration configuration)
    {
        var first = AgentUrls(configuration)[0].Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal);
        var uri = new Uri(first);
        var host = uri.Host.Trim('[', ']');
        if (host is "0.0.0.0" or "::")
        {
            host = NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)?.ToString() ?? "127.0.0.1";
        }

        return (host, uri.Port);
    }
}
