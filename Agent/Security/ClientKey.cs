using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ManagedServers.Agent.Security;

/// <summary>Key pairs and certificate signing requests. Keys are made on this host and never leave it.</summary>
internal static class ClientKey
{
    /// <summary>A new ECDSA P-256 key.</summary>
    public static ECDsa Create() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>A PKCS#10 request (PEM) for <paramref name="key"/> with subject <c>CN=serverId</c>, signed with SHA-256.</summary>
    public static string CreateCsrPem(string serverId, ECDsa key)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(serverId);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], critical: false));
        return request.CreateSigningRequestPem();
    }

    /// <summary>
    /// Parses the certificate the control plane signed and checks it carries <paramref name="key"/>'s
    /// public key; returns it joined with the private key.
    /// </summary>
    public static X509Certificate2 CombineWithIssuedCertificate(ECDsa key, string certificatePem)
    {
        X509Certificate2 issued;
        try
        {
            issued = X509Certificate2.CreateFromPem(certificatePem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new AgentException($"the control plane sent an unreadable certificate: {e.Message}", e);
        }

        using (issued)
        {
            using var issuedKey = issued.GetECDsaPublicKey();
            if (issuedKey is null || !issuedKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new AgentException("the control plane sent a certificate for a different key");
            }

            // A fresh copy from PEM owns its key material, independent of the lifetime of key.
            return X509Certificate2.CreateFromPem(certificatePem, key.ExportPkcs8PrivateKeyPem());
        }
    }
}
