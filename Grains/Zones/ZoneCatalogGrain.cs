using ManagedServers.Grains.Interfaces.Zones;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Zones;

/// <summary>Persisted part of a zone catalog shard.</summary>
[GenerateSerializer, Alias("ms.ZoneCatalogState")]
public sealed class ZoneCatalogState
{
    [Id(0)]
    public Dictionary<string, ZoneSummary> Zones { get; set; } = [];
}

/// <summary>One shard of the zone catalog: summaries only (a few hundred bytes per zone), answered from memory.</summary>
public sealed class ZoneCatalogGrain(
    [PersistentState("zoneCatalog", GrainNames.Storage)] IPersistentState<ZoneCatalogState> store)
    : Grain, IZoneCatalogGrain
{
    public async Task UpsertAsync(ZoneSummary zone)
    {
        if (store.State.Zones.TryGetValue(zone.Name, out var old) && old == zone)
        {
            return;
        }

        store.State.Zones[zone.Name] = zone;
        await store.WriteStateAsync();
    }

    public async Task RemoveAsync(string name)
    {
        if (store.State.Zones.Remove(name))
        {
            await store.WriteStateAsync();
        }
    }

    public Task<ZoneQueryResult> QueryAsync(ZoneQuery query) => Task.FromResult(ZoneCatalog.Query(store.State.Zones.Values, query));
}
