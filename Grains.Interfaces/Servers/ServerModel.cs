namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>What a managed server is for.</summary>
public enum ServerKind
{
    Dns,
    Dhcp,
    Backup,
}

/// <summary>Lifecycle of a managed server as the control plane sees it.</summary>
public enum ServerState
{
    /// <summary>Created; its agent has not sent a heartbeat yet.</summary>
    Pending,

    /// <summary>Heartbeats arrive in time.</summary>
    Running,

    /// <summary>The agent reported an orderly shutdown.</summary>
    Stopped,

    /// <summary>Heartbeats stopped without a shutdown report.</summary>
    Unreachable,
}

/// <summary>
/// How the agent runs the server's services. <see cref="Auto"/> (the default): the agent chooses at the first service
/// install, <see cref="Docker"/> where its Docker engine answers, else <see cref="Exec"/>; the server keeps that choice.
/// </summary>
public enum AgentRuntime
{
    Docker,
    Exec,
    Auto,
}

/// <summary>
/// How agent and control plane talk: the agent pushes over HTTPS, the control plane pulls from the
/// agent over HTTPS, or both go through RabbitMQ (heartbeats and results published, commands consumed).
/// </summary>
public enum CommunicationMode
{
    Push,
    Pull,
    Amqp,
}

/// <summary>
/// The operator-supplied part of a server record. <see cref="PullPort"/>: where the control plane pulls a pull-mode
/// server's samples (at <see cref="Address"/>); null means the silo's <c>Pull:DefaultPort</c> (9443).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ServerDefinition")]
public sealed record ServerDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] ServerKind Kind,
    [property: Id(2)] string Address,
    [property: Id(3)] string Os,
    [property: Id(4)] AgentRuntime Runtime,
    [property: Id(5)] CommunicationMode Communication,
    [property: Id(6)] string MonitoringApiIp,
    [property: Id(7)] string ServerUser,
    [property: Id(8)] int? PullPort = null);

/// <summary>A partial update of a server record: null fields stay as they are.</summary>
[GenerateSerializer, Immutable, Alias("ms.ServerPatch")]
public sealed record ServerPatch(
    [property: Id(0)] string? Name = null,
    [property: Id(1)] string? Address = null,
    [property: Id(2)] string? Os = null,
    [property: Id(3)] AgentRuntime? Runtime = null,
    [property: Id(4)] CommunicationMode? Communication = null,
    [property: Id(5)] string? MonitoringApiIp = null,
    [property: Id(6)] int? PullPort = null);

/// <summary>Component versions reported by the agent (null = not installed).</summary>
[GenerateSerializer, Immutable, Alias("ms.ComponentVersionSet")]
public sealed record ComponentVersionSet(
    [property: Id(0)] string? Monitor = null,
    [property: Id(1)] string? Backup = null,
    [property: Id(2)] string? Dns = null,
    [property: Id(3)] string? Dhcp4 = null,
    [property: Id(4)] string? Dhcp6 = null)
{
    public static ComponentVersionSet None { get; } = new();
}

/// <summary>
/// A read-only view of one managed server: record, state and liveness. <see cref="MetricsAddress"/> is
/// the Prometheus address (host:port) the agent reported in its last heartbeat, or null.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ServerSnapshot")]
public sealed record ServerSnapshot(
    [property: Id(0)] string Id,
    [property: Id(1)] ServerDefinition Definition,
    [property: Id(2)] ServerState State,
    [property: Id(3)] DateTimeOffset? StateSince,
    [property: Id(4)] DateTimeOffset? LastHeartbeat,
    [property: Id(5)] int Requests2m,
    [property: Id(6)] ComponentVersionSet Versions,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] string? Hostname,
    [property: Id(9)] long? UptimeSeconds,
    [property: Id(10)] DateTimeOffset? CertificateNotAfter,
    [property: Id(11)] string? AgentVersion,
    [property: Id(12)] long HeartbeatsAccepted = 0,
    [property: Id(13)] string? MetricsAddress = null,
    [property: Id(14)] ImmutableArray<ServiceSnapshot> Services = default,
    [property: Id(15)] int ActiveJobs = 0,
    [property: Id(16)] string? CertificateIssuer = null,
    [property: Id(17)] ImmutableArray<ManagedServers.Grains.Interfaces.Monitoring.SubnetUtilisation> DhcpSubnets = default);
