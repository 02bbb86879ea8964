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
    /// <summary>Defaults: 30 s heartbeats, unreachable after 3 missed, tokens valid 24 h, certificates 7 days.</summary>
    public static MonitoringSettings Default { get; } = new(string.Empty, 30, 3, 24, 7);

    /// <summary>How long without a heartbeat before a server counts as unreachable.</summary>
    public TimeSpan HeartbeatTimeout => TimeSpan.FromSeconds(HeartbeatIntervalSeconds * HeartbeatMissedLimit);
}

/// <summary>The monitoring settings (key: "monitoring"). Readers go through <see cref="ISettingsCacheGrain"/>.</summary>
[Alias("ms.IMonitoringSettingsGrain")]
public interface IMonitoringSettingsGrain : IGrainWithStringKey
{
    [ReadOnly]
    Task<MonitoringSettings> GetAsync();

    Task<MonitoringSettings> SetAsync(MonitoringSettings settings);
}

/// <summary>
/// A per-silo, stateless cache in front of the settings grain, so thousands of server grains
/// reading settings never make the settings grain hot.
/// </summary>
[Alias("ms.ISettingsCacheGrain")]
public interface ISettingsCacheGrain : IGrainWithIntegerKey
{
    Task<MonitoringSettings> GetMonitoringAsync();
}
