using System.Text;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Silo.Tests.Broker;
using Orleans.TestingHost;
using RabbitMQ.Client;
using Xunit;

namespace ManagedServers.Silo.Tests.Rabbit;

/// <summary>The RabbitMQ-backed ingestion stream on a 2-silo cluster, against the real broker.</summary>
public sealed class RabbitMqIngestTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private TestBroker _vhost = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _vhost = await TestBroker.CreateAsync();
        _cluster = await RabbitTestCluster.StartAsync(_vhost.Admin.Host, _vhost.Admin.Port, _vhost.VirtualHost, _vhost.Admin.User, _vhost.Admin.Password, silos: 2);
    }

    public async Task DisposeAsync()
    {
        await RabbitTestCluster.StopAsync(_cluster);
        await _vhost.DisposeAsync();
    }

    private async Task<string> CreateAsync(CommunicationMode mode)
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..12];
        await _cluster.Client.GetGrain<IManagedServerGrain>(id).CreateAsync(
            new ServerDefinition("n-" + id, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Docker, mode, string.Empty, "u-" + id));
        return id;
    }

    private async Task<ServerSnapshot> WaitForAsync(string id, Func<ServerSnapshot, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        ServerSnapshot? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await _cluster.Client.GetGrain<IManagedServerGrain>(id).GetAsync();
            if (last is not null && condition(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"server {id} did not reach the expected state; last: {last?.State}, {last?.HeartbeatsAccepted} heartbeats");
    }

    private static Heartbeat Beat(string id, Guid boot, long sequence) =>
        new(id, Guid.NewGuid(), boot, sequence, DateTimeOffset.UtcNow, "1.2.3", sequence, "host-" + id, "Debian 12");

    [Fact]
    public async Task Heartbeats_published_by_agents_drive_grains_once_each()
    {
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await CreateAsync(CommunicationMode.Amqp));
        }

        await using var connection = await _vhost.ConnectAsync(_vhost.Admin);
        await using var channel = await AgentPublish.ConfirmingChannelAsync(connection);
        var boot = Guid.NewGuid();
        foreach (var id in ids)
        {
            var first = Beat(id, boot, 1);
            await AgentPublish.PublishAsync(channel, id, AmqpTopology.HeartbeatKind, first);
            await AgentPublish.PublishAsync(channel, id, AmqpTopology.HeartbeatKind, first); // a redelivery or a retried publish
            await AgentPublish.PublishAsync(channel, id, AmqpTopology.HeartbeatKind, Beat(id, boot, 2));
        }

        foreach (var id in ids)
        {
            var running = await WaitForAsync(id, s => s.State == ServerState.Running && s.HeartbeatsAccepted >= 2);
            Assert.Equal("host-" + id, running.Hostname);
        }

        await Task.Delay(500);
        foreach (var id in ids)
        {
            Assert.Equal(2, (await _cluster.Client.GetGrain<IManagedServerGrain>(id).GetAsync())!.HeartbeatsAccepted);
        }

        // Every message was acknowledged after the grains took it: nothing waits in the partitions.
        var deadline = DateTime.UtcNow + Patience;
        uint left;
        do
        {
            left = 0;
            for (var p = 0; p < RabbitTestCluster.Partitions; p++)
            {
                left += await _vhost.CountAsync(AmqpTopology.IngestQueue(p));
            }
        }
        while (left > 0 && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(0u, left);
    }

    [Fact]
    public async Task Commands_reach_the_agent_queue_and_results_return_through_the_stream()
    {
        var id = await CreateAsync(CommunicationMode.Amqp);
        await using var connection = await _vhost.ConnectAsync(_vhost.Admin);
        await using var channel = await AgentPublish.ConfirmingChannelAsync(connection);
        await channel.QueueDeclareAsync(AmqpTopology.CommandQueue(id), durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        await channel.QueueBindAsync(AmqpTopology.CommandQueue(id), AmqpTopology.CommandExchange, id);

        var grain = _cluster.Client.GetGrain<IManagedServerGrain>(id);
        var commandId = await grain.EnqueueCommandAsync(CommandKinds.Ping, null, TimeSpan.FromMinutes(5));

        BasicGetResult? got = null;
        var deadline = DateTime.UtcNow + Patience;
        while (got is null && DateTime.UtcNow < deadline)
        {
            got = await channel.BasicGetAsync(AmqpTopology.CommandQueue(id), autoAck: false);
            if (got is null)
            {
                await Task.Delay(100);
            }
        }

        Assert.NotNull(got);
        Assert.Equal(commandId, got!.BasicProperties.MessageId);
        var command = JsonSerializer.Deserialize(got.Body.Span, ContractsJson.Default.AgentCommand)!;
        Assert.Equal(CommandKinds.Ping, command.Kind);
        await channel.BasicAckAsync(got.DeliveryTag, multiple: false);

        var output = JsonDocument.Parse("{\"agent_version\":\"1.2.3\"}").RootElement;
        var result = new CommandResult(commandId, true, DateTimeOffset.UtcNow, null, output);
        await AgentPublish.PublishAsync(channel, id, AmqpTopology.ResultKind, result);
        await AgentPublish.PublishAsync(channel, id, AmqpTopology.ResultKind, result with { Success = false, Error = "a late duplicate" });

        var status = await grain.WaitForCommandResultAsync(commandId, Patience);
        Assert.Equal(CommandState.Succeeded, status.State);
        await Task.Delay(500);
        Assert.Equal(CommandState.Succeeded, (await grain.WaitForCommandResultAsync(commandId, TimeSpan.Zero)).State);
    }

    [Fact]
    public async Task Unreadable_and_impersonating_messages_are_dead_lettered_not_applied()
    {
        var victim = await CreateAsync(CommunicationMode.Amqp);
        var other = await CreateAsync(CommunicationMode.Amqp);
        await using var connection = await _vhost.ConnectAsync(_vhost.Admin);
        await using var channel = await AgentPublish.ConfirmingChannelAsync(connection);

        await AgentPublish.PublishRawAsync(channel, AgentPublish.RoutingKey(victim, AmqpTopology.HeartbeatKind), AmqpTopology.HeartbeatKind, Encoding.UTF8.GetBytes("{not json"));
        // A heartbeat naming the victim, published under another server's routing key.
        await AgentPublish.PublishAsync(channel, other, AmqpTopology.HeartbeatKind, Beat(victim, Guid.NewGuid(), 1));

        var deadline = DateTime.UtcNow + Patience;
        while (await _vhost.CountAsync(AmqpTopology.DeadLetterQueue) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(2u, await _vhost.CountAsync(AmqpTopology.DeadLetterQueue));
        Assert.Equal(ServerState.Pending, (await _cluster.Client.GetGrain<IManagedServerGrain>(victim).GetAsync())!.State);
        Assert.Equal(ServerState.Pending, (await _cluster.Client.GetGrain<IManagedServerGrain>(other).GetAsync())!.State);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }
}
