using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ManagedServers.Grains.Identity;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests.Identity;

/// <summary>
/// The built-in CA at rest: its private key is sealed with the secrets key before it reaches storage, a key stored in
/// clear by an earlier version is sealed at activation, and a rotation keeps the old CA until it is finished.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CertificateAuthorityTests(ClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    private SecretBox Secrets => SecretBox.Load(null, fixture.DataDir);

    [Fact]
    public async Task The_private_key_never_reaches_storage_in_clear()
    {
        var set = await Cluster.Client.GetGrain<ICertificateAuthorityGrain>("sealed-" + Guid.NewGuid().ToString("N")[..8]).GetOrCreateAsync();
        Assert.StartsWith("v1:", set.Current.SealedPrivateKey, StringComparison.Ordinal);
        var pem = Secrets.Unprotect(set.Current.SealedPrivateKey, CaKey.KeyPurpose);
        using (var ca = X509Certificate2.CreateFromPem(set.Current.CertificatePem, pem))
        {
            Assert.True(ca.HasPrivateKey);
        }

        // A run of the key's base64 body must appear in no file of the data directory (database, WAL).
        var body = pem.Split('\n', StringSplitOptions.RemoveEmptyEntries)[2];
        foreach (var file in Directory.EnumerateFiles(fixture.DataDir))
        {
            Assert.False(Contains(file, body), $"{Path.GetFileName(file)} holds the CA private key in clear");
        }

        // The purpose is bound: the sealed key cannot be read as another secret.
        Assert.ThrowsAny<CryptographicException>(() => Secrets.Unprotect(set.Current.SealedPrivateKey, "rabbitmq.password"));
    }

    [Fact]
    public async Task A_key_stored_in_clear_by_an_earlier_version_is_sealed_at_activation()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var certificate = new CertificateRequest("CN=ManagedServers CA, O=ManagedServers", key, HashAlgorithmName.SHA384)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
        var legacy = new CaMaterial(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
        var grain = Cluster.Client.GetGrain<ICertificateAuthorityGrain>("legacy-" + Guid.NewGuid().ToString("N")[..8]);
        var storage = Storage();
        await storage.WriteStateAsync("ca", grain.GetGrainId(), new GrainState<CertificateAuthorityState>(new CertificateAuthorityState { Material = legacy }));

        var set = await grain.GetOrCreateAsync();

        // The same CA (agents keep working), its key now sealed, and the clear copy gone from the stored state.
        Assert.Equal(legacy.CertificatePem, set.Current.CertificatePem);
        Assert.Equal(legacy.PrivateKeyPem, Secrets.Unprotect(set.Current.SealedPrivateKey, CaKey.KeyPurpose));
        var stored = new GrainState<CertificateAuthorityState>(new CertificateAuthorityState());
        await storage.ReadStateAsync("ca", grain.GetGrainId(), stored);
        Assert.Null(stored.State!.Material);
        Assert.NotNull(stored.State!.Current);
    }

    [Fact]
    public async Task A_rotation_keeps_the_old_ca_until_it_is_finished()
    {
        var grain = Cluster.Client.GetGrain<ICertificateAuthorityGrain>("rotate-" + Guid.NewGuid().ToString("N")[..8]);
        var first = await grain.GetOrCreateAsync();
        Assert.Null(first.Previous);

        var rotating = await grain.RotateAsync();
        Assert.Equal(first.Current, rotating.Previous);
        Assert.NotEqual(first.Current.CertificatePem, rotating.Current.CertificatePem);
        Assert.NotNull(rotating.RotationStartedAt);
        Assert.True(rotating.Version > first.Version);
        using (var oldCa = X509Certificate2.CreateFromPem(first.Current.CertificatePem))
        using (var newCa = X509Certificate2.CreateFromPem(rotating.Current.CertificatePem))
        {
            Assert.NotEqual(oldCa.Subject, newCa.Subject); // agent certificates name their CA: the issuer tells them apart
        }

        var twice = await Assert.ThrowsAsync<ConflictException>(grain.RotateAsync);
        Assert.Contains("under way", twice.Message, StringComparison.Ordinal);

        var finished = await grain.FinishRotationAsync();
        Assert.Null(finished.Previous);
        Assert.Null(finished.RotationStartedAt);
        Assert.Equal(rotating.Current, finished.Current);
        await Assert.ThrowsAsync<ConflictException>(grain.FinishRotationAsync);
        Assert.Equal(finished, await grain.GetOrCreateAsync());
    }

    private IGrainStorage Storage() =>
        ((InProcessSiloHandle?)Cluster.Primary)!.SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(Servers.GrainNames.Storage);

    private static bool Contains(string file, string text)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray().AsSpan().IndexOf(Encoding.ASCII.GetBytes(text)) >= 0;
    }
}
