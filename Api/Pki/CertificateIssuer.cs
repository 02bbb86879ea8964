using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Security;
using ManagedServers.Grains.Interfaces.Identity;

namespace ManagedServers.Api.Pki;

/// <summary>
/// Signs with the built-in CA: short-lived agent client certificates from CSRs, and the agent
/// listener's server certificate. The CA material is fetched once from its grain and kept in memory.
/// </summary>
public sealed class CertificateIssuer(IGrainFactory grains, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private X509Certificate2? _ca;

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

    /// <summary>Signs an agent's CSR. The subject is set by us (CN = server id), whatever the CSR asked for.</summary>
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

        var leaf = new CertificateRequest(new X500DistinguishedName($"CN={serverId}, O=ManagedServers agents"), request.PublicKey, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leaf.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CaChain.ClientAuthOid)], false));
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

    /// <summary>The server id of a client certificate issued by our CA for an agent, or null.</summary>
    public async Task<string?> ValidateAgentCertificateAsync(X509Certificate2 certificate)
    {
        var ca = await GetCaAsync();
        if (CaChain.Check(certificate, [ca], time.GetUtcNow().UtcDateTime, CaChain.ClientAuthOid) is not null)
        {
            return null;
        }

        var cn = certificate.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrEmpty(cn) ? null : cn;
    }

    public void Dispose()
    {
        _ca?.Dispose();
        _gate.Dispose();
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
