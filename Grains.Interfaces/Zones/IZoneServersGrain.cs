namespace ManagedServers.Grains.Interfaces.Zones;

/// <summary>
/// Which servers a zone is assigned to (key: the zone name): the reverse of a server's assignment, kept by the servers'
/// DNS side as they change it, so a zone's page asks only the servers that serve it, never the whole fleet. A hint:
/// readers confirm each server (an entry left by a silo lost mid-change is filtered out; a server announces again what
/// the index missed when it next activates).
/// </summary>
[Alias("ms.IZoneServersGrain")]
public interface IZoneServersGrain : IGrainWithStringKey
{
    /// <summary>Records that <paramref name="serverId"/> serves the zone (<paramref name="assigned"/>) or no longer does; idempotent.</summary>
    Task SetAsync(string serverId, bool assigned);

    /// <summary>The ids of the servers the zone is assigned to, sorted.</summary>
    [ReadOnly]
    Task<ImmutableArray<string>> ListAsync();
}
