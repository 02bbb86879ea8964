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

    /// <summary>Time of the newest stored sample.</summary>
    [Id(17)]
    public DateTimeOffset? LastSampleAt { get; set; }

    /// <summary>Samples the agent's spool dropped because it was full, as last reported.</summary>
    [Id(18)]
    public long SpoolDropped { get; set; }

    [Id(19)]
    public bool MetricsReminderRegistered { get; set; }

    /// <summary>The liveness reminder was registered at creation (servers created before that register it when they first run).</summary>
    [Id(21)]
    public bool LivenessReminderRegistered { get; set; }

    /// <summary>The agent's Prometheus address from its last heartbeat (null = not exposed); saved when it changes.</summary>
    [Id(20)]
    public string? MetricsAddress { get; set; }
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

/// <summary>A client certificate issued to the server's agent.</summary>
[GenerateSerializer, Alias("ms.IssuedCertificate")]
public sealed class IssuedCertificate
{
    [Id(0)]
    public string Serial { get; set; } = string.Empty;

    [Id(1)]
    public DateTimeOffset NotAfter { get; set; }
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
