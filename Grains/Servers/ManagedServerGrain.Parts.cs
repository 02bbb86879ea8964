using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Dns;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers.Parts;
using ManagedServers.Grains.Servers.Parts.Dhcp;
using ManagedServers.Grains.Servers.Parts.Dns;
using ManagedServers.Grains.Servers.Parts.Pull;
using ManagedServers.Grains.Servers.Parts.Telemetry;
using ManagedServers.Grains.Servers.Parts.Versions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams.Core;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// The shell's side of its parts (<see cref="IServerPart"/>): it creates them with the activation, calls each at every
/// step of the grain's life, routes reminders and stream namespaces to the part that names them, and offers them
/// <see cref="IServerHost"/>. The grain interfaces a part serves are forwarded here in one line each (a grain class
/// must implement its interfaces).
/// </summary>
public sealed partial class ManagedServerGrain : IServerHost, IServerMetricsGrain, IServerDnsMetricsGrain, IServerDhcpMetricsGrain, IServerPullGrain, IServerConfigVersionsGrain, IServerDnsGrain, IServerDhcpGrain
{
    private readonly IPersistentStateFactory _stateFactory;
    private readonly IServerPart[] _parts;
    private readonly Dictionary<string, IServerPart> _reminderParts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IServerPart> _streamParts = new(StringComparer.Ordinal);
    private TelemetryPart? _telemetry;
    private PullPart? _pull;
    private ConfigVersionsPart? _versions;
    private DnsPart? _dns;
    private DhcpPart? _dhcp;

    string IServerHost.Id => Id;

    IGrainFactory IServerHost.GrainFactory => GrainFactory;

    ServerDefinition? IServerHost.Definition => Record.Exists ? Record.Definition : null;

    MonitoringSettings IServerHost.Settings => _settings;

    private TelemetryPart Telemetry => _telemetry ??= Part<TelemetryPart>();

    private PullPart PullPart => _pull ??= Part<PullPart>();

    private ConfigVersionsPart ConfigVersions => _versions ??= Part<ConfigVersionsPart>();

    private DnsPart DnsPart => _dns ??= Part<DnsPart>();

    private DhcpPart DhcpPart => _dhcp ??= Part<DhcpPart>();

    /// <summary>Creates the registered parts (in registration order) and indexes their reminders and stream namespaces.</summary>
    private static IServerPart[] CreateParts(ManagedServerGrain grain, IEnumerable<ServerPartType> types, IServiceProvider services)
    {
        var parts = types.Select(t => t.Create(services, grain)).ToArray();
        foreach (var part in parts)
        {
            foreach (var name in part.Reminders)
            {
                grain._reminderParts.Add(name, part); // two parts claiming one name fail every activation, visibly
            }

            foreach (var ns in part.StreamNamespaces)
            {
                grain._streamParts.Add(ns, part);
            }
        }

        return parts;
    }

    ServerDefinition IServerHost.RequireDefinition() => RequireDefinition();

    Task IServerHost.RefreshSettingsAsync() => RefreshSettingsAsync();

    IPersistentState<T> IServerHost.State<T>(string name) =>
        _stateFactory.Create<T>(GrainContext, new PartStateConfiguration(name, GrainNames.Storage));

