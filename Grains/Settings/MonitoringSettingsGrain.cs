using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

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
