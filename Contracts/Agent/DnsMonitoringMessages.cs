namespace ManagedServers.Contracts.Agent;

/// <summary>Hits of one name in an interval (or a window) and the last time it was asked.</summary>
public sealed record DnsNameHits(string Zone, string Name, long Hits, DateTimeOffset LastAccess);

/// <summary>
/// One DNS monitoring interval of a server (push: HTTPS POST <see cref="AgentApi.DnsMetrics"/> or AMQP kind
/// <c>dns-metrics</c>). <see cref="Counters"/>: increases of Knot's server-wide mod-stats counters over the interval,
/// keys as <c>knotc stats</c> prints them without <c>mod-stats.</c> (<c>response-code[NOERROR]</c>, <c>request-protocol[udp4]</c>);
/// <see cref="ZoneCounters"/> the same per zone. <see cref="Names"/>: per-name hits counted from dnstap responses, at most
/// the top names of the interval; hits of the others are summed per zone in <see cref="OtherHits"/> (and counted in
/// <see cref="NamesTruncated"/>). <see cref="FramesDropped"/>: responses Knot counted minus dnstap frames received (never
/// negative): frames Knot dropped because the reader fell behind. The control plane stores each (server, interval start)
/// once, so a batch sent twice changes nothing. <see cref="SpoolDroppedTotal"/>: intervals the agent's spool ever dropped.
/// </summary>
public sealed record DnsMetricsBatch(
    string ServerId,
    Guid BatchId,
    DateTimeOffset IntervalStart,
    DateTimeOffset IntervalEnd,
    IReadOnlyDictionary<string, long> Counters,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> ZoneCounters,
    IReadOnlyList<DnsNameHits> Names,
    IReadOnlyDictionary<string, long> OtherHits,
    long FramesSeen,
    long FramesUnparsable,
    long FramesDropped,
    long NamesTruncated,
    long SpoolDroppedTotal = 0);