    IGrainTimer IServerHost.RegisterTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options) =>
        this.RegisterGrainTimer(callback, options);

    Task IServerHost.RegisterReminderAsync(string name, TimeSpan period) => this.RegisterOrUpdateReminder(name, period, period);

    Task IServerHost.UnregisterReminderAsync(string name) => UnregisterReminderAsync(name);

    T IServerHost.Part<T>() => Part<T>();

    private T Part<T>()
        where T : class, IServerPart =>
        _parts.OfType<T>().FirstOrDefault()
        ?? throw new InvalidOperationException($"the server grain has no {typeof(T).Name}: register it with AddServerPart (AddServerParts registers the built-in ones)");

    /// <summary>The shell and its parts that implement <typeparamref name="T"/> (features job handlers look for).</summary>
    private IEnumerable<T> Features<T>()
        where T : class => this is T shell ? [shell, .. _parts.OfType<T>()] : _parts.OfType<T>();

    private async Task ActivatePartsAsync(CancellationToken cancellationToken)
    {
        foreach (var part in _parts)
        {
            await part.OnActivateAsync(cancellationToken);
        }
    }

    private async Task DeactivatePartsAsync(CancellationToken cancellationToken)
    {
        foreach (var part in _parts)
        {
            await part.OnDeactivateAsync(cancellationToken);
        }
    }

    private async Task DefinitionChangedAsync(ServerDefinition? before)
    {
        foreach (var part in _parts)
        {
            await part.OnDefinitionChangedAsync(before);
        }
    }

    /// <summary>Each part deletes what it holds, then its reminders go.</summary>
    private async Task DeletePartsAsync()
    {
        foreach (var part in _parts)
        {
            await part.OnDeleteAsync();
            foreach (var name in part.Reminders)
            {
                await UnregisterReminderAsync(name);
            }
        }
    }

    private Task PartReminderAsync(string name) =>
        _reminderParts.TryGetValue(name, out var part) ? part.OnReminderAsync(name) : UnregisterReminderAsync(name); // a reminder nothing owns any more

    private Task SubscribePartAsync(IStreamSubscriptionHandleFactory handles) =>
        _streamParts.TryGetValue(handles.StreamId.GetNamespace() ?? string.Empty, out var part) ? part.OnSubscribedAsync(handles) : Task.CompletedTask;

    public Task<MetricsIngestResult> IngestAsync(MetricsBatch batch) => Telemetry.IngestAsync(batch);

    public Task<ImmutableArray<StoredSample>> GetRawAsync(DateTimeOffset from, DateTimeOffset to, MetricFilter filter, int limit) => Telemetry.GetRawAsync(from, to, filter, limit);

    public Task<ImmutableArray<AggregateBucket>> GetAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds, MetricFilter filter) => Telemetry.GetAggregatesAsync(from, to, stepSeconds, filter);

    public Task<DnsIngestResult> IngestDnsAsync(DnsMetricsBatch batch) => Telemetry.IngestDnsAsync(batch);

    public Task<ImmutableArray<StoredSample>> GetDnsRawAsync(DateTimeOffset from, DateTimeOffset to, int limit) => Telemetry.GetDnsRawAsync(from, to, limit);

    public Task<ImmutableArray<AggregateBucket>> GetDnsAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds) => Telemetry.GetDnsAggregatesAsync(from, to, stepSeconds);

    public Task<ImmutableArray<DnsNameTotal>> GetDnsTopAsync(string? zone, int n, DateTimeOffset from, DateTimeOffset to) => Telemetry.GetDnsTopAsync(zone, n, from, to);

    public Task<DhcpIngestResult> IngestDhcpAsync(DhcpMetricsBatch batch) => Telemetry.IngestDhcpAsync(batch);

    public Task<ImmutableArray<StoredSample>> GetDhcpRawAsync(DateTimeOffset from, DateTimeOffset to, int limit) => Telemetry.GetDhcpRawAsync(from, to, limit);

    public Task<ImmutableArray<AggregateBucket>> GetDhcpAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds) => Telemetry.GetDhcpAggregatesAsync(from, to, stepSeconds);

    public Task<ImmutableArray<SubnetUtilisation>> GetDhcpUtilisationAsync() => Task.FromResult(Telemetry.GetDhcpUtilisation());

    Task IServerHost.PublishAsync() => PushToIndexAsync();

    public Task<ImmutableArray<ConfigVersionSummary>> ListServiceConfigVersionsAsync(string service)
    {
        RequireDefinition();
        return Task.FromResult(ConfigVersions.List(service));
    }

    public Task<ConfigVersionRecord?> GetServiceConfigVersionAsync(string service, int number)
    {
        RequireDefinition();
        return Task.FromResult(ConfigVersions.Get(service, number));
    }

    public Task<ServerDnsSnapshot> GetDnsAsync() => DnsPart.GetDnsAsync();

    public Task<ServerDnsSnapshot> SetZonesAsync(ImmutableArray<string> zones) => DnsPart.SetZonesAsync(zones);

    public Task<ServerDnsSnapshot> AssignZoneAsync(string zone) => DnsPart.AssignZoneAsync(zone);

    public Task<ServerDnsSnapshot> UnassignZoneAsync(string zone) => DnsPart.UnassignZoneAsync(zone);

    public Task<bool> IsZoneAssignedAsync(string zone) => DnsPart.IsZoneAssignedAsync(zone);

    public Task<ServerZone?> GetZoneAsync(string zone, long? serial) => DnsPart.GetZoneAsync(zone, serial);

    public Task<ImmutableArray<DnsConfigVersionSummary>> ListConfigVersionsAsync() => DnsPart.ListConfigVersionsAsync();

    public Task<DnsConfigVersion?> GetConfigVersionAsync(int number) => DnsPart.GetConfigVersionAsync(number);

    public Task<DhcpImportSummary> ImportAsync(string document) => DhcpPart.ImportAsync(document);

    public Task<DhcpConfig> EditAsync(DhcpFamily family, DhcpEdit edit, bool dryRun = false) => DhcpPart.EditAsync(family, edit, dryRun);

    public Task<ImmutableArray<string>> GetHaPartnersAsync(DhcpFamily family) =>
        Task.FromResult(DhcpPart.Get(family)?.Ha is { } ha ? ha.Peers.Select(p => p.ServerId).Where(p => p != Id).ToImmutableArray() : []);

    public Task<DhcpConfig?> GetConfigAsync(DhcpFamily family) => Task.FromResult(DhcpPart.Get(family));

    public Task<string?> RenderAsync(DhcpFamily family) => Task.FromResult(DhcpPart.Render(family));

    public Task<ImmutableArray<DhcpFinding>> ReviewAsync(DhcpFamily family) => Task.FromResult(DhcpPart.Review(family));

    public Task<DhcpPushCheck?> CheckPushAsync(DhcpFamily family)
    {
        if (!Record.Exists)
        {
            return Task.FromResult<DhcpPushCheck?>(null);
        }

        var config = DhcpPart.Get(family);
        var service = Dhcp.DhcpPushJobHandler.Service(family);
        return Task.FromResult<DhcpPushCheck?>(new DhcpPushCheck(
            Record.Definition!.Name, Record.Definition.Kind == ServerKind.Dhcp, Record.Services.Any(s => s.Kind == service), config is not null, DhcpPart.Review(family), config?.Ha));
    }

    public Task RecordPulledHeartbeatAsync(Heartbeat heartbeat) => PullPart.TakeHeartbeat(heartbeat) ? OnNextAsync(heartbeat) : Task.CompletedTask;

    private sealed record PartStateConfiguration(string StateName, string StorageName) : IPersistentStateConfiguration;
}
