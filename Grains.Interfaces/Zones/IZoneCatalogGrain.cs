namespace ManagedServers.Grains.Interfaces.Zones;

/// <summary>
/// One shard of the zone catalog (key: shard number, 0 ≤ key &lt; <see cref="ZoneCatalog.ShardCount"/>). Zone grains keep
/// their summary here on create, change and delete, so a zone listing never activates the zone grains.
/// </summary>
[Alias("ms.IZoneCatalogGrain")]
public interface IZoneCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Adds or replaces a zone's summary.</summary>
    Task UpsertAsync(ZoneSummary zone);

    /// <summary>Removes a zone.</summary>
    Task RemoveAsync(string name);

    /// <summary>The shard's matching zones, sorted, cut to the first <see cref="ZoneQuery.Take"/>, and the match count.</summary>
    [ReadOnly]
    Task<ZoneQueryResult> QueryAsync(ZoneQuery query);
}

/// <summary>Sort keys for zone listings.</summary>
public enum ZoneSort
{
    Name,
    Serial,
    Records,
    UpdatedAt,
    CreatedAt,
}

/// <summary>A zone listing query as one shard sees it (<see cref="Search"/>: a substring of the name).</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneQuery")]
public sealed record ZoneQuery([property: Id(0)] string? Search, [property: Id(1)] ZoneSort Sort, [property: Id(2)] bool Descending, [property: Id(3)] int Take);

/// <summary>One shard's answer.</summary>
[GenerateSerializer, Immutable, Alias("ms.ZoneQueryResult")]
public sealed record ZoneQueryResult([property: Id(0)] ImmutableArray<ZoneSummary> Items, [property: Id(1)] int Total);

/// <summary>Shard placement (stable: changing it needs a re-index) and the shared query logic.</summary>
public static class ZoneCatalog
{
    public const int ShardCount = 8;

    public static int ShardOf(string zone) => ManagedServers.Contracts.Agent.AmqpTopology.PartitionOf(zone, ShardCount);

    /// <summary>Filters, sorts and cuts one shard's zones.</summary>
    public static ZoneQueryResult Query(IEnumerable<ZoneSummary> zones, ZoneQuery query)
    {
        var matches = string.IsNullOrWhiteSpace(query.Search)
            ? zones
            : zones.Where(z => z.Name.Contains(query.Search.Trim(), StringComparison.OrdinalIgnoreCase));
        var list = matches.ToList();
        list.Sort(Comparer(query.Sort, query.Descending));
        return new ZoneQueryResult([.. list.Take(Math.Max(0, query.Take))], list.Count);
    }

    public static Comparison<ZoneSummary> Comparer(ZoneSort sort, bool descending)
    {
        Comparison<ZoneSummary> primary = sort switch
        {
            ZoneSort.Serial => (a, b) => a.Serial.CompareTo(b.Serial),
            ZoneSort.Records => (a, b) => a.RecordCount.CompareTo(b.RecordCount),
            ZoneSort.UpdatedAt => (a, b) => a.UpdatedAt.CompareTo(b.UpdatedAt),
            ZoneSort.CreatedAt => (a, b) => a.CreatedAt.CompareTo(b.CreatedAt),
            _ => (_, _) => 0,
        };
        return (a, b) =>
        {
            var c = primary(a, b);
            if (c == 0)
            {
                c = string.CompareOrdinal(a.Name, b.Name);
            }

            return descending ? -c : c;
        };
    }

    /// <summary>Asks every shard at once and returns their answers in shard order.</summary>
    public static Task<T[]> AskAllAsync<T>(IGrainFactory grains, Func<IZoneCatalogGrain, Task<T>> ask) =>
        Shards.AskAllAsync(grains, ShardCount, ask);
}
