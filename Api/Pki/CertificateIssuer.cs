using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Security;
using ManagedServers.Grains.Interfaces.Identity;

namespace ManagedServers.Api.Pki;

/// <summary>
/// Signs with the built-in CA: short-lived agent certificates from CSRs, the agent listener's server
/// certificate and the control plane's own client certificate for pull mode. The CA material is fetched
/// once from its grain and kept in memory.
/// </summary>
public sealed class CertificateIssuer(IGrainFactory grains, TimeProvider time) : IDisposable
{
    /// <summary>Lifetime of the control plane's pull client certificate; a new one is issued after two thirds of it.</summary>
    public static readonly TimeSpan ControlPlaneClientLifetime = TimeSpan.FromDays(7);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _clientGate = new(1, 1);
    private X509Certificate2? _ca;
    private X509Certificate2? _controlPlaneClient;

    public async Task<X509Certificate2> GetCaAsync()
    {
        if (_ca is not null)
        {
            return _ca;
        }

        await _gate.WaitAsync();
        try
        {
            if (_ca is null)
            {
                var material = await grains.GetGrain<ICertificateAuthorityGrain>("default").GetOrCreateAsync();
                _ca = X509Certificate2.CreateFromPem(material.CertificatePem, material.PrivateKeyPem);
            }

            return _ca;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<string> GetCaPemAsync() => (await GetCaAsync()).ExportCertificatePem();

    /// <summary>
    /// Signs an agent's CSR. The subject is set by us (CN = server id), whatever the CSR asked for. The certificate
    /// allows clientAuth (the agent calling the control plane) and serverAuth (its pull endpoint, which the control
    /// plane calls); certificates issued before pull mode carry clientAuth only and gain serverAuth at renewal.
    /// </summary>
    public async Task<X509Certificate2> SignAgentCsrAsync(string csrPem, string serverId, TimeSpan lifetime)
    {
        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new ArgumentException("csr_pem is not a valid PEM PKCS#10 request with a valid signature", nameof(csrPem), ex);
        }

        if (!ServerIds.IsWellFormed(serverId))
        {
            throw new ArgumentException($"'{serverId[..Math.Min(serverId.Length, 40)]}' is not a server id", nameof(serverId));
        }

        // Built, not parsed: no text of the request ever becomes part of a distinguished name's syntax.
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(serverId); // printed "CN=…, O=ManagedServers agents", as before
        subject.AddOrganizationName("ManagedServers agents");
        var leaf = new CertificateRequest(subject.Build(), request.PublicKey, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leaf.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaChain.ClientAuthOid), new Oid(CaChain.ServerAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri($"urn:managedservers:server:{serverId}"));
        leaf.CertificateExtensions.Add(san.Build());
        return await SignAsync(leaf, lifetime);
    }

    /// <summary>The agent listener's certificate, valid for the given host names and addresses.</summary>
    public async Task<X509Certificate2> IssueListenerCertificateAsync(IEnumerable<string> hosts, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ManagedServers agent listener", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaChain.ServerAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        using var signed = await SignAsync(request, lifetime);
        using var withKey = signed.CopyWithPrivateKey(key);

        // Kestrel on Linux wants an exportable, non-ephemeral key: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A client certificate for the control plane itself (CN <see cref="Contracts.Agent.AgentApi.ControlPlaneCommonName"/>,
    /// clientAuth only), with a new key that never leaves this process: what agents' pull endpoints accept.
    /// </summary>
    public async Task<X509Certificate2> IssueControlPlaneClientCertificateAsync(TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Contracts.Agent.AgentApi.ControlPlaneCommonName}, O=ManagedServers", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaChain.ClientAuthOid)], false));
        using var signed = await SignAsync(request, lifetime);
        using var withKey = signed.CopyWithPrivateKey(key);

        // SslStream on Linux wants an exportable, non-ephemeral key: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// The control plane's current pull client certificate: issued on first use, kept in memory (never stored) and
    /// replaced by a new one once two thirds of its <see cref="ControlPlaneClientLifetime"/> have passed. The
    /// replaced certificate is not disposed: connections opened with it may still be in use, and it expires soon.
    /// </summary>
    public async Task<X509Certificate2> GetControlPlaneClientCertificateAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _controlPlaneClient);
        if (current is not null && !DueForReplacement(current))
        {
            return current;
        }

        await _clientGate.WaitAsync(cancellationToken);
        try
        {
            current = _controlPlaneClient;
            if (current is null || DueForReplacement(current))
            {
                current = await IssueControlPlaneClientCertificateAsync(ControlPlaneClientLifetime);
                Volatile.Write(ref _controlPlaneClient, current);
            }

            return current;
        }
        finally
        {
            _clientGate.Release();
        }
    }

    private bool DueForReplacement(X509Certificate2 certificate)
    {
        var notBefore = certificate.NotBefore.ToUniversalTime();
        var notAfter = certificate.NotAfter.ToUniversalTime();
        return time.GetUtcNow().UtcDateTime >= notBefore + ((notAfter - notBefore) * 2 / 3);
    }

    /// <summary>The server id of a client certificate issued by our CA for an agent, or null.</summary>
    public async Task<string?> ValidateAgentCertificateAsync(X509Certificate2 certificate)
    {
        var ca = await GetCaAsync();
        if (CaChain.Check(certificate, [ca], time.GetUtcNow().UtcDateTime, CaChain.ClientAuthOid) is not null)
        {
            return null;
        }

        var cn = certificate.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrEmpty(cn) || cn == Contracts.Agent.AgentApi.ControlPlaneCommonName ? null : cn; // the control plane's own pull certificate is no agent
    }

    public void Dispose()
    {
        _ca?.Dispose();
        _controlPlaneClient?.Dispose();
        _gate.Dispose();
        _clientGate.Dispose();
    }

    private async Task<X509Certificate2> SignAsync(CertificateRequest request, TimeSpan lifetime)
    {
        var ca = await GetCaAsync();
        var now = time.GetUtcNow();
        var notAfter = now + lifetime;
        if (notAfter > ca.NotAfter)
        {
            notAfter = ca.NotAfter;
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive
        return request.Create(ca, now.AddMinutes(-5), notAfter, serial);
    }

}
