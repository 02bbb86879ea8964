namespace ManagedServers.Grains.Servers;

/// <summary>Tuning of <see cref="ManagedServerGrain"/>; tests shorten the periods.</summary>
public sealed class ServerGrainOptions
{
    /// <summary>Period of the liveness reminder (Orleans enforces its own minimum, one minute by default).</summary>
    public TimeSpan LivenessReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often heartbeat-only changes (last heartbeat, request count) refresh the fleet index.</summary>
    public TimeSpan IndexRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the last heartbeat time is written to storage when nothing else changes.</summary>
    public TimeSpan HeartbeatCheckpointInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A command handed out but not answered is handed out again after this long.</summary>
    public TimeSpan CommandRedeliveryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Finished commands kept per server.</summary>
    public int CommandHistory { get; set; } = 50;
}

/// <summary>Storage name shared by grains and hosts (stream names: <see cref="StreamNames"/>).</summary>
public static class GrainNames
{
    /// <summary>Grain storage for all grain state.</summary>
    public const string Storage = "Default";
}
