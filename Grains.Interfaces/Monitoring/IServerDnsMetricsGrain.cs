namespace ManagedServers.Grains.Interfaces.Monitoring;

/// <summary>Answer of <see cref="IServerDnsMetricsGrain.IngestDnsAsync"/>: whether the interval was new (false: already stored).</summary>
[GenerateSerializer, Immutable, Alias("ms.DnsIngestResult")]
public sealed record DnsIngestResult([property: Id(0)] bool Stored, [property: Id(1)] int Names);

/// <summary>A name's hits over a window and its last access.</summary>
[GenerateSerializer, Immutable, Alias("ms.DnsNameTotal")]
public sealed record DnsNameTotal([property: Id(0)] string Zone, [property: Id(1)] string Name, [property: Id(2)] long Hits, [property: Id(3)] DateTimeOffset LastAccess);

/// <summary>Metric names of the DNS series (stored like system samples, one per interval, at the interval's start).</summary>
public static class DnsMetricNames
{
    /// <summary>Responses counted by mod-stats in the interval (the sum of <c>response-code[*]</c>).</summary>
    public const string Queries = "dns.queries";

    /// <summary>Responses per second over the interval.</summary>
    public const string Rps = "dns.rps";
    public const string IntervalSeconds = "dns.interval_seconds";
    public const string FramesSeen = "dns.frames_seen";
    public const string FramesDropped = "dns.frames_dropped";
    public const string FramesUnparsable = "dns.frames_unparsable";
    public const string NamesTruncated = "dns.names_truncated";
    public const string OtherHits = "dns.other_hits";

    /// <summary>A server-wide counter: <c>dns.response-code[NOERROR]</c>.</summary>
    public static string Counter(string counter) => "dns." + counter;

    /// <summary>A zone's counter: <c>dns.zone[example.com].response-code[NOERROR]</c>.</summary>
    public static string ZoneCounter(string zone, string counter) => "dns.zone[" + zone + "]." + counter;
}

/// <summary>
/// The DNS side of a managed server's grain (same grain, same key as the server): Knot's counters per interval and
/// per-name hit counts, from the agent's <see cref="ManagedServers.Contracts.Agent.DnsMetricsBatch"/>es.
/// </summary>
[Alias("ms.IServerDnsMetricsGrain")]
public interface IServerDnsMetricsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes one DNS interval; returns once it is durable (counters, names and the aggregates they change). An
    /// interval whose (server, start) is already stored changes nothing, so a redelivered batch is harmless.
    /// </summary>
    Task<DnsIngestResult> IngestDnsAsync(ManagedServers.Contracts.Agent.DnsMetricsBatch batch);

    /// <summary>Per-interval DNS records (start time, <c>dns.*</c> values) with from ≤ start &lt; to, oldest first.</summary>
    [ReadOnly]
    Task<ImmutableArray<StoredSample>> GetDnsRawAsync(DateTimeOffset from, DateTimeOffset to, int limit);

    /// <summary>DNS aggregates over buckets of <paramref name="stepSeconds"/> (a multiple of 60): Sum is the count in the bucket.</summary>
    [ReadOnly]
    Task<ImmutableArray<AggregateBucket>> GetDnsAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds);

    /// <summary>The top <paramref name="n"/> names by hits in intervals starting in [from, to), of one zone or all.</summary>
    [ReadOnly]
    Task<ImmutableArray<DnsNameTotal>> GetDnsTopAsync(string? zone, int n, DateTimeOffset from, DateTimeOffset to);
}
