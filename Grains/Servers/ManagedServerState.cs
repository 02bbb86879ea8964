namespace ManagedServers.Grains.Servers;

/// <summary>The persisted state of one managed server.</summary>
[GenerateSerializer, Alias("ms.ManagedServerState")]
public sealed class ManagedServerState
{
    [Id(0)]
    public bool Exists { get; set; }

    [Id(1)]
    public ServerDefinition? Definition { get; set; }

    [Id(2)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(3)]
    public ServerState State { get; set; }

    [Id(4)]
    public DateTimeOffset? StateSince { get; set; }

    [Id(5)]
    public DateTimeOffset? LastHeartbeat { get; set; }

    [Id(6)]
    public Guid BootId { get; set; }

    [Id(7)]
    public long Sequence { get; set; }

    [Id(8)]
    public ComponentVersionSet Versions { get; set; } = ComponentVersionSet.None;

    [Id(9)]
    public string? Hostname { get; set; }

    [Id(10)]
    public long? UptimeSeconds { get; set; }

    [Id(11)]
    public string? AgentVersion { get; set; }

    [Id(12)]
    public EnrollmentTokenState? EnrollmentToken { get; set; }

    [Id(13)]
    public List<IssuedCertificate> Certificates { get; set; } = [];

    [Id(14)]
    public List<CommandEntry> Commands { get; set; } = [];

    /// <summary>Heartbeats taken (duplicates and stale ones not counted); saved with the heartbeat checkpoint.</summary>
    [Id(15)]
    public long HeartbeatsAccepted { get; set; }

    // Id 16 was a stored-samples counter nobody read; the Prometheus counter managedservers.samples.stored has it.
    // Ids 17-19 (last sample time, spool drops, metrics reminder registered) moved to the telemetry part's own state.

    /// <summary>The liveness reminder was registered at creation (servers created before that register it when they first run).</summary>
    [Id(21)]
    public bool LivenessReminderRegistered { get; set; }

    /// <summary>The agent's Prometheus address from its last heartbeat (null = not exposed); saved when it changes.</summary>
    [Id(20)]
    public string? MetricsAddress { get; set; }

    // Ids 22 and 23 are not used: jobs live in their own state (ServerJobsState), written only when a job changes.

    /// <summary>The server's services, from the last job that touched each and from the agent's heartbeats.</summary>
    [Id(24)]
    public List<ServiceSnapshot> Services { get; set; } = [];

    /// <summary>When the agent reported <see cref="Services"/> (its clock: a heartbeat's sent time or a service job result's completion).</summary>
    [Id(25)]
    public DateTimeOffset? ServicesReportedAt { get; set; }

    /// <summary>Serials of certificates that no longer speak for this server (replaced, revoked), newest last, bounded.</summary>
    [Id(26)]
    public List<string> SupersededSerials { get; set; } = [];

    /// <summary>What happened to the server's agent identity (enrolments, renewals, revocations, refused certificates), newest last, bounded.</summary>
    [Id(27)]
    public List<ServerEvent> Events { get; set; } = [];
}

/// <summary>
/// The server's jobs, a second persistent state of the same grain: a heartbeat checkpoint never rewrites the job
/// history, and a job change never rewrites the server record.
/// </summary>
[GenerateSerializer, Alias("ms.ServerJobsState")]
public sealed class ServerJobsState
{
    /// <summary>All active jobs and a bounded history of finished ones (oldest first).</summary>
    [Id(0)]
    public List<JobEntry> Jobs { get; set; } = [];

    /// <summary>The number of the last job (job ids are <c>{serverId}-job-{n}</c>).</summary>
    [Id(1)]
    public long LastJobNumber { get; set; }
}

/// <summary>One job of the server's workflow (see <see cref="IServerJobsGrain"/>).</summary>
[GenerateSerializer, Alias("ms.JobEntry")]
public sealed class JobEntry
{
    [Id(0)]
    public string Id { get; set; } = string.Empty;

    /// <summary>The kind as versions before string kinds stored it (read only; see <see cref="Kind"/>).</summary>
    [Id(1)]
    public LegacyJobKind LegacyKind { get; set; }

    /// <summary>The job kind (<see cref="JobKinds"/>, or a registered handler's own).</summary>
    [Id(19)]
    public string? KindName { get; set; }

