namespace ManagedServers.Grains.Interfaces.Identity;

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
