namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>The ingestion stream: provider and namespaces shared by the API (producer) and the grains (consumers).</summary>
public static class StreamNames
{
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
}