    public string Kind
    {
        get => KindName ?? ManagedServers.Contracts.ContractsJson.WireName(LegacyKind);
        set => KindName = value;
    }

    /// <summary>The kind the caller asked for, when the handler ran the job as another (add of an installed service: update).</summary>
    [Id(20)]
    public string? RequestedKind { get; set; }

    [Id(2)]
    public string? Service { get; set; }

    [Id(3)]
    public JobState State { get; set; }

    [Id(4)]
    public int Progress { get; set; }

    [Id(5)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(6)]
    public DateTimeOffset? StartedAt { get; set; }

    [Id(7)]
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The agent must take the job by then.</summary>
    [Id(8)]
    public DateTimeOffset Deadline { get; set; }

    [Id(9)]
    public List<JobStep> Steps { get; set; } = [];

    [Id(10)]
    public string? ResultJson { get; set; }

    [Id(11)]
    public string? Error { get; set; }

    [Id(12)]
    public string? IdempotencyKey { get; set; }

    /// <summary>The agent command that carries the job (its id is the idempotency key on the agent).</summary>
    [Id(13)]
    public string? CommandId { get; set; }

    [Id(14)]
    public long Version { get; set; }

    /// <summary>The command's kind and arguments, so a command lost with a silo between the two writes is queued again.</summary>
    [Id(15)]
    public string? CommandKind { get; set; }

    [Id(16)]
    public string? CommandArgsJson { get; set; }

    /// <summary>Agent steps already in the log (from heartbeat progress): the result's copy of them is not logged twice.</summary>
    [Id(17)]
    public int AgentStepsLogged { get; set; }

    public bool Finished => State is JobState.Succeeded or JobState.Failed;

    /// <summary>Who asked for the job: a user name, or <see cref="Caller.System"/>.</summary>
    [Id(18)]
    public string RequestedBy { get; set; } = Caller.System;
}

/// <summary>Job kinds as stored before kinds were strings (their snake_case names are the string kinds).</summary>
public enum LegacyJobKind
{
    AddService,
    UpdateService,
    StartService,
    StopService,
    RestartService,
    RemoveService,
    Diagnostics,
    DebugBundle,
    PushConfig,
    PushZones,
    RevertConfig,
}

/// <summary>The one live enrolment token, stored as a hash.</summary>
[GenerateSerializer, Alias("ms.EnrollmentTokenState")]
public sealed class EnrollmentTokenState
{
    [Id(0)]
    public string Sha256 { get; set; } = string.Empty;

    [Id(1)]
    public DateTimeOffset ExpiresAt { get; set; }

    [Id(2)]
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>
/// A client certificate issued to the server's agent: the current one, or the one a renewal issued and the agent
/// has not used yet (<see cref="Renewing"/>). Its first use makes it current and supersedes every other.
/// </summary>
[GenerateSerializer, Alias("ms.IssuedCertificate")]
public sealed class IssuedCertificate
{
    [Id(0)]
    public string Serial { get; set; } = string.Empty;

    [Id(1)]
    public DateTimeOffset NotAfter { get; set; }

    /// <summary>The issuing CA's subject (tells whether the agent renewed onto a rotated CA); null for certificates recorded before.</summary>
    [Id(2)]
    public string? Issuer { get; set; }

    [Id(3)]
    public bool Renewing { get; set; }

    /// <summary>Replaced by a renewal: still accepted until then, so requests the agent sent just before it switched finish.</summary>
    [Id(4)]
    public DateTimeOffset? RetiringUntil { get; set; }
}

/// <summary>A command in the agent's queue, kept after completion for a bounded history.</summary>
[GenerateSerializer, Alias("ms.CommandEntry")]
public sealed class CommandEntry
{
    [Id(0)]
    public string CommandId { get; set; } = string.Empty;

    [Id(1)]
    public string Kind { get; set; } = string.Empty;

    [Id(2)]
    public string? ArgsJson { get; set; }

    [Id(3)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(4)]
    public DateTimeOffset ExpiresAt { get; set; }

    [Id(5)]
    public CommandState State { get; set; }

    [Id(6)]
    public DateTimeOffset? CompletedAt { get; set; }

    [Id(7)]
    public string? Error { get; set; }

    [Id(8)]
    public string? OutputJson { get; set; }
}
