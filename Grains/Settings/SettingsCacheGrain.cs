using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ManagedServers.Grains.Settings;

/// <summary>Local, stateless cache of the settings: each silo asks the settings grain at most every few seconds.</summary>
[StatelessWorker]
[Reentrant]
public sealed class SettingsCacheGrain(TimeProvider time) : Grain, ISettingsCacheGrain
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);
    private MonitoringSettings? _cached;
    private DateTimeOffset _fetchedAt;

    public async Task<MonitoringSettings> GetMonitoringAsync()
    {
        var now = time.GetUtcNow();
        if (_cached is null || now - _fetchedAt > Ttl)
        {
            _cached = await GrainFactory.GetGrain<IMonitoringSettingsGrain>("monitoring").GetAsync();
            _fetchedAt = now;
        }

        return _cached;
    }
}
