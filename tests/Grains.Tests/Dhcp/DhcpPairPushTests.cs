using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Operations;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>
/// A DHCP push to several servers as one operation, on the 3-silo cluster with the agents played by the test: an HA pair
/// is pushed standby first, each peer's push wrapped in a hand-over to its partner (start, then cancel); a server outside
/// the pair is pushed beside it. A refused standby push stops the pair (the primary is skipped) but its partner still
/// hands back. An operation whose silo dies mid-way resumes elsewhere and runs no step twice.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DhcpPairPushTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private TestCluster Cluster => fixture.Cluster;

    private IManagedServerGrain Server(string id) => Cluster.Client.GetGrain<IManagedServerGrain>(id);

    private IServerJobsGrain Jobs(string id) => Cluster.Client.GetGrain<IServerJobsGrain>(id);

    private IServerDhcpGrain Dhcp(string id) => Cluster.Client.GetGrain<IServerDhcpGrain>(id);

    [Fact]
    public void The_plan_pushes_a_pair_one_peer_at_a_time_standby_first_inside_hand_overs()
    {
        var ha = new DhcpHa("hot-standby", [new DhcpHaPeer("srv-a", "a", "http://127.0.0.1:1/", "primary"), new DhcpHaPeer("srv-b", "b", "http://127.0.0.1:2/", "standby")]);
        var plan = DhcpPushPlan.Build(DhcpFamily.V4, [("srv-a", ha), ("srv-c", null), ("srv-b", ha)], acknowledgeWarnings: false, waitForAgent: null);
        Assert.Equal(
            [
                (0, "srv-c", JobKinds.DhcpPush, (bool?)null, OperationStepMode.Required),
                (1, "srv-a", JobKinds.DhcpHaMaintenance, true, OperationStepMode.BestEffort),
                (2, "srv-b", JobKinds.DhcpPush, null, OperationStepMode.Required),
                (3, "srv-a", JobKinds.DhcpHaMaintenance, false, OperationStepMode.Always),
                (4, "srv-b", JobKinds.DhcpHaMaintenance, true, OperationStepMode.BestEffort),
                (5, "srv-a", JobKinds.DhcpPush, null, OperationStepMode.Required),
                (6, "srv-b", JobKinds.DhcpHaMaintenance, false, OperationStepMode.Always),
            ],
            plan.Steps.OrderBy(s => s.Stage).Select(s => (s.Stage, s.ServerId, s.Job.Kind, (s.Job.Spec as DhcpHaMaintenanceSpec)?.Start, s.Mode)));
        Assert.Single(plan.Steps.Select(s => s.Group).Where(g => g.StartsWith("pair", StringComparison.Ordinal)).Distinct());
        Assert.Equal("push dhcp4 to 3 server(s), 1 HA pair(s) one peer at a time, standby first", plan.Summary);
    }

    [Fact]
    public async Task A_pair_push_goes_standby_first_and_a_refused_standby_skips_the_primary_but_hands_back()
    {
        var (a, b) = await PairAsync();
        var c = await Cluster.Client.CreateDhcpServerAsync();
        await Cluster.Client.InstallDhcp4Async(c, Patience);
        await Dhcp(c).EditAsync(DhcpFamily.V4, Subnet());

        // Checked first: a server that is not a DHCP server, or has no configuration, starts nothing.
        var unknown = await Assert.ThrowsAsync<DhcpConfigException>(() => Fleet.PushAsync(DhcpFamily.V4, ["srv-nope"], false, null));
        Assert.Equal(("servers", "server 'srv-nope' not found"), (unknown.Field, unknown.Message));
        var bare = await Cluster.Client.CreateDhcpServerAsync();
        await Cluster.Client.InstallDhcp4Async(bare, Patience);
        var nothing = await Assert.ThrowsAsync<ConflictException>(() => Fleet.PushAsync(DhcpFamily.V4, [c, bare], false, null));
        Assert.Contains("has no DHCPv4 configuration", nothing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await Jobs(c).ListJobsAsync(), j => j.Kind == JobKinds.DhcpPush);

        // The primary and c are named; the standby comes with its pair.
        var operation = await Fleet.PushAsync(DhcpFamily.V4, [a, c], false, null);
        Assert.Equal([c, b, a], operation.Servers.Select(s => s.ServerId));

        await AnswerApplyAsync(c, ok: true);
        await AnswerHandOverAsync(a, start: true);
        await AnswerApplyAsync(b, ok: false); // Kea refused the standby's configuration: rolled back
        await AnswerHandOverAsync(a, start: false); // the hand-back runs all the same

        var done = await WaitAsync(operation.Id, o => o.Finished);
        Assert.Equal(OperationState.Failed, done.State);
        Assert.Equal(
            [(c, OperationStepState.Succeeded), (b, OperationStepState.Failed), (a, OperationStepState.Skipped)],
            done.Servers.Select(s => (s.ServerId, s.State)));
        Assert.Contains("Kea refused", done.Servers[1].Error, StringComparison.Ordinal);
        Assert.Contains("failed", done.Servers[2].Error, StringComparison.Ordinal);

        // The primary got no push and no further command; its jobs are the two hand-overs, each once.
        Assert.DoesNotContain(await Jobs(a).ListJobsAsync(), j => j.Kind == JobKinds.DhcpPush);
        Assert.Equal(2, (await Jobs(a).ListJobsAsync()).Count(j => j.Kind == JobKinds.DhcpHaMaintenance));
        Assert.Empty(await Server(a).WaitForCommandsAsync(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task An_operation_whose_silo_dies_resumes_elsewhere_and_runs_each_step_once()
    {
        var (a, b) = await PairAsync();
        var pair = new DhcpHa("hot-standby", [new DhcpHaPeer(a, "a", "http://127.0.0.1:18001/", "primary"), new DhcpHaPeer(b, "b", "http://127.0.0.1:18002/", "standby")]);
        var plan = DhcpPushPlan.Build(DhcpFamily.V4, [(a, pair), (b, pair)], false, null);

        // An operation that lives on a secondary silo (the primary holds the test cluster's membership).
        var management = Cluster.Client.GetGrain<IManagementGrain>(0);
        var secondaries = Cluster.SecondarySilos.ToDictionary(s => s.SiloAddress);
        (string Id, SiloHandle Silo)? victim = null;
        for (var i = 0; i < 64 && victim is null; i++)
        {
            var id = OperationIds.New();
            Assert.Null(await Cluster.Client.GetGrain<IOperationGrain>(id).GetAsync());
            var hit = (await management.GetDetailedGrainStatistics()).FirstOrDefault(s => secondaries.ContainsKey(s.SiloAddress) && s.GrainId.Key.ToString() == id);
            victim = hit is null ? null : (id, secondaries[hit.SiloAddress]);
        }

        Assert.NotNull(victim);
        var operation = Cluster.Client.GetGrain<IOperationGrain>(victim.Value.Id);
        await operation.StartAsync(plan);
        await AnswerHandOverAsync(a, start: true);
        var push = await Server(b).TakeOneAsync(Patience); // the standby's push is with its agent when the silo dies

        await Cluster.KillSiloAsync(victim.Value.Silo);
        await Server(b).CompleteCommandAsync(Applied(push.CommandId, ok: true));
        await AnswerHandOverAsync(a, start: false);
        await AnswerHandOverAsync(b, start: true);
        await AnswerApplyAsync(a, ok: true);
        await AnswerHandOverAsync(b, start: false);

        var done = await WaitAsync(victim.Value.Id, o => o.Finished);
        Assert.Equal(OperationState.Succeeded, done.State);
        Assert.All(done.Steps, s => Assert.Equal(OperationStepState.Succeeded, s.State));
        Assert.Equal(7 - 1, done.Steps.Length);
        Assert.Equal(3, (await Jobs(a).ListJobsAsync()).Count(j => j.Kind is JobKinds.DhcpPush or JobKinds.DhcpHaMaintenance));
        Assert.Equal(3, (await Jobs(b).ListJobsAsync()).Count(j => j.Kind is JobKinds.DhcpPush or JobKinds.DhcpHaMaintenance));
        await Cluster.StartAdditionalSiloAsync();
    }

    private IDhcpFleetGrain Fleet => Cluster.Client.GetGrain<IDhcpFleetGrain>(0);

    private static DhcpPutSubnet Subnet() =>
        new(new DhcpSubnet(1, "192.0.2.0/24", [new DhcpPool("192.0.2.10-192.0.2.100", [], null, null)], [], [], [], null, null, null), Create: true);

    /// <summary>Two DHCP servers with dhcp4, a subnet, and a hot-standby pair (the first primary).</summary>
    private async Task<(string A, string B)> PairAsync()
    {
        var (a, b) = (await Cluster.Client.CreateDhcpServerAsync(), await Cluster.Client.CreateDhcpServerAsync());
        foreach (var id in new[] { a, b })
        {
            await Cluster.Client.InstallDhcp4Async(id, Patience);
            await Dhcp(id).EditAsync(DhcpFamily.V4, Subnet());
        }

        var ha = new DhcpHa("hot-standby", [new DhcpHaPeer(a, "a", "http://127.0.0.1:18001/", "primary"), new DhcpHaPeer(b, "b", "http://127.0.0.1:18002/", "standby")]);
        foreach (var id in new[] { a, b })
        {
            await Dhcp(id).EditAsync(DhcpFamily.V4, new DhcpSetHa(ha));
        }

        return (a, b);
    }

    private async Task AnswerApplyAsync(string id, bool ok)
    {
        var command = await Server(id).TakeOneAsync(Patience);
        Assert.Equal(CommandKinds.DhcpApply, command.Kind);
        await Server(id).CompleteCommandAsync(Applied(command.CommandId, ok));
    }

    private static CommandResult Applied(string commandId, bool ok) => ok
        ? new CommandResult(commandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(new DhcpApplyOutput(1, false, "Live", new string('a', 64), [1], ["live"]), ContractsJson.Default.DhcpApplyOutput))
        : new CommandResult(commandId, false, DateTimeOffset.UtcNow, "Kea refused the configuration (config-test): bad option data", JsonSerializer.SerializeToElement(new DhcpApplyOutput(0, true, "RolledBack", null, [1], ["rolled back"]), ContractsJson.Default.DhcpApplyOutput));

    private async Task AnswerHandOverAsync(string id, bool start)
    {
        var command = await Server(id).TakeOneAsync(Patience);
        Assert.Equal(CommandKinds.DhcpHaMaintenance, command.Kind);
        Assert.Equal(start, command.Args!.Value.Deserialize(ContractsJson.Default.DhcpHaMaintenanceArgs)!.Start);
        var output = new DhcpHaMaintenanceOutput(true, start ? "Server is now in the partner-in-maintenance state" : "Server maintenance successfully canceled.", start ? "partner-in-maintenance" : "hot-standby");
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: JsonSerializer.SerializeToElement(output, ContractsJson.Default.DhcpHaMaintenanceOutput)));
    }

    private async Task<OperationSnapshot> WaitAsync(string id, Func<OperationSnapshot, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        OperationSnapshot? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Cluster.Client.GetGrain<IOperationGrain>(id).GetAsync();
            if (last is not null && condition(last))
            {
                return last;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"operation {id}: {last?.State}; {string.Join("; ", last?.Steps.Select(s => $"{s.Label} {s.State} {s.Error}") ?? [])}");
    }
}
