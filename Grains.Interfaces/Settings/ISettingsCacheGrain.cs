
namespace ManagedServers.Grains.Interfaces.Settings;

/// <summary>
/// A per-silo, stateless cache in front of the settings grain, so thousands of server grains
/// reading settings never make the settings grain hot.
/// </summary>
[Alias("ms.ISettingsCacheGrain")]
public interface ISettingsCacheGrain : IGrainWithIntegerKey
{
    Task<MonitoringSettings> GetMonitoringAsync();
}
