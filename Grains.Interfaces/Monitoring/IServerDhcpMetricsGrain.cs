namespace ManagedServers.Grains.Interfaces.Monitoring;

/// <summary>Metric names of the DHCP series (one row per interval, at the interval's start).</summary>
public static class DhcpMetricNames
{
    public const string IntervalSeconds = "dhcp.interval_seconds";

    /// <summary>The fullest subnet's utilisation in the interval (percent).</summary>
    public const string UtilisationMax = "dhcp.utilisation_max";

    /// <summary>Packets Kea counted in the interval, all kinds (<c>pkt4-received</c> plus <c>pkt6-received</c>).</summary>
    public const string PacketsReceived = "dhcp.packets_received";

    /// <summary>A packet counter's increase in the interval: <c>dhcp.pkt4-ack-sent</c>.</summary>
    public static string Packet(string counter) => "dhcp." + counter;

    /// <summary>A subnet's figure: <c>dhcp4.subnet[1].assigned</c> (total, assigned, declined, utilisation; v6 also total_pd, assigned_pd).</summary>
    public static string Subnet(int family, long id, string figure) => $"dhcp{family}.subnet[{id}].{figure}";

    /// <summary>The family, subnet id and figure of a subnet metric name; null for any other name.</summary>
    public static (int Family, long Id, string Figure)? TryParseSubnet(string name)
    {
        if (name.Length < 15 || !name.StartsWith("dhcp", StringComparison.Ordinal) || name[4] is not ('4' or '6') || !name.AsSpan(5).StartsWith(".subnet["))
        {
            return null;
        }

        var close = name.IndexOf(']', 13);
        return close > 13 && close + 2 < name.Length && name[close + 1] == '.'
            && long.TryParse(name.AsSpan(13, close - 13), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? (name[4] - '0', id, name[(close + 2)..])
            : null;
    }
}

/// <summary>
/// How full one subnet of a server is, from its latest DHCP interval: addresses (DHCPv6: NAs; with delegated prefixes
/// the fuller of the two counts), assigned and total, the utilisation in percent, and when it was measured.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.SubnetUtilisation")]
public sealed record SubnetUtilisation(
    [property: Id(0)] int Family,
    [property: Id(1)] long SubnetId,
    [property: Id(2)] string? Prefix,
    [property: Id(3)] double Total,
    [property: Id(4)] double Assigned,
    [property: Id(5)] double Declined,
    [property: Id(6)] double Utilisation,
    [property: Id(7)] DateTimeOffset At);

/// <summary>Answer of <see cref="IServerDhcpMetricsGrain.IngestDhcpAsync"/>: whether the interval was new (false: already stored).</summary>
[GenerateSerializer, Immutable, Alias("ms.DhcpIngestResult")]
public sealed record DhcpIngestResult([property: Id(0)] bool Stored, [property: Id(1)] int Subnets);

/// <summary>
/// The DHCP statistics side of a managed server's grain (same grain, same key as the server), from the agent's
/// <see cref="ManagedServers.Contracts.Agent.DhcpMetricsBatch"/>es.
/// </summary>
[Alias("ms.IServerDhcpMetricsGrain")]
public interface IServerDhcpMetricsGrain : IGrainWithStringKey
{
    /// <summary>Takes one DHCP interval; returns once it is durable. An interval already stored changes nothing.</summary>
    Task<DhcpIngestResult> IngestDhcpAsync(ManagedServers.Contracts.Agent.DhcpMetricsBatch batch);

    /// <summary>Per-interval DHCP rows (start time, <c>dhcp*</c> values) with from ≤ start &lt; to, oldest first.</summary>
    [ReadOnly]
    Task<ImmutableArray<StoredSample>> GetDhcpRawAsync(DateTimeOffset from, DateTimeOffset to, int limit);

    /// <summary>DHCP aggregates over buckets of <paramref name="stepSeconds"/> (a multiple of 60).</summary>
    [ReadOnly]
    Task<ImmutableArray<AggregateBucket>> GetDhcpAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds);

    /// <summary>Every subnet of the latest interval, fullest first (empty before the first).</summary>
    [ReadOnly]
    Task<ImmutableArray<SubnetUtilisation>> GetDhcpUtilisationAsync();
}
