using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Grains.Interfaces.Fleet;

/// <summary>
/// One shard of the fleet index (key: shard number, 0 ≤ key &lt; <see cref="FleetIndex.ShardCount"/>).
/// Server grains keep their summary here so listings never activate every server grain and no
/// single grain serves the whole fleet.
/// </summary>
[Alias("ms.IFleetIndexGrain")]
public interface IFleetIndexGrain : IGrainWithIntegerKey
{
    /// <summary>Adds or replaces a server's summary.</summary>
    Task UpsertAsync(ServerSnapshot server);

    /// <summary>Removes a server.</summary>
    Task RemoveAsync(string serverId);

    /// <summary>The shard's matching servers, sorted, limited to the first <see cref="IndexQuery.Take"/>, and the match count.</summary>
    [ReadOnly]
    Task<IndexQueryResult> QueryAsync(IndexQuery query);

    /// <summary>The shard's servers counted by state and kind: a few numbers, for the fleet gauges of <c>/metrics</c>.</summary>
    [ReadOnly]
    Task<FleetCounts> CountAsync();

    /// <summary>The shard's servers whose agent reported a Prometheus address (<see cref="ServerSnapshot.MetricsAddress"/>).</summary>
    [ReadOnly]
    Task<ImmutableArray<ServerSnapshot>> ListMetricsTargetsAsync();

    /// <summary>
    /// The shard's fullest DHCP subnets (from each server's summary: its <see cref="Monitoring.SubnetUtilisation"/>s of
    /// the latest interval), at least <paramref name="minimum"/> percent full, fullest first, at most <paramref name="n"/>.
    /// </summary>
    [ReadOnly]
    Task<ImmutableArray<FleetSubnetUtilisation>> TopDhcpSubnetsAsync(int n, double minimum);

    /// <summary>Ids of the shard's servers with queued or running jobs (<see cref="ServerSnapshot.ActiveJobs"/>).</summary>
    [ReadOnly]
    Task<ImmutableArray<string>> ListWithActiveJobsAsync();
}

/// <summary>How many servers are in one state and of one kind.</summary>
[GenerateSerializer, Immutable, Alias("ms.FleetCount")]
public sealed record FleetCount([property: Id(0)] ServerState State, [property: Id(1)] ServerKind Kind, [property: Id(2)] int Count);

/// <summary>Server counts by state and kind (pairs with no server are left out).</summary>
[GenerateSerializer, Immutable, Alias("ms.FleetCounts")]
public sealed record FleetCounts([property: Id(0)] ImmutableArray<FleetCount> Counts)
{
    public static FleetCounts Empty { get; } = new([]);

    public int Total => Counts.Sum(c => c.Count);

    /// <summary>The count for one state and kind (0 when none).</summary>
    public int Of(ServerState state, ServerKind kind)
    {
        foreach (var c in Counts)
        {
            if (c.State == state && c.Kind == kind)
            {
                return c.Count;
            }
        }

        return 0;
    }

    /// <summary>Counts a set of server summaries.</summary>
    public static FleetCounts Count(IEnumerable<ServerSnapshot> servers) =>
        Sum(servers.Select(s => new FleetCount(s.State, s.Definition.Kind, 1)));

    /// <summary>Adds up several shards' counts.</summary>
    public static FleetCounts Merge(IEnumerable<FleetCounts> parts) => Sum(parts.SelectMany(p => p.Counts));

    private static FleetCounts Sum(IEnumerable<FleetCount> counts)
    {
        var totals = new Dictionary<(ServerState, ServerKind), int>();
        foreach (var c in counts)
        {
            totals[(c.State, c.Kind)] = totals.GetValueOrDefault((c.State, c.Kind)) + c.Count;
        }

        return new([.. totals.OrderBy(t => t.Key.Item1).ThenBy(t => t.Key.Item2).Select(t => new FleetCount(t.Key.Item1, t.Key.Item2, t.Value))]);
    }
}

/// <summary>A listing query as one shard sees it.</summary>
[GenerateSerializer, Immutable, Alias("ms.IndexQuery")]
public sealed record IndexQuery(
    [property: Id(0)] string? Search,
    [property: Id(1)] ServerSort Sort,
    [property: Id(2)] bool Descending,
    [property: Id(3)] int Take,
    [property: Id(4)] ServerState? State = null,
    [property: Id(5)] ServerKind? Kind = null);

/// <summary>One shard's answer.</summary>
[GenerateSerializer, Immutable, Alias("ms.IndexQueryResult")]
public sealed record IndexQueryResult([property: Id(0)] ImmutableArray<ServerSnapshot> Items, [property: Id(1)] int Total);

/// <summary>Sort keys for server listings.</summary>
public enum ServerSort
{
    Name,
    State,
    Kind,
    LastHeartbeat,
    CreatedAt,
    Requests2m,
}

/// <summary>Shard placement; stable across versions (changing it needs a re-index).</summary>
public static class FleetIndex
{
    public const int ShardCount = 32;

    /// <summary>Stable across processes, unlike string.GetHashCode; the same hash as the AMQP ingestion partitions.</summary>
    public static int ShardOf(string serverId) => ManagedServers.Contracts.Agent.AmqpTopology.PartitionOf(serverId, ShardCount);

    /// <summary>Asks every shard at once (scatter) and returns their answers in shard order (gather).</summary>
    public static Task<T[]> AskAllAsync<T>(IGrainFactory grains, Func<IFleetIndexGrain, Task<T>> ask) =>
        Shards.AskAllAsync(grains, ShardCount, ask);
}

/// <summary>One subnet of one server in a fleet-wide utilisation listing.</summary>
[GenerateSerializer, Immutable, Alias("ms.FleetSubnetUtilisation")]
public sealed record FleetSubnetUtilisation(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string ServerName,
    [property: Id(2)] Monitoring.SubnetUtilisation Subnet)
{
    /// <summary>Fullest first; ties by server name, family and subnet id.</summary>
    public static readonly Comparison<FleetSubnetUtilisation> Order = (a, b) =>
    {
        var c = b.Subnet.Utilisation.CompareTo(a.Subnet.Utilisation);
        c = c != 0 ? c : string.CompareOrdinal(a.ServerName, b.ServerName);
        c = c != 0 ? c : a.Subnet.Family.CompareTo(b.Subnet.Family);
        return c != 0 ? c : a.Subnet.SubnetId.CompareTo(b.Subnet.SubnetId);
    };

    /// <summary>The fullest subnets of <paramref name="servers"/>, at least <paramref name="minimum"/> percent full, at most <paramref name="n"/>.</summary>
    public static ImmutableArray<FleetSubnetUtilisation> Top(IEnumerable<ServerSnapshot> servers, int n, double minimum)
    {
        var all = servers
            .Where(s => !s.DhcpSubnets.IsDefaultOrEmpty)
            .SelectMany(s => s.DhcpSubnets.Where(u => u.Utilisation >= minimum).Select(u => new FleetSubnetUtilisation(s.Id, s.Definition.Name, u)))
            .ToList();
        all.Sort(Order);
        return [.. all.Take(Math.Max(0, n))];
    }
}
