using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Grains.Dhcp;
using ManagedServers.Grains.Interfaces.Dhcp;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests.Dhcp;

/// <summary>
/// A DHCP server's configuration on the cluster, with the agent played by the test: import (summary, review, nothing
/// changed on a bad document), push refused until it fits (a dhcp4 service, a configuration, no review errors, warnings
/// acknowledged), the <c>dhcp.apply</c> command carrying the rendered document and the next version, the version
/// recorded when the agent reports it live, and a rolled-back push recording none.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DhcpPushTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private const string Config = """
        // a small DHCPv4 configuration
        { "Dhcp4": {
            "interfaces-config": { "interfaces": [ "lo" ] },
            "hooks-libraries": [ { "library": "libdhcp_lease_cmds.so" } ],
            "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ],
                           "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.50" } ] } ] } }
        """;

    private TestCluster Cluster => fixture.Cluster;

    private IServerJobsGrain Jobs(string id) => Cluster.Client.GetGrain<IServerJobsGrain>(id);

    private IManagedServerGrain Server(string id) => Cluster.Client.GetGrain<IManagedServerGrain>(id);

    private IServerDhcpGrain Dhcp(string id) => Cluster.Client.GetGrain<IServerDhcpGrain>(id);

    [Fact]
    public async Task Import_review_push_and_the_version_the_agent_reports_live()
    {
        var id = await Cluster.Client.CreateDhcpServerAsync();

        // A bad document changes nothing and says where.
        var bad = await Assert.ThrowsAsync<DhcpConfigException>(() => Dhcp(id).ImportAsync("""{ "Dhcp4": { "subnet4": [ { "id": 1 } ] } }"""));
        Assert.Equal("Dhcp4.subnet4[0]", bad.Field);
        Assert.Null(await Dhcp(id).GetConfigAsync(DhcpFamily.V4));

        // Nothing to push yet, and no service to push to.
        var noService = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.DhcpPush, Spec: new DhcpPushSpec(DhcpFamily.V4))));
        Assert.Contains("has no dhcp4 service", noService.Message, StringComparison.Ordinal);
        await Cluster.Client.InstallDhcp4Async(id, Patience);
        var nothing = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.DhcpPush, Spec: new DhcpPushSpec(DhcpFamily.V4))));
        Assert.Contains("has no DHCPv4 configuration", nothing.Message, StringComparison.Ordinal);

        // Import: the summary counts what was modelled and carries the review (a reservation inside the pool).
        var summary = await Dhcp(id).ImportAsync(Config);
        Assert.Equal((DhcpFamily.V4, 1, 1, 1), (summary.Family, summary.Subnets, summary.Pools, summary.Reservations));
        Assert.Contains("Dhcp4.interfaces-config", summary.Verbatim);
        var warning = Assert.Single(summary.Findings);
        Assert.Equal((DhcpSeverity.Warning, "reservation-in-pool"), (warning.Severity, warning.Check));
        var rendered = await Dhcp(id).RenderAsync(DhcpFamily.V4);
        Assert.Equal(KeaRender.Render(KeaImport.Parse(Config).Config), rendered);

        // The warning must be acknowledged.
        var unacknowledged = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.DhcpPush, Spec: new DhcpPushSpec(DhcpFamily.V4))));
        Assert.Equal("acknowledge_warnings", unacknowledged.Field);
        Assert.Contains("reservation hw-address 01:02:03:04:05:06 in subnet 1 (192.0.2.0/24)", unacknowledged.Message, StringComparison.Ordinal);

        // Acknowledged: one dhcp.apply with the rendered document and version 1; the agent reports it live.
        var job = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.DhcpPush, Spec: new DhcpPushSpec(DhcpFamily.V4, AcknowledgeWarnings: true)));
        Assert.Contains(job.Steps, s => s.Message.StartsWith("review: 1 subnets, no errors, 1 warning(s) acknowledged", StringComparison.Ordinal));
        var command = await Server(id).TakeOneAsync(Patience);
        Assert.Equal(CommandKinds.DhcpApply, command.Kind);
        var args = command.Args!.Value.Deserialize(ContractsJson.Default.DhcpApplyArgs)!;
        Assert.Equal((ServiceKinds.Dhcp4, 1, rendered), (args.Service, args.Version, args.Document));
        await Server(id).CompleteCommandAsync(new CommandResult(command.CommandId, true, DateTimeOffset.UtcNow, Output: Output(new DhcpApplyOutput(1, false, "Live", new string('a', 64), [1], ["config-test passed", "version 1 is live: 1 subnets"]))));
        var done = await Jobs(id).WaitForJobAsync(job.Id, j => j.Finished, Patience);
        Assert.True(done.State == JobState.Succeeded, done.Error);
        Assert.Contains(done.Steps, s => s.Message == "dhcp4 configuration version 1 is live (1 subnets)");
        var versions = Cluster.Client.GetGrain<IServerConfigVersionsGrain>(id);
        var v1 = Assert.Single(await versions.ListServiceConfigVersionsAsync(ServiceKinds.Dhcp4));
        Assert.Equal((1, true, 1), (v1.Number, v1.Live, v1.Items));
        Assert.Equal(rendered, (await versions.GetServiceConfigVersionAsync(ServiceKinds.Dhcp4, 1))!.Content);

        // A push the agent rolls back records no version.
        var second = await Jobs(id).StartJobAsync(new JobRequest(JobKinds.DhcpPush, Spec: new DhcpPushSpec(DhcpFamily.V4, AcknowledgeWarnings: true)));
        var again = await Server(id).TakeOneAsync(Patience);
        Assert.Equal(2, again.Args!.Value.Deserialize(ContractsJson.Default.DhcpApplyArgs)!.Version);
        await Server(id).CompleteCommandAsync(new CommandResult(again.CommandId, false, DateTimeOffset.UtcNow, "health check failed: Kea's DHCP sockets are failed; rolled back to version 1", Output(new DhcpApplyOutput(0, true, "RolledBack", null, [1], ["rolled back"]))));
        var failed = await Jobs(id).WaitForJobAsync(second.Id, j => j.Finished, Patience);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains(failed.Steps, s => s.Message == "the agent rolled back: Kea serves the previous configuration");
        Assert.Single(await versions.ListServiceConfigVersionsAsync(ServiceKinds.Dhcp4));
    }

    [Fact]
    public async Task Review_errors_refuse_the_push_naming_the_object()
    {
        var id = await Cluster.Client.CreateDhcpServerAsync();
        await Cluster.Client.InstallDhcp4Async(id, Patience);
        var summary = await Dhcp(id).ImportAsync("""{ "Dhcp4": { "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24" }, { "id": 1, "subnet": "192.0.2.0/25" } ] } }""");
        Assert.Equal(2, summary.Findings.Count(f => f.Severity == DhcpSeverity.Error));

        var refused = await Assert.ThrowsAsync<ConflictException>(() => Jobs(id).StartJobAsync(new JobRequest(JobKinds.DhcpPush, Spec: new DhcpPushSpec(DhcpFamily.V4, AcknowledgeWarnings: true))));
        Assert.Contains("the review found 2 error(s)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("subnet id 1 is used by 192.0.2.0/24 and 192.0.2.0/25", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await Jobs(id).ListJobsAsync(), j => j.Kind == JobKinds.DhcpPush);
    }

    [Fact]
    public async Task A_dhcp_configuration_is_read_back_when_its_grain_is_activated_again()
    {
        var id = await Cluster.Client.CreateDhcpServerAsync();
        await Dhcp(id).ImportAsync("""
            { "Dhcp4": {
                "shared-networks": [ { "name": "campus", "subnet4": [ { "id": 2, "subnet": "198.51.100.0/24" } ] } ],
                "subnet4": [ { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ] } ] } }
            """);
        var before = await Dhcp(id).RenderAsync(DhcpFamily.V4);

        // Every idle activation is collected: the next call reads the state back from storage.
        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var config = await Dhcp(id).GetConfigAsync(DhcpFamily.V4);
        Assert.Equal([1L, 2L], config!.EverySubnet().Select(s => s.Id).Order());
        Assert.Equal(before, await Dhcp(id).RenderAsync(DhcpFamily.V4));
    }

    private static JsonElement Output(DhcpApplyOutput output) => JsonSerializer.SerializeToElement(output, ContractsJson.Default.DhcpApplyOutput);
}
