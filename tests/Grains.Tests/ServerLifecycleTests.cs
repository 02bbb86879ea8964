using ManagedServers.Grains.Interfaces.Identity;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

/// <summary>Creating and deleting a server as one grain-side operation each, with compensation when a step fails.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ServerLifecycleTests(ClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    private IServerLifecycleGrain Lifecycle => Cluster.Client.GetGrain<IServerLifecycleGrain>(0);

    private static ServerDefinition Definition(string name, string serverUser = "") =>
        new(name, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Exec, CommunicationMode.Push, string.Empty, serverUser);

    [Fact]
    public async Task Create_claims_the_name_and_makes_the_server_user_and_delete_gives_both_back()
    {
        var name = "life-" + Guid.NewGuid().ToString("N")[..8];
        var created = await Lifecycle.CreateAsync(Definition(name));
        Assert.StartsWith("srv-user-", created.Definition.ServerUser, StringComparison.Ordinal);
        var user = await Cluster.Client.GetGrain<IUserGrain>(created.Definition.ServerUser).GetAsync();
        Assert.Equal(created.Id, user!.ServerId);

        var taken = await Assert.ThrowsAsync<ConflictException>(() => Lifecycle.CreateAsync(Definition(name.ToUpperInvariant())));
        Assert.Equal("name", taken.Field);

        var deleted = await Lifecycle.DeleteAsync(created.Id);
        Assert.Null(deleted.BrokerUserRemoved); // a push server has no broker user
        Assert.Null(await Cluster.Client.GetGrain<IManagedServerGrain>(created.Id).GetAsync());
        Assert.Null(await Cluster.Client.GetGrain<IUserGrain>(created.Definition.ServerUser).GetAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => Lifecycle.DeleteAsync(created.Id));

        // The name is free again.
        var again = await Lifecycle.CreateAsync(Definition(name));
        Assert.NotEqual(created.Id, again.Id);
    }

    [Fact]
    public async Task A_failed_step_leaves_nothing_behind()
    {
        var first = await Lifecycle.CreateAsync(Definition("life-a-" + Guid.NewGuid().ToString("N")[..8]));

        // The server user is bound to another server: refused, and the name claimed on the way is released.
        var name = "life-b-" + Guid.NewGuid().ToString("N")[..8];
        var bound = await Assert.ThrowsAsync<ConflictException>(() => Lifecycle.CreateAsync(Definition(name, first.Definition.ServerUser)));
        Assert.Equal("server_user", bound.Field);
        Assert.True(await Cluster.Client.GetGrain<IServerNameGrain>(name).TryClaimAsync("srv-probe"), "the name was left claimed");
        await Cluster.Client.GetGrain<IServerNameGrain>(name).ReleaseAsync("srv-probe");
        Assert.Equal(first.Id, (await Cluster.Client.GetGrain<IUserGrain>(first.Definition.ServerUser).GetAsync())!.ServerId);
    }
}
