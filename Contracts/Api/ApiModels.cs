using System.Text.Json;
using System.Text.Json.Serialization;

namespace ManagedServers.Contracts.Api;

/// <summary>Component versions of a managed server; null where the component is not installed.</summary>
public sealed record ComponentVersions(string? Monitor, string? Backup, string? Dns, string? Dhcp4, string? Dhcp6);

/// <summary>A managed server as the REST API shows it (api.md).</summary>
public sealed record ServerView(
    string Id,
    string Name,
    string Kind,
    string Address,
    string Os,
    string Runtime,
    string Communication,
    string MonitoringApiIp,
    string ServerUser,
    string State,
    DateTimeOffset? LastHeartbeat,
    [property: JsonPropertyName("requests_2m")] int Requests2m,
    ComponentVersions Versions,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StateSince,
    string? Hostname,
    long? UptimeSeconds,
    DateTimeOffset? CertificateNotAfter,
    int? PullPort = null,
    IReadOnlyList<ServiceView>? Services = null,
    int ActiveJobs = 0);

/// <summary>Body of POST /api/v1/servers. Missing optional fields take the documented defaults.</summary>
public sealed record CreateServerRequest(
    string? Name,
    string? Kind,
    string? Address = null,
    string? Os = null,
    string? Runtime = null,
    string? Communication = null,
    string? MonitoringApiIp = null,
    string? ServerUser = null,
    int? PullPort = null);

/// <summary>Body of PATCH /api/v1/servers/{id}: only the fields present change.</summary>
public sealed record UpdateServerRequest(
    string? Name = null,
    string? Address = null,
    string? Os = null,
    string? Runtime = null,
    string? Communication = null,
    string? MonitoringApiIp = null,
    int? PullPort = null);

/// <summary>One page of a list (JSON: items, total, page, per_page).</summary>
public sealed record PageOf<T>(IReadOnlyList<T> Items, int Total, int Page, int PerPage);

/// <summary>
/// Body of POST /api/v1/tokens. <see cref="ExpiresIn"/>: a lifetime such as "12h", "30d", "1w", or "never"; left out,
/// the control plane's default (<c>Tokens:DefaultLifetime</c>, 30 days unless changed). See <see cref="TokenLifetimes"/>.
/// </summary>
public sealed record CreateTokenRequest(string? Name = null, string? ExpiresIn = null);

/// <summary>Token lifetimes as the API and the CLI write them: a duration (<see cref="Durations"/>) or "never".</summary>
public static class TokenLifetimes
{
    public const string Never = "never";

    /// <summary>The shortest lifetime: one second.</summary>
    public static readonly TimeSpan Min = TimeSpan.FromSeconds(1);

    /// <summary>The longest finite lifetime: 3650 days.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(3650);

    public const string Hint = "a duration such as 12h, 30d or 1w (at most 3650d), or 'never'";

