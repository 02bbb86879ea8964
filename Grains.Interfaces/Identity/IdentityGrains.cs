namespace ManagedServers.Grains.Interfaces.Identity;

/// <summary>Built-in groups.</summary>
public static class Groups
{
    /// <summary>Full control.</summary>
    public const string Admins = "admins";

    /// <summary>Read-only access to everything but secrets.</summary>
    public const string Viewers = "viewers";

    /// <summary>Server users: each may act only for its own managed server.</summary>
    public const string Servers = "servers";

    public static ImmutableArray<string> All { get; } = [Admins, Viewers, Servers];
}

/// <summary>A stored user (password as a PBKDF2 hash, never in clear).</summary>
[GenerateSerializer, Immutable, Alias("ms.UserRecord")]
public sealed record UserRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] string? PasswordHash,
    [property: Id(2)] ImmutableArray<string> Groups,
    [property: Id(3)] string? ServerId,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] ImmutableArray<string> TokenIds);

/// <summary>A user (key: user name, lower case).</summary>
[Alias("ms.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Creates the user; <see cref="Servers.ConflictException"/> when it exists.</summary>
    Task<UserRecord> CreateAsync(string? passwordHash, ImmutableArray<string> groups, string? serverId);

    /// <summary>Creates the user only when missing; returns whether it created it.</summary>
    Task<bool> EnsureAsync(string? passwordHash, ImmutableArray<string> groups);

    [ReadOnly]
    Task<UserRecord?> GetAsync();

    /// <summary>Binds a server user to its server (refused when bound to another server).</summary>
    Task BindServerAsync(string serverId);

    Task DeleteAsync();

    Task AddTokenAsync(string tokenId);

    Task RemoveTokenAsync(string tokenId);
}

/// <summary>The list of people users (server users are listed through the fleet index instead).</summary>
[Alias("ms.IUserDirectoryGrain")]
public interface IUserDirectoryGrain : IGrainWithStringKey
{
    Task AddAsync(string userName);

    Task RemoveAsync(string userName);

    [ReadOnly]
    Task<ImmutableArray<string>> ListAsync();
}

/// <summary>A stored API token: only the SHA-256 of its secret is kept.</summary>
[GenerateSerializer, Immutable, Alias("ms.ApiTokenRecord")]
public sealed record ApiTokenRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string User,
    [property: Id(3)] string SecretSha256,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? ExpiresAt,
    [property: Id(6)] DateTimeOffset? LastUsedAt);

/// <summary>What a presented token is: live, expired (the secret matches, its time is over), or not a token at all.</summary>
public enum TokenStatus
{
    /// <summary>The secret matches and the token has not expired.</summary>
    Valid,

    /// <summary>The secret matches but the token expired at <see cref="TokenCheck.ExpiresAt"/>.</summary>
    Expired,

    /// <summary>No such token (never issued, revoked) or the secret does not match.</summary>
    NotValid,
}

/// <summary>The outcome of <see cref="IApiTokenGrain.CheckAsync"/>: the owner only when <see cref="Status"/> is valid.</summary>
[GenerateSerializer, Immutable, Alias("ms.TokenCheck")]
public sealed record TokenCheck(
    [property: Id(0)] TokenStatus Status,
    [property: Id(1)] string? User,
    [property: Id(2)] DateTimeOffset? ExpiresAt);

/// <summary>An API token (key: token id, the public part of the token).</summary>
[Alias("ms.IApiTokenGrain")]
public interface IApiTokenGrain : IGrainWithStringKey
{
    Task CreateAsync(ApiTokenRecord record);

    /// <summary>The token's owner when <paramref name="secretSha256"/> matches and the token is live; otherwise null.</summary>
    Task<string?> ValidateAsync(string secretSha256);

    /// <summary>
    /// Checks a presented secret: valid (with the owner), expired (the secret matches; when it expired) or not valid.
    /// An expired token is kept, so the one who presents it learns that it expired rather than that it never existed.
    /// </summary>
    Task<TokenCheck> CheckAsync(string secretSha256);

    [ReadOnly]
    Task<ApiTokenRecord?> GetAsync();

    Task RevokeAsync();
}

/// <summary>The names a server name is claimed under (key: lower-case name): keeps names unique cluster-wide.</summary>
[Alias("ms.IServerNameGrain")]
public interface IServerNameGrain : IGrainWithStringKey
{
    /// <summary>Claims the name for <paramref name="serverId"/>; false when another server holds it.</summary>
    Task<bool> TryClaimAsync(string serverId);

    /// <summary>Releases the name if <paramref name="serverId"/> holds it.</summary>
    Task ReleaseAsync(string serverId);
}

/// <summary>The built-in CA's key material as stored before keys were sealed (read once, to migrate it).</summary>
[GenerateSerializer, Immutable, Alias("ms.CaMaterial")]
public sealed record CaMaterial([property: Id(0)] string CertificatePem, [property: Id(1)] string PrivateKeyPem);

/// <summary>
/// One CA: its certificate and its private key sealed by <see cref="SecretBox"/> (purpose <see cref="KeyPurpose"/>).
/// The key never leaves grain state or a grain call in clear; the signing service unseals it in memory.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.CaKey")]
public sealed record CaKey(
    [property: Id(0)] string CertificatePem,
    [property: Id(1)] string SealedPrivateKey,
    [property: Id(2)] DateTimeOffset CreatedAt)
{
    /// <summary>The <see cref="SecretBox"/> purpose of <see cref="SealedPrivateKey"/>.</summary>
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
