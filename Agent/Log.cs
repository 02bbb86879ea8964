
namespace ManagedServers.Agent;

/// <summary>Source-generated log messages. Never log the private key or the enrolment token.</summary>
internal static partial class Log
{
    // 1xx: lifecycle
    [LoggerMessage(100, LogLevel.Information, "Agent {AgentVersion} starting for server {ServerName} ({ServerId}), control plane {AgentUrl}, boot id {BootId}")]
    public static partial void AgentStarting(this ILogger logger, string agentVersion, string serverName, string serverId, string agentUrl, Guid bootId);

    [LoggerMessage(101, LogLevel.Error, "control plane refused this agent: {Detail}")]
    public static partial void AgentRefused(this ILogger logger, string detail);

    [LoggerMessage(102, LogLevel.Warning, "Could not save settings to the state directory: {Error}")]
    public static partial void SettingsSaveFailed(this ILogger logger, string error);

    [LoggerMessage(103, LogLevel.Information, "Monitoring settings changed: system {SystemOn} every {SystemSeconds} s, DNS {DnsOn} every {DnsSeconds} s")]
    public static partial void MonitoringSettingsChanged(this ILogger logger, bool systemOn, int systemSeconds, bool dnsOn, int dnsSeconds);

    // 2xx: heartbeats
    [LoggerMessage(200, LogLevel.Debug, "Heartbeat {Sequence} acknowledged")]
    public static partial void HeartbeatAcknowledged(this ILogger logger, long sequence);

    [LoggerMessage(201, LogLevel.Information, "Heartbeat interval changed from {OldSeconds} s to {NewSeconds} s")]
    public static partial void HeartbeatIntervalChanged(this ILogger logger, int oldSeconds, int newSeconds);

    [LoggerMessage(202, LogLevel.Warning, "Heartbeat {Sequence} failed ({ConsecutiveFailures} in a row): {Error}")]
    public static partial void HeartbeatFailed(this ILogger logger, long sequence, int consecutiveFailures, string error);

    [LoggerMessage(203, LogLevel.Information, "Heartbeats are acknowledged again after {Failures} failures")]
    public static partial void HeartbeatRecovered(this ILogger logger, int failures);

    [LoggerMessage(204, LogLevel.Warning, "Heartbeat {Sequence} rejected with HTTP {StatusCode}: {Detail}; retrying in {RetryInSeconds:0.#} s")]
    public static partial void HeartbeatRejected(this ILogger logger, long sequence, int statusCode, string detail, double retryInSeconds);

    [LoggerMessage(205, LogLevel.Information, "Stopping heartbeat {Sequence} sent")]
    public static partial void StoppingHeartbeatSent(this ILogger logger, long sequence);

    [LoggerMessage(206, LogLevel.Warning, "Stopping heartbeat could not be sent: {Error}")]
    public static partial void StoppingHeartbeatFailed(this ILogger logger, string error);

    // 3xx: commands
    [LoggerMessage(300, LogLevel.Debug, "Received {Count} command(s)")]
    public static partial void CommandsReceived(this ILogger logger, int count);

    [LoggerMessage(310, LogLevel.Debug, "Command {CommandId} ({Kind}) started")]
    public static partial void CommandStarted(this ILogger logger, string commandId, string kind);

    [LoggerMessage(301, LogLevel.Information, "Command {CommandId} ({Kind}) succeeded")]
    public static partial void CommandSucceeded(this ILogger logger, string commandId, string kind);

    [LoggerMessage(308, LogLevel.Warning, "Command {CommandId} ({Kind}) failed: {Error}")]
    public static partial void CommandFailed(this ILogger logger, string commandId, string kind, string? error);

    [LoggerMessage(302, LogLevel.Information, "Command {CommandId} ({Kind}) was already completed; re-sending its stored result")]
    public static partial void CommandRedelivered(this ILogger logger, string commandId, string kind);

    [LoggerMessage(309, LogLevel.Information, "Command {CommandId} ({Kind}) arrived again while it still runs; waiting for the same execution")]
    public static partial void CommandStillRunning(this ILogger logger, string commandId, string kind);

    [LoggerMessage(303, LogLevel.Warning, "Command {CommandId} ({Kind}) expired at {ExpiresAt:o}; not executed")]
    public static partial void CommandExpired(this ILogger logger, string commandId, string kind, DateTimeOffset expiresAt);

    [LoggerMessage(304, LogLevel.Warning, "Command poll failed ({ConsecutiveFailures} in a row): {Error}; retrying in {RetryInSeconds:0.#} s")]
    public static partial void CommandPollFailed(this ILogger logger, int consecutiveFailures, string error, double retryInSeconds);

    [LoggerMessage(305, LogLevel.Warning, "Result of command {CommandId} dropped: the control plane answered {Detail}")]
    public static partial void CommandResultDropped(this ILogger logger, string commandId, string detail);

    [LoggerMessage(306, LogLevel.Warning, "Command history starts empty: {Error}")]
    public static partial void CommandStoreUnreadable(this ILogger logger, string error);

    [LoggerMessage(307, LogLevel.Debug, "Result of command {CommandId} delivered")]
    public static partial void CommandResultDelivered(this ILogger logger, string commandId);

    // 4xx: certificate
    [LoggerMessage(400, LogLevel.Information, "Client certificate {Thumbprint} valid until {NotAfter:o}; renewal due at {RenewAt:o}")]
    public static partial void CertificateStatus(this ILogger logger, string thumbprint, DateTimeOffset notAfter, DateTimeOffset renewAt);

    [LoggerMessage(401, LogLevel.Information, "Client certificate renewed: {Thumbprint} valid until {NotAfter:o}")]
    public static partial void CertificateRenewed(this ILogger logger, string thumbprint, DateTimeOffset notAfter);

    [LoggerMessage(402, LogLevel.Warning, "Certificate renewal failed ({ConsecutiveFailures} in a row): {Error}; retrying in {RetryInSeconds:0.#} s")]
    public static partial void RenewalFailed(this ILogger logger, int consecutiveFailures, string error, double retryInSeconds);

    [LoggerMessage(403, LogLevel.Error, "Client certificate expired at {NotAfter:o}; the control plane will refuse it. Re-enrol this server if renewal keeps failing")]
    public static partial void CertificateExpired(this ILogger logger, DateTimeOffset notAfter);

    // 5xx: system monitoring
    [LoggerMessage(500, LogLevel.Warning, "System collector {Collector} failed: {Error}")]
    public static partial void CollectorFailed(this ILogger logger, string collector, string error);

    [LoggerMessage(501, LogLevel.Debug, "System collector {Collector} failed again ({Failures} failures): {Error}")]
    public static partial void CollectorFailedAgain(this ILogger logger, string collector, long failures, string error);

    [LoggerMessage(502, LogLevel.Information, "Prometheus metrics served at http://{Endpoint}/metrics")]
    public static partial void MetricsEndpointListening(this ILogger logger, string endpoint);

    [LoggerMessage(503, LogLevel.Error, "Prometheus metrics endpoint cannot listen on {Endpoint}: {Error}; metrics are not served")]
    public static partial void MetricsEndpointFailed(this ILogger logger, string endpoint, string error);

    [LoggerMessage(504, LogLevel.Debug, "Prometheus metrics request from {Remote} failed: {Error}")]
    public static partial void MetricsRequestFailed(this ILogger logger, string? remote, string error);
}
