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

    /// <summary>Raw samples kept in memory per server (capped by the raw retention setting); older reads go to the store.</summary>
    public TimeSpan RawMemoryWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Upper bound of raw samples in memory per server, whatever the interval.</summary>
    public int RawMemoryMaxSamples { get; set; } = 3_600;

    /// <summary>How often minutes that got samples are aggregated while the grain is active.</summary>
    public TimeSpan RollupTimerPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Minute aggregates are kept this long (at most the aggregate retention setting); hour aggregates for the whole
    /// aggregate retention. Minute buckets are 60× the rows of hour buckets: 30 days of them would be ≈ 97 MB per server.
    /// </summary>
    public TimeSpan MinuteAggregateRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Period of the reminder that reconciles aggregates and enforces retention.</summary>
    public TimeSpan MetricsReminderPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Period of the reminder that brings pull servers' grains back (and so their pull timers) after a silo loss.</summary>
    public TimeSpan PullReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Batches one pull may take in a row while the agent answers full batches (a backlog after an outage).</summary>
    public int PullBatchesPerTick { get; set; } = 10;

    /// <summary>How long a job waits for an offline agent to pick it up when the request names no wait.</summary>
    public TimeSpan JobAgentWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an agent may take to report a job's result after it took the job.</summary>
    public TimeSpan JobExecutionTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Finished jobs kept per server (active ones are always kept).</summary>
    public int JobHistory { get; set; } = 50;

    /// <summary>How often an active grain checks its jobs' deadlines (the liveness reminder does it after a silo loss).</summary>
    public TimeSpan JobTimerPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an unfinished operation over several servers is woken by its reminder (after a silo loss it resumes at
    /// the next one; while active, a one-second timer drives it).
    /// </summary>
    public TimeSpan OperationReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an activation keeps a finished debug bundle for download.</summary>
    public TimeSpan DebugBundleHold { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>Storage name shared by grains and hosts (stream names: <see cref="StreamNames"/>).</summary>
public static class GrainNames
{
    /// <summary>Grain storage for all grain state.</summary>
    public const string Storage = "Default";
}
