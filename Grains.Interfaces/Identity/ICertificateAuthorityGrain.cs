namespace ManagedServers.Grains.Interfaces.Identity;

/// <summary>The built-in CA's key material as stored before keys were sealed (read once, to migrate it).</summary>
[GenerateSerializer, Immutable, Alias("ms.CaMaterial")]
public sealed record CaMaterial([property: Id(0)] string CertificatePem, [property: Id(1)] string PrivateKeyPem);

/// <summary>
/// One CA: its certificate and its private key sealed by SecretBox (ManagedServers.Shared.Security) (purpose <see cref="KeyPurpose"/>).
/// The key never leaves grain state or a grain call in clear; the signing service unseals it in memory.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.CaKey")]
public sealed record CaKey(
    [property: Id(0)] string CertificatePem,
    [property: Id(1)] string SealedPrivateKey,
    [property: Id(2)] DateTimeOffset CreatedAt)
{
    /// <summary>The SecretBox (ManagedServers.Shared.Security) purpose of <see cref="SealedPrivateKey"/>.</summary>
    public const string KeyPurpose = "ca.private-key";
}

/// <summary>
/// The CAs in force. Outside a rotation only <see cref="Current"/>. During a rotation <see cref="Current"/> is the new
/// CA (it signs agent certificates) and <see cref="Previous"/> the old one: both are trusted, agents are handed
/// both, and the old one still signs the agent listener's and the control plane's own certificates, which agents
/// that have not renewed yet trust. <see cref="Version"/> changes with every change, so hosts notice.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.CaSet")]
public sealed record CaSet(
    [property: Id(0)] CaKey Current,
    [property: Id(1)] CaKey? Previous,
    [property: Id(2)] int Version)
{
    /// <summary>When the rotation under way started (the new CA's creation), or null.</summary>
    public DateTimeOffset? RotationStartedAt => Previous is null ? null : Current.CreatedAt;
}

/// <summary>The built-in CA (key: "default"). Created on first use; read by the signing service in each silo host.</summary>
[Alias("ms.ICertificateAuthorityGrain")]
public interface ICertificateAuthorityGrain : IGrainWithStringKey
{
    /// <summary>The CAs in force, creating the first one when there is none.</summary>
    Task<CaSet> GetOrCreateAsync();

    /// <summary>Starts a rotation: a new CA becomes current, the old one stays trusted. <see cref="Servers.ConflictException"/> during a rotation.</summary>
    Task<CaSet> RotateAsync();

    /// <summary>Ends a rotation: the old CA is no longer trusted. <see cref="Servers.ConflictException"/> when none is under way.</summary>
    Task<CaSet> FinishRotationAsync();
}
