using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Security;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Grains.Identity;

[GenerateSerializer, Alias("ms.CertificateAuthorityState")]
public sealed class CertificateAuthorityState
{
    /// <summary>The CA as stored before keys were sealed (clear PEM key): migrated to <see cref="Current"/> on activation, then cleared.</summary>
    [Id(0)]
    public CaMaterial? Material { get; set; }

    [Id(1)]
    public CaKey? Current { get; set; }

    [Id(2)]
    public CaKey? Previous { get; set; }

    [Id(3)]
    public int Version { get; set; }
}

/// <summary>
/// The built-in CA (ECDSA P-384, ten years). Its private key is sealed with the silo's secrets key
/// (<see cref="SecretBox"/>) before it reaches grain state, in SQLite as in PostgreSQL; a key stored in clear by an
/// earlier version is sealed when the grain activates. Rotation keeps the old CA trusted until it is finished.
/// </summary>
public sealed partial class CertificateAuthorityGrain(
    [PersistentState("ca", GrainNames.Storage)] IPersistentState<CertificateAuthorityState> store,
    SecretBox secrets,
    TimeProvider time,
    ILogger<CertificateAuthorityGrain> logger)
    : Grain, ICertificateAuthorityGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (store.State.Material is { } legacy)
        {
            store.State.Current ??= new CaKey(legacy.CertificatePem, secrets.Protect(legacy.PrivateKeyPem, CaKey.KeyPurpose), CreatedOf(legacy.CertificatePem));
            store.State.Material = null;
            store.State.Version++;
            await store.WriteStateAsync(cancellationToken);
            LogSealed(logger);
        }
    }

    public async Task<CaSet> GetOrCreateAsync()
    {
        if (store.State.Current is null)
        {
            store.State.Current = NewCa();
            store.State.Version++;
            await store.WriteStateAsync();
        }

        return Snapshot();
    }

    public async Task<CaSet> RotateAsync()
    {
        await GetOrCreateAsync();
        if (store.State.Previous is not null)
        {
            throw new ConflictException($"a CA rotation is under way since {store.State.Current!.CreatedAt:u}; finish it first ('msctl ca rotate --finish')");
        }

        store.State.Previous = store.State.Current;
        store.State.Current = NewCa();
        store.State.Version++;
        await store.WriteStateAsync();
        LogRotationStarted(logger);
        return Snapshot();
    }

    public async Task<CaSet> FinishRotationAsync()
    {
        await GetOrCreateAsync();
        if (store.State.Previous is null)
        {
            throw new ConflictException("no CA rotation is under way; start one with 'msctl ca rotate'");
        }

        store.State.Previous = null;
        store.State.Version++;
        await store.WriteStateAsync();
        LogRotationFinished(logger);
        return Snapshot();
    }

    private CaSet Snapshot() => new(store.State.Current!, store.State.Previous, store.State.Version);

    private CaKey NewCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var now = time.GetUtcNow();

        // A name of its own (date and a random tag): agent certificates name their issuer, which tells the CAs of a rotation apart.
        var tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var request = new CertificateRequest($"CN=ManagedServers CA {now:yyyy-MM-dd} {tag}, O=ManagedServers", key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        return new CaKey(certificate.ExportCertificatePem(), secrets.Protect(key.ExportPkcs8PrivateKeyPem(), CaKey.KeyPurpose), now);
    }

    private static DateTimeOffset CreatedOf(string certificatePem)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        return new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
    }

    [LoggerMessage(EventId = 1060, Level = LogLevel.Information, Message = "The CA private key, stored in clear by an earlier version, is now sealed with the secrets key; rotate the CA ('msctl ca rotate') to retire the key that was readable")]
    private static partial void LogSealed(ILogger logger);

    [LoggerMessage(EventId = 1061, Level = LogLevel.Warning, Message = "CA rotation started: a new CA signs agent certificates; the old one stays trusted until the rotation is finished")]
    private static partial void LogRotationStarted(ILogger logger);

    [LoggerMessage(EventId = 1062, Level = LogLevel.Warning, Message = "CA rotation finished: the old CA is no longer trusted")]
    private static partial void LogRotationFinished(ILogger logger);
}
