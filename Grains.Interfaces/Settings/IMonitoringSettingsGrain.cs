using ManagedServers.Grains.Interfaces.Servers;

namespace ManagedServers.Grains.Interfaces.Settings;

/// <summary>Global monitoring and enrolment settings; per-server overrides live on the server record.</summary>
[GenerateSerializer, Immutable, Alias("ms.MonitoringSettings")]
public sealed record MonitoringSettings(
    [property: Id(0)] string MonitoringApiIp,
    [property: Id(1)] int HeartbeatIntervalSeconds,
    [property: Id(2)] int HeartbeatMissedLimit,
    [property: Id(3)] int EnrollmentTokenHours,
    [property: Id(4)] int CertificateDays)
{
    /// <summary>Defaults: 30 s heartbeats, unreachable after 3 missed, tokens valid 24 h, certificates 7 days; see the other properties.</summary>
    public static MonitoringSettings Default { get; } = new(string.Empty, 30, 3, 24, 7);

    /// <summary>Agents check the control plane's certificate name as well as its chain (default on).</summary>
    [Id(5)]
    public bool VerifyCa { get; init; } = true;

    /// <summary>How monitoring data flows for servers without an override: agents push, or silos pull.</summary>
    [Id(6)]
    public CommunicationMode Communication { get; init; } = CommunicationMode.Push;

    [Id(7)]
    public bool SystemMonitoring { get; init; } = true;

    [Id(8)]
    public int SystemIntervalSeconds { get; init; } = 5;

    [Id(9)]
    public bool DnsMonitoring { get; init; } = true;

    [Id(10)]
    public int DnsIntervalSeconds { get; init; } = 60;

    /// <summary>Raw samples are kept this many minutes (default one day).</summary>
    [Id(11)]
    public int RawRetentionMinutes { get; init; } = 1440;

    /// <summary>Per-minute and per-hour aggregates are kept this many days.</summary>
    [Id(12)]
    public int AggregateRetentionDays { get; init; } = 30;

    [Id(13)]
    public bool DhcpMonitoring { get; init; } = true;

    [Id(14)]
    public int DhcpIntervalSeconds { get; init; } = 60;

    /// <summary>A subnet this full (percent of its addresses assigned) is a warning.</summary>
    [Id(15)]
    public int DhcpUtilisationWarning { get; init; } = 80;

    /// <summary>A subnet this full is critical.</summary>
    [Id(16)]
    public int DhcpUtilisationCritical { get; init; } = 90;

    /// <summary>How long without a heartbeat before a server counts as unreachable.</summary>
    public TimeSpan HeartbeatTimeout => TimeSpan.FromSeconds(HeartbeatIntervalSeconds * HeartbeatMissedLimit);

    public TimeSpan RawRetention => TimeSpan.FromMinutes(RawRetentionMinutes);

    public TimeSpan AggregateRetention => TimeSpan.FromDays(AggregateRetentionDays);

    /// <summary>What agents collect and how often (a method, not a property: grain storage serializes properties).</summary>
    public ManagedServers.Contracts.Agent.AgentMonitoringConfig ToAgentConfig() =>
        new(SystemMonitoring, SystemIntervalSeconds, DnsMonitoring, DnsIntervalSeconds, DhcpMonitoring, DhcpIntervalSeconds);
}

/// <summary>The monitoring settings (key: "monitoring"). Readers go through <see cref="ISettingsCacheGrain"/>.</summary>
[Alias("ms.IMonitoringSettingsGrain")]
public interface IMonitoringSettingsGrain : IGrainWithStringKey
{
    [ReadOnly]
    Task<MonitoringSettings> GetAsync();

    Task<MonitoringSettings> SetAsync(MonitoringSettings settings);
}
