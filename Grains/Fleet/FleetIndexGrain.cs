using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Fleet;

namespace ManagedServers.Grains.Fleet;

/// <summary>Persisted part of an index shard.</summary>
[GenerateSerializer, Alias("ms.FleetIndexState")]
public sealed class FleetIndexState
{
    [Id(0)]
    public Dictionary<string, ServerSnapshot> Servers { get; set; } = [];
}

/// <summary>
/// One shard of the fleet index. Answers listing queries from memory; writes its state when the
/// durable part of a summary changes (debounced), not on every liveness refresh.
/// </summary>
public sealed class FleetIndexGrain(
    [PersistentState("fleetIndex", GrainNames.Storage)] IPersistentState<FleetIndexState> store)
    : Grain, IFleetIndexGrain
{
    private static readonly TimeSpan FlushDelay = TimeSpan.FromSeconds(1);
    private bool _dirty;
    private IGrainTimer? _flushTimer;

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _dirty ? FlushAsync() : Task.CompletedTask;

    public Task UpsertAsync(ServerSnapshot server)
    {
        var servers = store.State.Servers;
        var durableChange = !servers.TryGetValue(server.Id, out var old) || !SameDurable(old, server);
        servers[server.Id] = server;
        if (durableChange)
        {
            MarkDirty();
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string serverId)
    {
        if (store.State.Servers.Remove(serverId))
        {
            MarkDirty();
        }

        return Task.CompletedTask;
    }

    public Task<IndexQueryResult> QueryAsync(IndexQuery query) =>
        Task.FromResult(ServerOrdering.Query(store.State.Servers.Values, query));

    public Task<FleetCounts> CountAsync() => Task.FromResult(FleetCounts.Count(store.State.Servers.Values));

    public Task<ImmutableArray<FleetSubnetUtilisation>> TopDhcpSubnetsAsync(int n, double minimum) =>
        Task.FromResult(FleetSubnetUtilisation.Top(store.State.Servers.Values, n, minimum));

    public Task<ImmutableArray<ServerSnapshot>> ListMetricsTargetsAsync() =>
        Task.FromResult<ImmutableArray<ServerSnapshot>>([.. store.State.Servers.Values.Where(s => !string.IsNullOrEmpty(s.MetricsAddress))]);

    private static bool SameDurable(ServerSnapshot a, ServerSnapshot b) =>
        a.Definition == b.Definition && a.State == b.State && a.Versions == b.Versions && a.CertificateNotAfter == b.CertificateNotAfter && a.CertificateIssuer == b.CertificateIssuer
        && a.MetricsAddress == b.MetricsAddress && a.ActiveJobs == b.ActiveJobs
        && a.Services.IsDefault == b.Services.IsDefault && (a.Services.IsDefault || a.Services.SequenceEqual(b.Services))
        && a.DhcpSubnets.IsDefaultOrEmpty == b.DhcpSubnets.IsDefaultOrEmpty && (a.DhcpSubnets.IsDefaultOrEmpty || a.DhcpSubnets.SequenceEqual(b.DhcpSubnets));

    public Task<ImmutableArray<string>> ListWithActiveJobsAsync() =>
        Task.FromResult<ImmutableArray<string>>([.. store.State.Servers.Values.Where(s => s.ActiveJobs > 0).Select(s => s.Id)]);

    private void MarkDirty()
    {
        _dirty = true;
        _flushTimer ??= this.RegisterGrainTimer(
            static (grain, _) => grain.FlushAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = FlushDelay, Period = Timeout.InfiniteTimeSpan });
    }

    private async Task FlushAsync()
    {
        _flushTimer?.Dispose();
        _flushTimer = null;
        if (!_dirty)
        {
            return;
        }

        _dirty = false;
        await store.WriteStateAsync();
    }
}
