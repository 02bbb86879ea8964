namespace ManagedServers.Contracts.Agent;

/// <summary>
/// One subnet's lease statistics as Kea counts them at the end of an interval (<c>statistic-get-all</c>:
/// <c>subnet[ID].total-addresses</c>, <c>assigned-addresses</c>, <c>declined-addresses</c>; for DHCPv6
/// <c>total-nas</c>, <c>assigned-nas</c>, <c>total-pds</c>, <c>assigned-pds</c>). Totals are doubles: an IPv6 pool
/// holds more addresses than a long counts.
/// </summary>
public sealed record DhcpSubnetStats(
    int Family,
    long SubnetId,
    double Total,
    double Assigned,
    double Declined,
    double? TotalPd = null,
    double? AssignedPd = null);

/// <summary>
/// One DHCP monitoring interval of a server (push: HTTPS POST <see cref="AgentApi.DhcpMetrics"/> or AMQP kind
/// <c>dhcp-metrics</c>): every subnet's statistics at its end, and the increase of Kea's packet counters over it
/// (<c>pkt4-received</c>, <c>pkt4-ack-sent</c>, <c>pkt6-reply-sent</c>, …; a counter that went down, Kea having
/// restarted, counts from zero). The control plane stores each (server, interval start) once, so a batch sent twice
/// changes nothing. <see cref="SpoolDroppedTotal"/>: intervals the agent's spool ever dropped.
/// </summary>
public sealed record DhcpMetricsBatch(
    string ServerId,
    Guid BatchId,
    DateTimeOffset IntervalStart,
    DateTimeOffset IntervalEnd,
    IReadOnlyList<DhcpSubnetStats> Subnets,
    IReadOnlyDictionary<string, long> Packets,
    long SpoolDroppedTotal = 0);
