using System.Text.Json;

namespace ManagedServers.Contracts.Agent;

/// <summary>Wire version of the agent protocol. Bump on a breaking change only; add fields freely.</summary>
public static class AgentProtocol
{
    public const int Version = 1;

    /// <summary>Header an agent sends with its protocol version.</summary>
    public const string VersionHeader = "X-Agent-Protocol";
}

/// <summary>Everything an agent needs to enrol: one file, downloaded from the control plane.</summary>
public sealed record SetupBundle(
    int FormatVersion,
    string ServerId,
    string ServerName,
    string AgentUrl,
    string CaCertificatePem,
    string EnrollmentToken,
    DateTimeOffset TokenExpiresAt);

/// <summary>First call of a new agent: a one-time token and a CSR made from a key that never leaves the host.</summary>
public sealed record EnrollRequest(
    string ServerId,
    string Token,
    string CsrPem,
    string AgentVersion,
    string? Hostname,
    string? Os);

/// <summary>Renewal of the client certificate, authenticated by the current certificate.</summary>
public sealed record RenewRequest(string CsrPem);

/// <summary>
/// The signed client certificate and what the agent needs to run. <see cref="Amqp"/> is set when the
/// server talks AMQP: then heartbeats, results and commands travel through RabbitMQ instead of HTTPS.
/// </summary>
public sealed record CertificateResponse(
    string ServerId,
    string ServerName,
    string CertificatePem,
    string CaCertificatePem,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    int HeartbeatIntervalSeconds,
    AmqpCredentials? Amqp = null);

/// <summary>
/// A heartbeat. <see cref="MetricsAddress"/> is the agent's opt-in Prometheus address (host:port), or null;
/// <see cref="HeartbeatIntervalSeconds"/> and <see cref="Monitoring"/> are the settings the agent follows now,
/// so the control plane can tell an agent on old settings (AMQP agents get a <c>configure</c> command).
/// <see cref="BootId"/> is new for every agent process and <see cref="Sequence"/>
/// rises by one per message of that process, so the control plane drops duplicates and stale
/// messages whichever transport delivered them.
/// </summary>
public sealed record Heartbeat(
    string ServerId,
    Guid MessageId,
    Guid BootId,
    long Sequence,
    DateTimeOffset SentAt,
    string AgentVersion,
    long UptimeSeconds,
    string? Hostname,
    string? Os,
    bool Stopping = false,
    IReadOnlyDictionary<string, string?>? Versions = null,
    string? MetricsAddress = null,
    int? HeartbeatIntervalSeconds = null,
    AgentMonitoringConfig? Monitoring = null,
    IReadOnlyList<ServiceStatus>? Services = null,
    IReadOnlyList<CommandProgress>? Progress = null);

/// <summary>The control plane's answer to a heartbeat: the settings an agent follows without restart.</summary>
public sealed record HeartbeatAck(int HeartbeatIntervalSeconds, DateTimeOffset ServerTime, AgentMonitoringConfig? Monitoring = null);

/// <summary>Command kinds. Later issues add kinds; agents answer unknown kinds with a failed result.</summary>
public static class CommandKinds
{
    public const string Ping = "ping";

    /// <summary>New settings for the agent (<see cref="ConfigureArgs"/>); AMQP agents get it when their heartbeat shows old settings.</summary>
    public const string Configure = "configure";

    /// <summary>Install, or update to another version, and start a service (<see cref="ServiceInstallArgs"/>).</summary>
    public const string ServiceInstall = "service.install";

    /// <summary>Start a stopped service (<see cref="ServiceActionArgs"/>).</summary>
    public const string ServiceStart = "service.start";

    /// <summary>Stop a service; the agent keeps it stopped until started (<see cref="ServiceActionArgs"/>).</summary>
    public const string ServiceStop = "service.stop";

    /// <summary>Restart a service (<see cref="ServiceActionArgs"/>).</summary>
    public const string ServiceRestart = "service.restart";

    /// <summary>Stop and remove a service; its data directory stays (<see cref="ServiceActionArgs"/>).</summary>
    public const string ServiceRemove = "service.remove";

    /// <summary>Run the agent's checks; output <see cref="DiagnosticsReport"/>.</summary>
    public const string Diagnostics = "diagnostics";

    /// <summary>Collect a debug bundle (<see cref="DebugBundleArgs"/>); output <see cref="DebugBundleOutput"/>.</summary>
    public const string DebugBundle = "debug-bundle";

    /// <summary>Apply a DNS configuration and zone files, validated, atomic, health-checked, rolled back on failure (<see cref="DnsApplyArgs"/>); output <see cref="DnsApplyOutput"/>.</summary>
    public const string DnsApply = "dns.apply";

    /// <summary>Apply a Kea configuration to a DHCP service, tested, atomic, health-checked, rolled back on failure (<see cref="DhcpApplyArgs"/>); output <see cref="DhcpApplyOutput"/>.</summary>
    public const string DhcpApply = "dhcp.apply";

    /// <summary>List or search a DHCP service's leases through Kea's lease_cmds (<see cref="DhcpLeasesArgs"/>); output <see cref="DhcpLeasesOutput"/>.</summary>
    public const string DhcpLeases = "dhcp.leases";

    /// <summary>Delete one lease (<see cref="DhcpLeaseDeleteArgs"/>); fails with "not found" when there is none.</summary>
    public const string DhcpLeaseDelete = "dhcp.lease_delete";

    /// <summary>Kea's status (sockets, HA state) of a DHCP service (<see cref="DhcpStatusArgs"/>); output <see cref="DhcpStatusOutput"/>.</summary>
    public const string DhcpStatus = "dhcp.status";

    /// <summary>Hand an HA pair's service over to this peer or back (<see cref="DhcpHaMaintenanceArgs"/>); output <see cref="DhcpHaMaintenanceOutput"/>.</summary>
    public const string DhcpHaMaintenance = "dhcp.ha_maintenance";
}

/// <summary>A command for one agent. <see cref="CommandId"/> is the idempotency key: an agent applies a command id once.</summary>
public sealed record AgentCommand(
    string CommandId,
    string Kind,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    JsonElement? Args = null);

/// <summary>The result of one command, sent back by the agent (possibly more than once; the control plane keeps the first).</summary>
public sealed record CommandResult(
    string CommandId,
    bool Success,
    DateTimeOffset CompletedAt,
    string? Error = null,
    JsonElement? Output = null);

/// <summary>Output of the <c>ping</c> command.</summary>
public sealed record PingOutput(string AgentVersion, DateTimeOffset AgentTime, long UptimeSeconds);
