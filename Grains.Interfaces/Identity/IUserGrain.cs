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
