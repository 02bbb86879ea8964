namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>
/// The server's persisted workflow (same grain as <see cref="IManagedServerGrain"/>, same key): every action that touches
/// the server runs as a job — queued, running, then succeeded or failed — with progress, a step log and a result. A job
/// waits (up to its deadline) for an offline agent; a silo lost mid-job resumes it on another silo, and the agent applies
/// its command once (the command id is the idempotency key end to end).
/// </summary>
[Alias("ms.IServerJobsGrain")]
public interface IServerJobsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts a job, or returns the existing one when <see cref="JobRequest.IdempotencyKey"/> was used before. Throws
    /// <see cref="NotFoundException"/> (no server), <see cref="ConflictException"/> (the action does not fit the server).
    /// A server whose agent never enrolled gets a job that failed at once, saying so.
    /// </summary>
    Task<JobSnapshot> StartJobAsync(JobRequest request);

    /// <summary>A job of this server, or null.</summary>
    [ReadOnly]
    Task<JobSnapshot?> GetJobAsync(string jobId);

    /// <summary>
    /// This server's jobs, newest first (a bounded history: the last <c>ServerGrain:JobHistory</c> finished ones plus all
    /// active ones). Throws <see cref="NotFoundException"/> for an unknown server.
    /// </summary>
    [ReadOnly]
    Task<ImmutableArray<JobSnapshot>> ListJobsAsync();

    /// <summary>Waits up to <paramref name="wait"/> for the job to change (a step, progress or its end), then returns it.</summary>
    [AlwaysInterleave]
    Task<JobSnapshot?> WaitForJobChangeAsync(string jobId, long seenVersion, TimeSpan wait);

    /// <summary>The tar.gz of a succeeded debug-bundle job, while this activation holds it (bundles are not persisted); else null.</summary>
    [ReadOnly]
    Task<byte[]?> GetDebugBundleAsync(string jobId);
}

/// <summary>
/// The job kinds the control plane ships (their wire names: <c>GET /api/v1/jobs/{id}</c> shows them as they are). A kind is
/// a string, not an enum: a job handler registered in the silo (<c>AddJobHandler</c>) brings its own kinds.
/// </summary>
public static class JobKinds
{
    public const string AddService = "add_service";
    public const string UpdateService = "update_service";
    public const string StartService = "start_service";
    public const string StopService = "stop_service";
    public const string RestartService = "restart_service";
    public const string RemoveService = "remove_service";
    public const string Diagnostics = "diagnostics";
    public const string DebugBundle = "debug_bundle";

    /// <summary>Apply the DNS configuration (zones assigned, listen entries, monitoring modules); zones the server lacks are sent too.</summary>
    public const string PushConfig = "push_config";

    /// <summary>Send the zones assigned (by default only those changed since the server's last applied version) with the configuration.</summary>
    public const string PushZones = "push_zones";

    /// <summary>Apply an earlier configuration version again (its zones and listen entries become the server's again).</summary>
    public const string RevertConfig = "revert_config";

    /// <summary>Push the server's DHCP configuration of one family (<see cref="Dhcp.DhcpPushSpec"/>) to its dhcp4 or dhcp6 service, after review.</summary>
    public const string DhcpPush = "dhcp_push";

    /// <summary>Put this DHCP server in charge of its HA pair (<see cref="Dhcp.DhcpHaMaintenanceSpec"/>) while its partner changes, or hand back.</summary>
    public const string DhcpHaMaintenance = "dhcp_ha_maintenance";
}

/// <summary>Where a job is.</summary>
public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// A request for a job: its <see cref="Kind"/>, the <see cref="Service"/> it acts on (dns|dhcp4|dhcp6 for service jobs),
/// what only that kind needs (<see cref="Spec"/>), an idempotency key, and how long the job waits for an offline agent
/// before it fails (<see cref="WaitForAgent"/>; null: <c>ServerGrain:JobAgentWait</c>, 10 min).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.JobRequest.v2")]
public sealed record JobRequest(
    [property: Id(0)] string Kind,
    [property: Id(1)] string? Service = null,
    [property: Id(2)] JobSpec? Spec = null,
    [property: Id(3)] string? IdempotencyKey = null,
    [property: Id(4)] TimeSpan? WaitForAgent = null);

/// <summary>
/// What one kind of job needs beyond <see cref="JobRequest"/>: a record per kind (or family of kinds), serialized
/// polymorphically by Orleans. Versioning: each record keeps its alias; a new field takes a new id with a default, so an
/// older silo reading a newer spec ignores it and a newer one reading an older spec gets the default.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.JobSpec")]
public abstract record JobSpec;

