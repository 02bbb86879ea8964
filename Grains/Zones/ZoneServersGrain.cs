using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Zones;

/// <summary>Persisted part of <see cref="ZoneServersGrain"/>: server ids, sorted.</summary>
[GenerateSerializer, Alias("ms.ZoneServersState")]
public sealed class ZoneServersState
{
    [Id(0)]
    public List<string> Servers { get; set; } = [];
}

/// <summary>The servers one zone is assigned to (<see cref="IZoneServersGrain"/>); written only when the set changes.</summary>
public sealed class ZoneServersGrain(
    [PersistentState("zoneServers", GrainNames.Storage)] IPersistentState<ZoneServersState> store)
    : Grain, IZoneServersGrain
{
    public async Task SetAsync(string serverId, bool assigned)
    {
        var servers = store.State.Servers;
        var at = servers.BinarySearch(serverId, StringComparer.Ordinal);
        if (assigned == at >= 0)
        {
            return;
        }

        if (assigned)
        {
            servers.Insert(~at, serverId);
        }
        else
        {
            servers.RemoveAt(at);
        }

        if (servers.Count == 0)
        {
            await store.ClearStateAsync();
            store.State = new ZoneServersState();
        }
        else
        {
            await store.WriteStateAsync();
        }
    }

    public Task<ImmutableArray<string>> ListAsync() => Task.FromResult(store.State.Servers.ToImmutableArray());
}
