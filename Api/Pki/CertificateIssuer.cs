using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Security;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Shared.Security;

namespace ManagedServers.Api.Pki;

/// <summary>
/// Signs with the built-in CA: short-lived agent certificates from CSRs, the agent listener's server
/// certificate and the control plane's own client certificate for pull mode. The CAs are read from their grain
/// (private keys sealed), unsealed here with the silo's secrets key and kept in memory; the grain is asked again
/// every <see cref="RefreshInterval"/>, so a rotation started on any silo reaches every silo within that time.
/// </summary>
public sealed class CertificateIssuer(IGrainFactory grains, SecretBox secrets, TimeProvider time) : IDisposable
{
    /// <summary>Lifetime of the control plane's pull client certificate; a new one is issued after two thirds of it.</summary>
    public static readonly TimeSpan ControlPlaneClientLifetime = TimeSpan.FromDays(7);

    /// <summary>How long the CAs read from the grain are used before asking again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _clientGate = new(1, 1);
    private volatile LoadedCas? _cas;
    private X509Certificate2? _controlPlaneClient;

    /// <summary>The CAs in force, unsealed: <c>Signing</c> signs agent certificates, <c>Serving</c> the listener's and the control plane's own.</summary>
    private sealed record LoadedCas(CaSet Set, X509Certificate2 Signing, X509Certificate2 Serving, X509Certificate2Collection Trusted, string BundlePem, DateTimeOffset FetchedAt);

    /// <summary>The CA that signs agent certificates (the new one during a rotation).</summary>
    public async Task<X509Certificate2> GetCaAsync() => (await LoadAsync()).Signing;

    /// <summary>The CA that signs the agent listener's and the control plane's own certificates (the old one during a rotation).</summary>
    public async Task<X509Certificate2> GetServingCaAsync() => (await LoadAsync()).Serving;

    /// <summary>Every CA whose certificates are accepted: one, or two during a rotation.</summary>
    public async Task<X509Certificate2Collection> GetTrustedCasAsync() => (await LoadAsync()).Trusted;

    /// <summary>What agents are told to trust: every CA in force, as PEM (two during a rotation).</summary>
    public async Task<string> GetCaPemAsync() => (await LoadAsync()).BundlePem;

    /// <summary>The CAs as stored (certificates and status; keys sealed).</summary>
    public async Task<CaSet> GetCaSetAsync() => (await LoadAsync()).Set;

    /// <summary>Forgets the CAs read so far: the next use asks the grain (after a rotation on this silo).</summary>
    public void Refresh()
    {
        if (_cas is { } cas)
        {
            _cas = cas with { FetchedAt = DateTimeOffset.MinValue };
        }
    }

    private async Task<LoadedCas> LoadAsync()
    {
        var cas = _cas;
        if (cas is not null && time.GetUtcNow() - cas.FetchedAt < RefreshInterval)
        {
            return cas;
        }

        await _gate.WaitAsync();
        try
        {
            cas = _cas;
            if (cas is not null && time.GetUtcNow() - cas.FetchedAt < RefreshInterval)
            {
                return cas;
            }

            var set = await grains.GetGrain<ICertificateAuthorityGrain>("default").GetOrCreateAsync();
            if (cas is not null && cas.Set.Version == set.Version)
            {
                _cas = cas with { FetchedAt = time.GetUtcNow() };
                return _cas;
            }

            // The previous certificates are not disposed: TLS handshakes under way may still use them.
            var signing = Unseal(set.Current);
            var serving = set.Previous is { } previous ? Unseal(previous) : signing;
            var trusted = new X509Certificate2Collection(signing);
            if (!ReferenceEquals(serving, signing))
            {
                trusted.Add(serving);
            }

            var bundle = string.Concat(trusted.Select(c => c.ExportCertificatePem() + "\n"));
            _cas = new LoadedCas(set, signing, serving, trusted, bundle, time.GetUtcNow());
            return _cas;
        }
        finally
        {
            _gate.Release();
        }
    }

    private X509Certificate2 Unseal(CaKey key)
    {
        string privateKeyPem;
        try
        {
            privateKeyPem = secrets.Unprotect(key.SealedPrivateKey, CaKey.KeyPurpose);
        }
        catch (CryptographicException)
        {
            throw new InvalidOperationException(
                "cannot unseal the CA private key: this silo's secrets key is not the one that sealed it. Every silo of a cluster needs the same Secrets:Key; a single silo needs the secret.key of its data directory");
        }

        return X509Certificate2.CreateFromPem(key.CertificatePem, privateKeyPem);
    }

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
        return Sign(leaf, lifetime, await GetCaAsync());
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
        using var signed = Sign(request, lifetime, await GetServingCaAsync());
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
        using var signed = Sign(request, lifetime, await GetServingCaAsync());
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

    /// <summary>
    /// The rule for the certificates this issuer makes for the control plane itself (the agent listener's, the pull
    /// client's): replace after two thirds of the lifetime, or at once when the serving CA changed (a finished
    /// rotation: agents no longer trust the CA that signed it). Reads the CAs as last loaded.
    /// </summary>
    public bool DueForReplacement(X509Certificate2 certificate)
    {
        if (_cas is { } cas && !string.Equals(certificate.Issuer, cas.Serving.Subject, StringComparison.Ordinal))
        {
            return true;
        }

        var notBefore = certificate.NotBefore.ToUniversalTime();
        var notAfter = certificate.NotAfter.ToUniversalTime();
        return time.GetUtcNow().UtcDateTime >= notBefore + ((notAfter - notBefore) * 2 / 3);
    }

    /// <summary>The server id of a client certificate issued by our CA for an agent, or null.</summary>
    public async Task<string?> ValidateAgentCertificateAsync(X509Certificate2 certificate)
    {
        if (CaChain.Check(certificate, await GetTrustedCasAsync(), time.GetUtcNow().UtcDateTime, CaChain.ClientAuthOid) is not null)
        {
            return null;
        }

        var cn = certificate.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrEmpty(cn) || cn == Contracts.Agent.AgentApi.ControlPlaneCommonName ? null : cn; // the control plane's own pull certificate is no agent
    }

    public void Dispose()
    {
        _controlPlaneClient?.Dispose();
        _gate.Dispose();
        _clientGate.Dispose();
    }

    private X509Certificate2 Sign(CertificateRequest request, TimeSpan lifetime, X509Certificate2 ca)
    {
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
