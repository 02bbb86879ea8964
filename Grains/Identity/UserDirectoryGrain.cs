using System.Security.Cryptography;
using System.Text;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Identity;

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
