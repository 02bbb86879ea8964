using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Fleet;
using Orleans;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ManagedServerGrainTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private TestCluster Cluster => fixture.Cluster;

    private static ServerDefinition Definition(string name) =>
        new(name, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Docker, CommunicationMode.Push, string.Empty, "srv-user-" + name);

    private async Task<string> CreateAsync(string name)
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        await Cluster.Client.GetGrain<IManagedServerGrain>(id).CreateAsync(Definition(name));
        return id;
    }

    private Task SendAsync(string id, Guid boot, long sequence, bool stopping = false) =>
        Cluster.Client.GetStreamProvider(StreamNames.IngestProvider)
            .GetStream<Heartbeat>(StreamId.Create(StreamNames.HeartbeatNamespace, id))
            .OnNextAsync(new Heartbeat(id, Guid.NewGuid(), boot, sequence, DateTimeOffset.UtcNow, "9.9.9", sequence, "host-" + id, "Debian", stopping));

    private async Task<ServerSnapshot> WaitForAsync(string id, Func<ServerSnapshot, bool> condition, bool viaIndex = false)
    {
        var deadline = DateTime.UtcNow + Patience;
        ServerSnapshot? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = viaIndex ? await FromIndexAsync(id) : await Cluster.Client.GetGrain<IManagedServerGrain>(id).GetAsync();
            if (last is not null && condition(last))
            {
                return last;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"server {id} did not reach the expected state; last seen: {last?.State}");
    }

    /// <summary>Reads a server through the fleet index only: this never activates the server grain.</summary>
    private async Task<ServerSnapshot?> FromIndexAsync(string id)
    {
        var result = await Cluster.Client.GetGrain<IFleetIndexGrain>(FleetIndex.ShardOf(id)).QueryAsync(new IndexQuery(id, ServerSort.Name, false, 10));
        return result.Items.FirstOrDefault(s => s.Id == id);
    }

    /// <summary>What an agent reports is bounded before it is kept; a metrics address not of the server is not listed for Prometheus.</summary>
    [Fact]
    public async Task Agent_supplied_fields_are_bounded_and_a_foreign_metrics_address_is_not_listed()
    {
        var id = await CreateAsync("bound-" + Guid.NewGuid().ToString("N")[..6]);
        var huge = new string('h', 64 * 1024);
        var versions = Enumerable.Range(0, 100).ToDictionary(i => "component-" + i, i => (string?)("1." + i));
        var long2k = new string('s', 2048);
        var services = Enumerable.Range(0, 20).Select(i => new ServiceStatus("kind-" + i, long2k, DateTimeOffset.UtcNow, 0, long2k, "exec", long2k, long2k)).ToList();
        await Cluster.Client.GetStreamProvider(StreamNames.IngestProvider)
            .GetStream<Heartbeat>(StreamId.Create(StreamNames.HeartbeatNamespace, id))
            .OnNextAsync(new Heartbeat(id, Guid.NewGuid(), Guid.NewGuid(), 1, DateTimeOffset.UtcNow, huge, 1, huge + "\u0001", huge, false, versions, "169.254.169.254:80", Services: services));
        var running = await WaitForAsync(id, s => s.State == ServerState.Running);
        Assert.True(running.Hostname!.Length <= AgentInput.MaxHostname, $"hostname of {running.Hostname.Length} characters kept");
        Assert.EndsWith("…", running.Hostname, StringComparison.Ordinal);
        Assert.True(running.AgentVersion!.Length <= AgentInput.MaxShortText);
        var listed = await Cluster.Client.GetGrain<IFleetIndexGrain>(FleetIndex.ShardOf(id)).ListMetricsTargetsAsync();
        Assert.DoesNotContain(listed, s => s.Id == id && MetricsTarget.Resolve(s.MetricsAddress, s.Definition.Address, out _) is not null);
        Assert.Null(MetricsTarget.Resolve("169.254.169.254:80", "127.0.0.1", out var why));
        Assert.Contains("not the server's address", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeats_through_the_stream_drive_the_state_machine()
    {
        var id = await CreateAsync("sm-" + Guid.NewGuid().ToString("N")[..6]);
        var grain = Cluster.Client.GetGrain<IManagedServerGrain>(id);
        Assert.Equal(ServerState.Pending, (await grain.GetAsync())!.State);

        var boot = Guid.NewGuid();
        await SendAsync(id, boot, 1);
        var running = await WaitForAsync(id, s => s.State == ServerState.Running);
        Assert.Equal("9.9.9", running.Versions.Monitor);
        Assert.Equal("host-" + id, running.Hostname);

        await SendAsync(id, boot, 2, stopping: true);
        await WaitForAsync(id, s => s.State == ServerState.Stopped);

        // A replayed (older) message must not resurrect the server.
        await SendAsync(id, boot, 1);
        await Task.Delay(1000);
        Assert.Equal(ServerState.Stopped, (await grain.GetAsync())!.State);

        await SendAsync(id, Guid.NewGuid(), 1);
        await WaitForAsync(id, s => s.State == ServerState.Running);
    }

    [Fact]
    public async Task Commands_are_delivered_once_per_poll_and_results_kept_once()
    {
        var id = await CreateAsync("cmd-" + Guid.NewGuid().ToString("N")[..6]);
        var grain = Cluster.Client.GetGrain<IManagedServerGrain>(id);
        var poll = grain.WaitForCommandsAsync(TimeSpan.FromSeconds(20));
        var commandId = await grain.EnqueueCommandAsync(CommandKinds.Ping, null, TimeSpan.FromMinutes(1));
        var delivered = await poll;
        Assert.Equal(commandId, Assert.Single(delivered).CommandId);
        Assert.Empty(await grain.WaitForCommandsAsync(TimeSpan.Zero));

        var first = new CommandResult(commandId, true, DateTimeOffset.UtcNow, null, System.Text.Json.JsonDocument.Parse("{\"agent_version\":\"1\"}").RootElement);
        await grain.CompleteCommandAsync(first);
        await grain.CompleteCommandAsync(first with { Success = false, Error = "late duplicate" });
        var status = await grain.WaitForCommandResultAsync(commandId, TimeSpan.Zero);
        Assert.Equal(CommandState.Succeeded, status.State);
        Assert.Null(status.Error);
    }

    [Fact]
    public async Task State_and_heartbeat_timeout_reminder_survive_the_loss_of_the_hosting_silo()
    {
        // Short liveness so the timeout fires in seconds: 1 s heartbeats, unreachable after 2 missed.
        await Cluster.Client.GetGrain<IMonitoringSettingsGrain>("monitoring").SetAsync(MonitoringSettings.Default with { HeartbeatIntervalSeconds = 1, HeartbeatMissedLimit = 2 });
        await Task.Delay(TimeSpan.FromSeconds(6)); // settings caches expire

        // Put servers in the running state until one lives on a secondary silo (placement is random,
        // so keep adding servers rather than hoping a fixed few land there), and kill that silo.
        var ids = new List<string>();
        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        var secondaries = Cluster.SecondarySilos.ToDictionary(s => s.SiloAddress);
        var boots = new Dictionary<string, Guid>();
        SiloHandle? victimSilo = null;
        string? victimId = null;
        var sequence = 1;
        var deadline = DateTime.UtcNow + Patience;
        while (victimId is null && DateTime.UtcNow < deadline)
        {
            if (ids.Count < 64)
            {
                var id = await CreateAsync("fo-" + Guid.NewGuid().ToString("N")[..6]);
                ids.Add(id);
                boots[id] = Guid.NewGuid();
            }

            foreach (var id in ids)
            {
                await SendAsync(id, boots[id], sequence);
            }

            sequence++;
            var stats = await management.GetDetailedGrainStatistics();
            var hit = stats.FirstOrDefault(s => secondaries.ContainsKey(s.SiloAddress) && ids.Contains(s.GrainId.Key.ToString()!));
            if (hit is not null)
            {
                victimId = hit.GrainId.Key.ToString();
                victimSilo = secondaries[hit.SiloAddress];
            }
            else
            {
                await Task.Delay(200);
            }
        }

        Assert.NotNull(victimId);
        Assert.NotNull(victimSilo);
        var before = await WaitForAsync(victimId!, s => s.State == ServerState.Running);

        await Cluster.KillSiloAsync(victimSilo!);

        // Without touching the server grain, the reminder must reactivate it elsewhere and enforce the timeout.
        var after = await WaitForAsync(victimId!, s => s.State == ServerState.Unreachable, viaIndex: true);
        Assert.Equal(before.Definition, after.Definition);
        Assert.Equal(before.CreatedAt, after.CreatedAt);

        var reloaded = await Cluster.Client.GetGrain<IManagedServerGrain>(victimId!).GetAsync();
        Assert.NotNull(reloaded);
        Assert.Equal(ServerState.Unreachable, reloaded!.State);
        Assert.Equal(before.Definition, reloaded.Definition);

        // A heartbeat after failover brings it back.
        await SendAsync(victimId!, Guid.NewGuid(), 1);
        await WaitForAsync(victimId!, s => s.State == ServerState.Running);
        await Cluster.StartAdditionalSiloAsync();
        await Cluster.Client.GetGrain<IMonitoringSettingsGrain>("monitoring").SetAsync(MonitoringSettings.Default);
    }
}
