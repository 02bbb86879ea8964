namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>Stream providers and namespaces: ingestion (the API produces, grains consume) and events (grains produce, anyone listens).</summary>
public static class StreamNames
{
    /// <summary>The event streams (in memory, explicit subscriptions): what grains announce to whoever listens.</summary>
    public const string EventsProvider = "events";

    /// <summary>Stream namespace of <see cref="JobEvent"/>s (stream id = server id).</summary>
    public const string JobEventsNamespace = "jobs";

    /// <summary>The ingestion stream provider.</summary>
    public const string IngestProvider = "ingest";

    /// <summary>Stream namespace of heartbeats (stream id = server id).</summary>
    public const string HeartbeatNamespace = ManagedServers.Contracts.Agent.AmqpTopology.HeartbeatKind;

    /// <summary>Stream namespace of command results sent by agents (stream id = server id).</summary>
    public const string ResultNamespace = ManagedServers.Contracts.Agent.AmqpTopology.ResultKind;

    /// <summary>Stream namespace of metrics batches (stream id = server id).</summary>
    public const string MetricsNamespace = ManagedServers.Contracts.Agent.AmqpTopology.MetricsKind;

    /// <summary>Stream namespace of DNS monitoring intervals (stream id = server id).</summary>
    public const string DnsMetricsNamespace = ManagedServers.Contracts.Agent.AmqpTopology.DnsMetricsKind;

    public const string DhcpMetricsNamespace = ManagedServers.Contracts.Agent.AmqpTopology.DhcpMetricsKind;
}
