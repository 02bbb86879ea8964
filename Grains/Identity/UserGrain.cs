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