/// <summary>
/// Installing or updating a service: the <see cref="Version"/> to run (null: the newest the agent has), a DNS service's
/// <see cref="Listen"/> entries (<c>address@port</c>; null = keep), or the older single <see cref="ListenAddress"/>/<see cref="Port"/>;
/// a DHCP service's <see cref="Interfaces"/> and <see cref="Port"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ServiceJobSpec")]
public sealed record ServiceJobSpec(
    [property: Id(0)] string? Version = null,
    [property: Id(1)] string? ListenAddress = null,
    [property: Id(2)] int? Port = null,
    [property: Id(3)] ImmutableArray<string>? Listen = null,
    [property: Id(4)] ImmutableArray<string>? Interfaces = null) : JobSpec;

/// <summary>
/// A DNS push: <see cref="Full"/> sends every zone, not only the changed ones (push_zones); <see cref="Atomic"/>: all the
/// zones apply or none (by default the zones knotd loads apply and a refused one is reported by name).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.DnsPushSpec")]
public sealed record DnsPushSpec([property: Id(0)] bool Full = false, [property: Id(1)] bool Atomic = false) : JobSpec;

/// <summary>Re-applying an earlier DNS configuration: the version to apply.</summary>
[GenerateSerializer, Immutable, Alias("ms.DnsRevertSpec")]
public sealed record DnsRevertSpec([property: Id(0)] int ConfigVersion) : JobSpec;

/// <summary>One line of a job's log.</summary>
[GenerateSerializer, Immutable, Alias("ms.JobStep")]
public sealed record JobStep([property: Id(0)] DateTimeOffset At, [property: Id(1)] string Message);

/// <summary>
/// A job as callers see it. <see cref="Version"/> rises with every change (for waiting on changes).
/// <see cref="ResultJson"/>: the action's output (a service's status, a diagnostics report, a bundle's size and hash).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.JobSnapshot")]
public sealed record JobSnapshot(
    [property: Id(0)] string Id,
    [property: Id(1)] string ServerId,
    [property: Id(2)] string Kind,
    [property: Id(3)] string? Service,
    [property: Id(4)] JobState State,
    [property: Id(5)] int Progress,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset? StartedAt,
    [property: Id(8)] DateTimeOffset? FinishedAt,
    [property: Id(9)] DateTimeOffset Deadline,
    [property: Id(10)] ImmutableArray<JobStep> Steps,
    [property: Id(11)] string? ResultJson,
    [property: Id(12)] string? Error,
    [property: Id(13)] string? IdempotencyKey,
    [property: Id(14)] long Version,
    [property: Id(15)] string RequestedBy = Caller.System)
{
    public bool Finished => State is JobState.Succeeded or JobState.Failed;
}

/// <summary>What happened to a job, as <see cref="JobEvent"/> announces it.</summary>
public enum JobEventType
{
    Queued,
    Step,
    Progress,
    Succeeded,
    Failed,
}

/// <summary>
/// A change of a job, published on the server's job event stream (provider <see cref="StreamNames.EventsProvider"/>,
/// namespace <see cref="StreamNames.JobEventsNamespace"/>, stream id = server id) after the grain made it: a web UI, an
/// audit log or a rollout follows jobs without polling. Notifications, not the record: the stream is in memory and a
/// subscriber that was away reads the job (<c>GET /api/v1/jobs/{id}</c>); <see cref="Version"/> orders them.
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.JobEvent")]
public sealed record JobEvent(
    [property: Id(0)] string JobId,
    [property: Id(1)] string ServerId,
    [property: Id(2)] string Kind,
    [property: Id(3)] string? Service,
    [property: Id(4)] JobEventType Type,
    [property: Id(5)] JobState State,
    [property: Id(6)] int Progress,
    [property: Id(7)] string? Message,
    [property: Id(8)] DateTimeOffset At,
    [property: Id(9)] string RequestedBy,
    [property: Id(10)] long Version);

/// <summary>Job ids carry their server id (<c>{serverId}-job-{n}</c>), so a job is found without any index.</summary>
public static class JobIds
{
    private const string Separator = "-job-";

    public static string Of(string serverId, long number) => $"{serverId}{Separator}{number}";

    /// <summary>The server id of a job id, or null when the id is not one of ours.</summary>
    public static string? ServerOf(string jobId)
    {
        var at = jobId.LastIndexOf(Separator, StringComparison.Ordinal);
        return at > 0 && long.TryParse(jobId.AsSpan(at + Separator.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? jobId[..at]
            : null;
    }
}

/// <summary>
/// One service of a server as the control plane knows it: from the last job that touched it and from the agent's
/// heartbeats (state running|stopped|failed, since, restarts after crashes, version, runtime).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.ServiceSnapshot")]
public sealed record ServiceSnapshot(
    [property: Id(0)] string Kind,
    [property: Id(1)] string State,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] int RestartCount,
    [property: Id(4)] string? Version,
    [property: Id(5)] string Runtime,
    [property: Id(6)] string? Error,
    [property: Id(7)] string? Listen);
