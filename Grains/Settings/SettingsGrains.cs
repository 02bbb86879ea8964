using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Settings;

[GenerateSerializer, Alias("ms.MonitoringSettingsState")]
public sealed class MonitoringSettingsState
{
    [Id(0)]
    public MonitoringSettings? Settings { get; set; }
}

public sealed class MonitoringSettingsGrain(
    [PersistentState("settings", GrainNames.Storage)] IPersistentState<MonitoringSettingsState> store)
    : Grain, IMonitoringSettingsGrain
{
    public Task<MonitoringSettings> GetAsync() => Task.FromResult(store.State.Settings ?? MonitoringSettings.Default);

    public async Task<MonitoringSettings> SetAsync(MonitoringSettings settings)
    {
        store.State.Settings = settings;
        await store.WriteStateAsync();
        return settings;
    }
}

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