    /// <summary>Parses a lifetime: true with null for "never", true with the duration for 1s–3650d, false otherwise.</summary>
    public static bool TryParse(string? text, out TimeSpan? lifetime)
    {
        lifetime = null;
        if (string.Equals(text?.Trim(), Never, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (Durations.TryParse(text, Max, out var duration) && duration >= Min)
        {
            lifetime = duration;
            return true;
        }

        return false;
    }

    /// <summary>"30d", "12h", or "never".</summary>
    public static string Format(TimeSpan? lifetime) => lifetime is { } l ? Durations.Format(l) : Never;
}

/// <summary>A freshly created API token. <see cref="Token"/> is shown once and stored only as a hash.</summary>
public sealed record CreatedToken(string Token, string Id, string Name, string User, DateTimeOffset? ExpiresAt);

/// <summary>An API token as listed: never the secret.</summary>
public sealed record TokenView(string Id, string Name, string User, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt);

/// <summary>One row of GET /api/v1/monitoring/heartbeat.</summary>
public sealed record HeartbeatView(
    string ServerId,
    string Name,
    string State,
    DateTimeOffset? LastHeartbeat,
    [property: JsonPropertyName("requests_2m")] int Requests2m,
    string? AgentVersion,
    long? UptimeSeconds);

/// <summary>Result of POST /api/v1/servers/{id}/ping.</summary>
public sealed record PingResult(string ServerId, bool Ok, double RoundTripMs, string? AgentVersion, string? Error);

/// <summary>One row of GET /api/v1/servers/{id}/events: what happened to the server's agent identity.</summary>
public sealed record ServerEventView(DateTimeOffset At, string Kind, string Severity, string Message);

/// <summary>Result of POST /api/v1/servers/{id}/revoke-certificate.</summary>
public sealed record CertificateRevocationView(string ServerId, int Revoked, bool? BrokerUserRemoved, string Message);

/// <summary>One CA certificate (never its key).</summary>
public sealed record CaCertificateView(string Subject, string Sha256Fingerprint, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string CertificatePem);

/// <summary>
/// GET /api/v1/ca: the CA in force and, during a rotation, the previous one; which servers' agents hold a certificate
/// of which (servers that never enrolled are counted apart), and up to 20 names not yet renewed onto the current CA.
/// </summary>
public sealed record CaView(
    CaCertificateView Current,
    CaCertificateView? Previous,
    DateTimeOffset? RotationStartedAt,
    int ServersOnCurrent,
    int ServersOnPrevious,
    int ServersWithoutCertificate,
    string[] NotRenewed,
    string Message);

/// <summary>GET/PUT /api/v1/settings/monitoring.</summary>
public sealed record MonitoringSettingsView(
    string MonitoringApiIp,
    int HeartbeatIntervalSeconds,
    int HeartbeatMissedLimit,
    int EnrollmentTokenHours,
    int CertificateDays,
    bool VerifyCa,
    string Communication,
    bool SystemMonitoring,
    int SystemIntervalSeconds,
    bool DnsMonitoring,
    int DnsIntervalSeconds,
    int RawRetentionMinutes,
    int AggregateRetentionDays,
    bool DhcpMonitoring,
    int DhcpIntervalSeconds,
    int DhcpUtilisationWarning,
    int DhcpUtilisationCritical);

/// <summary>PUT body for monitoring settings: a PUT may carry only some fields.</summary>
public sealed record MonitoringSettingsUpdate(
    string? MonitoringApiIp = null,
    int? HeartbeatIntervalSeconds = null,
    int? HeartbeatMissedLimit = null,
    int? EnrollmentTokenHours = null,
    int? CertificateDays = null,
    bool? VerifyCa = null,
    string? Communication = null,
    bool? SystemMonitoring = null,
    int? SystemIntervalSeconds = null,
    bool? DnsMonitoring = null,
    int? DnsIntervalSeconds = null,
    int? RawRetentionMinutes = null,
    int? AggregateRetentionDays = null,
    bool? DhcpMonitoring = null,
    int? DhcpIntervalSeconds = null,
    int? DhcpUtilisationWarning = null,
    int? DhcpUtilisationCritical = null);

/// <summary>One raw system sample: its time and metric values (GET /api/v1/monitoring/system/raw).</summary>
public sealed record SystemSampleView(DateTimeOffset Time, IReadOnlyDictionary<string, double> Metrics);

/// <summary>GET /api/v1/monitoring/system/raw: the server's raw samples in [from, to), oldest first.</summary>
public sealed record RawSamplesView(string Server, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<SystemSampleView> Items);

/// <summary>One metric over one aggregation bucket.</summary>
public sealed record AggregateValue(double Min, double Avg, double Max, double Last, int Count);

/// <summary>One aggregation bucket (its start time) with each metric's aggregate.</summary>
public sealed record AggregatePointView(DateTimeOffset Time, IReadOnlyDictionary<string, AggregateValue> Metrics);

/// <summary>GET /api/v1/monitoring/system/aggregate: buckets of <see cref="StepSeconds"/> in [from, to), oldest first.</summary>
public sealed record AggregateSamplesView(string Server, int StepSeconds, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<AggregatePointView> Items);

/// <summary>GET/PUT /api/v1/settings/rabbitmq: never the password, only whether one is stored.</summary>
public sealed record RabbitMqSettingsView(
    string Host,
    int Port,
    string VirtualHost,
    string User,
    bool PasswordSet,
    bool Tls,
    string ManagementUrl,
    string DefaultCommunication);

/// <summary>
/// PUT body for the RabbitMQ settings, and the optional body of POST /api/v1/settings/rabbitmq/test: fields left
/// out keep their stored values (an omitted password keeps the stored one; an empty management_url means the default).
/// </summary>
public sealed record RabbitMqSettingsUpdate(
    string? Host = null,
    int? Port = null,
    string? VirtualHost = null,
    string? User = null,
    string? Password = null,
    bool? Tls = null,
    string? ManagementUrl = null,
    string? DefaultCommunication = null);

/// <summary>
/// Result of POST /api/v1/settings/rabbitmq/test. <see cref="Reason"/>: ok, refused, unreachable, authentication,
/// vhost, tls, timeout or error; <see cref="Detail"/> is one readable sentence.
/// </summary>
public sealed record RabbitMqTestResult(bool Ok, string Reason, string Detail, string? ServerVersion, string Host, int Port, string VirtualHost);

/// <summary>A user.</summary>
public sealed record UserView(string Name, IReadOnlyList<string> Groups, bool IsServerUser, string? ServerId);

/// <summary>Body of POST /api/v1/users.</summary>
public sealed record CreateUserRequest(string? Name, string? Password, IReadOnlyList<string>? Groups);

/// <summary>A group and what it may do.</summary>
public sealed record GroupView(string Name, string Description);

/// <summary>Addresses at which agents reach the control plane.</summary>
public sealed record ControlPlaneIps(IReadOnlyList<string> Items, string DefaultMonitoringApiIp);

/// <summary>Body of POST /api/v1/servers/{id}/commands.</summary>
public sealed record SendCommandRequest(string? Kind, JsonElement? Args = null, int? TimeoutSeconds = null);

/// <summary>A command sent to an agent: queued → delivered → succeeded | failed | expired.</summary>
public sealed record CommandView(
    string Id,
    string Kind,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    JsonElement? Output);

/// <summary>
/// One entry of GET /api/v1/prometheus/targets, in Prometheus' http_sd format: the agent's scrape
/// address and the labels Prometheus attaches to its series (label names are kept as they are).
/// </summary>
public sealed record PrometheusTargetGroup(IReadOnlyList<string> Targets, IReadOnlyDictionary<string, string> Labels);

/// <summary>A service of a server (api.md): state as its agent reports it, version, restarts after crashes.</summary>
public sealed record ServiceView(
    string Kind,
    string State,
    DateTimeOffset Since,
    int RestartCount,
    string? Version,
    string Runtime,
    string? Error,
    string? Listen);

/// <summary>
/// Body of POST /api/v1/servers/{id}/services. <c>version</c>: an image tag (docker) or the installed package's version
/// (exec); empty = the newest the host has. A service that exists is updated to the version (rolled back if it fails).
/// A DHCP service takes <c>interfaces</c> (the network interfaces Kea serves, <c>name</c> or <c>name/address</c>) and
/// <c>port</c> (the port Kea listens on, default 67 for DHCPv4 and 547 for DHCPv6).
/// </summary>
public sealed record AddServiceRequest(
    string? Kind,
    string? Version = null,
    string? ListenAddress = null,
    int? Port = null,
    int? WaitForAgentSeconds = null,
    IReadOnlyList<string>? Listen = null,
    IReadOnlyList<string>? Interfaces = null);

/// <summary>Optional body of actions that start a job (manage service, diagnostics): how long to wait for an offline agent.</summary>
public sealed record JobOptionsRequest(int? WaitForAgentSeconds = null);

/// <summary>
/// Optional body of push-zones and push-config: how long to wait for an offline agent. DNS: <c>atomic</c>, apply all the
/// zones or none (default false: the zones knotd loads are applied and a refused one is named in the job). DHCP:
/// <c>family</c> (4 or 6; default: the one family the server has a configuration of) and <c>acknowledge_warnings</c>
/// (push although the review warns).
/// </summary>
public sealed record PushRequest(int? WaitForAgentSeconds = null, bool? Atomic = null, int? Family = null, bool? AcknowledgeWarnings = null);

/// <summary>
/// What an import made of a Kea document: objects modelled, the JSON paths kept verbatim (rendered back unchanged),
/// notes (ids given to subnets that had none) and the review's findings.
/// </summary>
public sealed record DhcpImportView(
    int Family,
    int Subnets,
    int SharedNetworks,
    int Pools,
    int PdPools,
    int Reservations,
    int Options,
    int OptionDefs,
    int ClientClasses,
    IReadOnlyList<string> Verbatim,
    IReadOnlyList<string> Notes,
    IReadOnlyList<DhcpFindingView> Findings);

/// <summary>One review finding: <c>severity</c> error (refuses a push) or warning, the check, the object it names, the message.</summary>
public sealed record DhcpFindingView(string Severity, string Check, string Object, string Message);

/// <summary>One line of a job's log.</summary>
public sealed record JobStepView(DateTimeOffset At, string Message);

/// <summary>
/// A job (api.md "long actions"): queued → running → succeeded | failed, with progress (0–100), a step log and the
/// action's result (a service's status, a diagnostics report, a debug bundle's size and hash). Actions answer 202 with it.
/// <c>version</c> rises with every change: <c>GET /api/v1/jobs/{id}?wait_seconds=N&amp;version=V</c> waits for one after V.
/// </summary>
public sealed record JobView(
    string JobId,
    string ServerId,
    string Kind,
    string? Service,
    string State,
    int Progress,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset Deadline,
    IReadOnlyList<JobStepView> Steps,
    JsonElement? Result,
    string? Error,
    string? IdempotencyKey,
    long Version,
    string RequestedBy = "system");

/// <summary>
/// An operation over several servers (<c>GET /api/v1/operations/{id}</c>): <c>state</c> running | succeeded | failed;
/// <c>servers</c>, each server's result (pending | running | succeeded | failed | skipped, with its first error);
/// <c>steps</c>, the plan's jobs in order (stage, group, server, label, the job once started, mode required | best_effort
/// | always).
/// </summary>
public sealed record OperationView(
    string OperationId,
    string Kind,
    string Summary,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string RequestedBy,
    IReadOnlyList<OperationServerView> Servers,
    IReadOnlyList<OperationStepView> Steps,
    long Version);

/// <summary>One server's result in an operation.</summary>
public sealed record OperationServerView(string ServerId, string State, string? Error);

/// <summary>One step of an operation: a job on one server.</summary>
public sealed record OperationStepView(int Stage, string Group, string ServerId, string Label, string JobKind, string Mode, string State, string? JobId, string? Error);

/// <summary>
/// One event of GET /api/v1/jobs/events (server-sent events, <c>event: job</c>): a job was queued, took a step, moved on,
/// succeeded or failed. <c>type</c>: queued | step | progress | succeeded | failed; <c>version</c> orders a job's events
/// and matches the job's <c>version</c> after the change.
/// </summary>
public sealed record JobEventView(
    string JobId,
    string ServerId,
    string Kind,
    string? Service,
    string Type,
    string State,
    int Progress,
    string? Message,
    DateTimeOffset At,
    string RequestedBy,
    long Version);

/// <summary>
/// A zone assigned to a server: its serial now (null: deleted since), the serial live on the server (null: never pushed),
/// when that was applied, and <c>state</c>: in_sync | changed (push-zones sends it) | not_pushed | deleted.
/// </summary>
public sealed record ServerZoneView(string Zone, long? Serial, long? AppliedSerial, DateTimeOffset? AppliedAt, string State);

/// <summary>A server's DNS side: zones assigned, its DNS service's listen entries, and the configuration version live.</summary>
public sealed record ServerDnsView(string ServerId, IReadOnlyList<ServerZoneView> Zones, IReadOnlyList<string> Listen, int? LiveVersion);

/// <summary>An applied DNS configuration version (GET /api/v1/servers/{id}/config-versions).</summary>
public sealed record ConfigVersionView(int Version, DateTimeOffset AppliedAt, string JobId, int ZoneCount, string Sha256, bool Live, string Service = "dns", int Items = 0);

/// <summary>One version in full: the model (listen entries, zones with the serials applied) and the knot.conf rendered from it.</summary>
public sealed record ConfigVersionDetailView(
    int Version,
    DateTimeOffset AppliedAt,
    string JobId,
    bool Live,
    IReadOnlyList<string> Listen,
    IReadOnlyList<ServerZoneView> Zones,
    string KnotConf,
    string Service = "dns",
    string? Content = null);

/// <summary>A unified diff between two configuration versions' knot.conf.</summary>
public sealed record ConfigDiffView(int From, int To, bool Identical, string Diff);

/// <summary>DNS responses per second of one server: one point per agent interval, and the latest.</summary>
public sealed record DnsRpsView(string Server, DateTimeOffset From, DateTimeOffset To, double? Current, DateTimeOffset? CurrentAt, IReadOnlyList<DnsRpsPoint> Items);

/// <summary>One DNS interval: its start, responses per second over it and responses counted.</summary>
public sealed record DnsRpsPoint(DateTimeOffset Time, double Rps, double Queries);

/// <summary>The busiest names of one server (of one zone, or all) over a window: hits and last access.</summary>
public sealed record DnsTopView(string Server, string? Zone, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<ManagedServers.Contracts.Agent.DnsNameHits> Items);

/// <summary>
/// Body of POST /api/v1/zones: <c>zone_file</c> (RFC 1035 text) imports; without it a minimal zone is made from
/// <c>primary_ns</c> (default ns1.&lt;zone&gt;.), <c>email</c> (default hostmaster@&lt;zone&gt;) and <c>default_ttl</c> (3600).
/// </summary>
public sealed record CreateZoneRequest(string? Name, string? ZoneFile = null, string? PrimaryNs = null, string? Email = null, int? DefaultTtl = null);

/// <summary>Body of PUT /api/v1/zones/{zone}/file.</summary>
public sealed record ZoneFileRequest(string? ZoneFile);

/// <summary>A zone as the REST API shows it: serial, record count, SHA-256 and size of the canonical text, stored gzip size.</summary>
public sealed record ZoneView(string Name, long Serial, int RecordCount, string Sha256, long Size, long GzipSize, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// A zone just imported (POST /api/v1/zones with a zone file, PUT …/file): the zone as <see cref="ZoneView"/> shows it, and
/// the warnings beside the success, one "line N: …" each (at most 100; <c>warnings_truncated</c> when there were more):
/// what Knot loads but reports, or only its optional checks flag. They do not stop the import or a push.
/// </summary>
public sealed record ZoneImportView(
    string Name, long Serial, int RecordCount, string Sha256, long Size, long GzipSize, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<string> Warnings, bool WarningsTruncated);

/// <summary>Body of POST /api/v1/zones/{zone}/records and PUT …/records/{id}: name relative ("www", "@") or absolute, type, TTL (default: its record set's, else the SOA's), data in zone-file form.</summary>
public sealed record ZoneRecordRequest(string? Name, string? Type, long? Ttl = null, string? Data = null);

/// <summary>One record: stable id (hash of owner, type and data), absolute owner name, type, TTL, canonical data.</summary>
public sealed record ZoneRecordView(string Id, string Name, string Type, int Ttl, string Data);

/// <summary>A record change: the record as stored and the zone's new SOA serial.</summary>
public sealed record ZoneRecordChangeView(ZoneRecordView Record, long Serial);

/// <summary>
/// A server a zone is assigned to (GET /api/v1/zones/{zone}/servers): the server's name and state, the serial live on it
/// and <c>sync</c> as for a server's zones (in_sync | changed | not_pushed).
/// </summary>
public sealed record ZoneServerView(string ServerId, string ServerName, string ServerState, long? Serial, long? AppliedSerial, DateTimeOffset? AppliedAt, string Sync);

/// <summary>The zone's SOA serial after a change (record delete).</summary>
public sealed record ZoneSerialView(long Serial);
