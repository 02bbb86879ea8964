using System.Security.Cryptography;
using System.Text;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Identity;

[GenerateSerializer, Alias("ms.UserState")]
public sealed class UserState
{
    [Id(0)]
    public UserRecord? Record { get; set; }
}

public sealed class UserGrain(
    [PersistentState("user", GrainNames.Storage)] IPersistentState<UserState> store,
    TimeProvider time)
    : Grain, IUserGrain
{
    private string Name => this.GetPrimaryKeyString();

    public async Task<UserRecord> CreateAsync(string? passwordHash, ImmutableArray<string> groups, string? serverId)
    {
        if (store.State.Record is not null)
        {
            throw new ConflictException($"user '{Name}' already exists") { Field = "name" };
        }

        store.State.Record = new UserRecord(Name, passwordHash, groups, serverId, time.GetUtcNow(), []);
        await store.WriteStateAsync();
        return store.State.Record;
    }

    public async Task<bool> EnsureAsync(string? passwordHash, ImmutableArray<string> groups)
    {
        if (store.State.Record is not null)
        {
            return false;
        }

        await CreateAsync(passwordHash, groups, null);
        return true;
    }

    public Task<UserRecord?> GetAsync() => Task.FromResult(store.State.Record);

    public async Task BindServerAsync(string serverId)
    {
        var record = store.State.Record ?? throw new NotFoundException($"user '{Name}' not found");
        if (record.ServerId is not null && record.ServerId != serverId)
        {
            throw new ConflictException($"user '{Name}' is already the server user of server '{record.ServerId}'") { Field = "server_user" };
        }

        var groups = record.Groups.Contains(Groups.Servers) ? record.Groups : record.Groups.Add(Groups.Servers);
        store.State.Record = record with { ServerId = serverId, Groups = groups };
        await store.WriteStateAsync();
    }

    public async Task DeleteAsync()
    {
        if (store.State.Record is { } record)
        {
            foreach (var tokenId in record.TokenIds)
            {
                await GrainFactory.GetGrain<IApiTokenGrain>(tokenId).RevokeAsync();
            }
        }

        await store.ClearStateAsync();
        store.State = new UserState();
    }

    public async Task AddTokenAsync(string tokenId)
    {
        var record = store.State.Record ?? throw new NotFoundException($"user '{Name}' not found");
        store.State.Record = record with { TokenIds = record.TokenIds.Add(tokenId) };
        await store.WriteStateAsync();
    }

    public async Task RemoveTokenAsync(string tokenId)
    {
        if (store.State.Record is { } record)
        {
            store.State.Record = record with { TokenIds = record.TokenIds.Remove(tokenId) };
            await store.WriteStateAsync();
        }
    }
}

[GenerateSerializer, Alias("ms.UserDirectoryState")]
public sealed class UserDirectoryState
{
    [Id(0)]
    public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>People users only: a handful of rows, so one grain is fine here.</summary>
public sealed class UserDirectoryGrain(
    [PersistentState("users", GrainNames.Storage)] IPersistentState<UserDirectoryState> store)
    : Grain, IUserDirectoryGrain
{
    public async Task AddAsync(string userName)
    {
        if (store.State.Names.Add(userName))
        {
            await store.WriteStateAsync();
        }
    }

    public async Task RemoveAsync(string userName)
    {
        if (store.State.Names.Remove(userName))
        {
            await store.WriteStateAsync();
        }
    }

    public Task<ImmutableArray<string>> ListAsync() => Task.FromResult(store.State.Names.ToImmutableArray());
}

[GenerateSerializer, Alias("ms.ApiTokenState")]
public sealed class ApiTokenState
{
    [Id(0)]
    public ApiTokenRecord? Record { get; set; }
}

public sealed class ApiTokenGrain(
    [PersistentState("token", GrainNames.Storage)] IPersistentState<ApiTokenState> store,
    TimeProvider time)
    : Grain, IApiTokenGrain
{
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(5);

    public async Task CreateAsync(ApiTokenRecord record)
    {
        if (store.State.Record is not null)
        {
            throw new ConflictException("token id already in use");
        }

        store.State.Record = record;
        await store.WriteStateAsync();
    }

    public async Task<string?> ValidateAsync(string secretSha256) => (await CheckAsync(secretSha256)).User;

    public async Task<TokenCheck> CheckAsync(string secretSha256)
    {
        var record = store.State.Record;
        if (record is null
            || !SecretHash.Equal(record.SecretSha256, secretSha256))
        {
            return new TokenCheck(TokenStatus.NotValid, null, null);
        }

        var now = time.GetUtcNow();
        if (record.ExpiresAt is { } expires && expires <= now)
        {
            return new TokenCheck(TokenStatus.Expired, null, expires);
        }

        if (record.LastUsedAt is null || now - record.LastUsedAt > LastUsedResolution)
        {
            store.State.Record = record with { LastUsedAt = now };
            await store.WriteStateAsync();
        }

        return new TokenCheck(TokenStatus.Valid, record.User, record.ExpiresAt);
    }

    public Task<ApiTokenRecord?> GetAsync() => Task.FromResult(store.State.Record);

    public async Task RevokeAsync()
    {
        await store.ClearStateAsync();
        store.State = new ApiTokenState();
    }
}

[GenerateSerializer, Alias("ms.ServerNameState")]
public sealed class ServerNameState
{
    [Id(0)]
    public string? ServerId { get; set; }
}

public sealed class ServerNameGrain(
    [PersistentState("serverName", GrainNames.Storage)] IPersistentState<ServerNameState> store)
    : Grain, IServerNameGrain
{
    public async Task<bool> TryClaimAsync(string serverId)
    {
        if (store.State.ServerId is { } holder)
        {
            return holder == serverId;
        }

        store.State.ServerId = serverId;
        await store.WriteStateAsync();
        return true;
    }

    public async Task ReleaseAsync(string serverId)
    {
        if (store.State.ServerId == serverId)
        {
            await store.ClearStateAsync();
            store.State = new ServerNameState();
        }
    }
}
