using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Identity;

[GenerateSerializer, Alias("ms.CertificateAuthorityState")]
public sealed class CertificateAuthorityState
{
    [Id(0)]
    public CaMaterial? Material { get; set; }
}

/// <summary>Creates the built-in CA once (ECDSA P-384, ten years) and hands its material to the signing service.</summary>
public sealed class CertificateAuthorityGrain(
    [PersistentState("ca", GrainNames.Storage)] IPersistentState<CertificateAuthorityState> store,
    TimeProvider time)
    : Grain, ICertificateAuthorityGrain
{
    public async Task<CaMaterial> GetOrCreateAsync()
    {
        if (store.State.Material is { } material)
        {
            return material;
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var request = new CertificateRequest("CN=ManagedServers CA, O=ManagedServers", key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        store.State.Material = new CaMaterial(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        await store.WriteStateAsync();
        return store.State.Material;
    }
}
