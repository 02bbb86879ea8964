using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Servers;
using Orleans.TestingHost;
using RabbitMQ.Client;
using Xunit;

namespace ManagedServers.Silo.Tests.Rabbit;

/// <summary>
/// A broker restart in the middle of publishing, on a private RabbitMQ node: agents retry what was not
/// confirmed, silos reconnect, and every grain ends up with each heartbeat exactly once.
/// </summary>
public sealed class BrokerRestartTests : IAsyncLifetime
{
    private const int Agents = 12;
    private const int HeartbeatsEach = 40;
    private PrivateRabbitNode _node = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _node = await PrivateRabbitNode.StartAsync();
        _cluster = await RabbitTestCluster.StartAsync("127.0.0.1", _node.Port, "/", "guest", "guest", silos: 2);
    }

    public async Task DisposeAsync()
    {
        await RabbitTestCluster.StopAsync(_cluster);
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task Restarting_the_broker_while_agents_publish_loses_nothing_and_applies_nothing_twice()
    {
        var ids = new List<string>();
        for (var i = 0; i < Agents; i++)
        {
            var id = "srv-" + Guid.NewGuid().ToString("N")[..12];
            await _cluster.Client.GetGrain<IManagedServerGrain>(id).CreateAsync(
                new ServerDefinition("n-" + id, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Docker, CommunicationMode.Amqp, string.Empty, "u-" + id));
            ids.Add(id);
        }

        var retries = 0;
        var publishing = ids.Select(id => Task.Run(async () => Interlocked.Add(ref retries, await PublishAllAsync(id)))).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(2));
        await _node.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await _node.StartAgainAsync();

        await Task.WhenAll(publishing).WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(retries > 0, "the restart should have interrupted some publishes");

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var counts = new Dictionary<string, long>();
        while (DateTime.UtcNow < deadline)
        {
            foreach (var id in ids)
            {
                counts[id] = (await _cluster.Client.GetGrain<IManagedServerGrain>(id).GetAsync())!.HeartbeatsAccepted;
            }

            if (counts.Values.All(c => c == HeartbeatsEach))
            {
                break;
            }

            await Task.Delay(250);
        }

        await Task.Delay(1000); // late redeliveries must not count twice either
        foreach (var id in ids)
        {
            var snapshot = (await _cluster.Client.GetGrain<IManagedServerGrain>(id).GetAsync())!;
            Assert.Equal(HeartbeatsEach, snapshot.HeartbeatsAccepted);
            Assert.Equal(ServerState.Running, snapshot.State);
        }
    }

    /// <summary>One simulated agent: each heartbeat is published until the broker confirms it, reconnecting as needed.</summary>
    private async Task<int> PublishAllAsync(string id)
    {
        var boot = Guid.NewGuid();
        var failures = 0;
        IConnection? connection = null;
        IChannel? channel = null;
        try
        {
            for (var sequence = 1; sequence <= HeartbeatsEach; sequence++)
            {
                var beat = new Heartbeat(id, Guid.NewGuid(), boot, sequence, DateTimeOffset.UtcNow, "1.0.0", sequence, "h", "Debian 12");
                while (true)
                {
                    try
                    {
                        if (channel is not { IsOpen: true })
                        {
                            if (connection is not null)
                            {
                                await connection.DisposeAsync();
                            }

                            connection = await _node.Factory().CreateConnectionAsync();
                            channel = await AgentPublish.ConfirmingChannelAsync(connection);
                        }

                        await AgentPublish.PublishAsync(channel, id, AmqpTopology.HeartbeatKind, beat);
                        break;
                    }
                    catch (Exception)
                    {
                        failures++;
                        channel = null;
                        await Task.Delay(200);
                    }
                }

                await Task.Delay(100);
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }

        return failures;
    }
}
