using ManagedServers.Api.Broker;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace ManagedServers.Silo.Tests.Broker;

/// <summary>Per-agent broker users on a real RabbitMQ: each agent reaches only its own queue and routing keys.</summary>
public sealed class ConfinementTests : IAsyncLifetime
{
    private const int Partitions = 8;
    private TestBroker _broker = null!;
    private AgentBrokerAccounts _accounts = null!;

    public async Task InitializeAsync()
    {
        _broker = await TestBroker.CreateAsync();
        _accounts = new AgentBrokerAccounts(new FixedBrokerSettings(_broker.Admin), NullLogger<AgentBrokerAccounts>.Instance);
    }

    public async Task DisposeAsync()
    {
        _accounts.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Agent_A_cannot_read_B_queue_or_publish_as_B()
    {
        var idA = NewServerId();
        var idB = NewServerId();
        var a = await ProvisionAsync(idA);
        var b = await ProvisionAsync(idB);
        Assert.Equal(AmqpTopology.CommandQueue(idA), a.CommandQueue);
        Assert.Equal(AmqpTopology.RoutingKeyPrefix(AmqpTopology.PartitionOf(idA, Partitions), idA), a.RoutingKeyPrefix);
        Assert.NotEqual(a.Password, b.Password);

        // The ingestion side (declared by the control plane): A's partition queue.
        var partition = AmqpTopology.PartitionOf(idA, Partitions);
        await using var admin = await _broker.ConnectAsync(_broker.Admin);
        await using var adminChannel = await admin.CreateChannelAsync();
        await adminChannel.QueueDeclareAsync(AmqpTopology.IngestQueue(partition), durable: true, exclusive: false, autoDelete: false);
        await adminChannel.QueueBindAsync(AmqpTopology.IngestQueue(partition), AmqpTopology.IngestExchange, AmqpTopology.PartitionBinding(partition));

        await using var agentA = await _broker.ConnectAsync(a);

        // A consumes its own command queue.
        await using (var own = await agentA.CreateChannelAsync())
        {
            var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var consumer = new AsyncEventingBasicConsumer(own);
            consumer.ReceivedAsync += (_, e) =>
            {
                received.TrySetResult(System.Text.Encoding.UTF8.GetString(e.Body.Span));
                return Task.CompletedTask;
            };
            await own.BasicConsumeAsync(a.CommandQueue, autoAck: true, consumer);
            await adminChannel.BasicPublishAsync(AmqpTopology.CommandExchange, idA, TestBroker.Body("command for A"));
            Assert.Equal("command for A", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        // A cannot consume B's command queue.
        await AssertRefusedAsync(agentA, ch => ch.BasicConsumeAsync(b.CommandQueue, autoAck: true, new AsyncEventingBasicConsumer(ch)));

        // A cannot publish with B's routing-key prefix (topic permission), detected by publisher confirms.
        await AssertPublishRefusedAsync(agentA, AmqpTopology.IngestExchange, AmqpTopology.RoutingKey(b.RoutingKeyPrefix, AmqpTopology.HeartbeatKind));
        await AssertPublishRefusedAsync(agentA, AmqpTopology.IngestExchange, AmqpTopology.RoutingKey(AmqpTopology.RoutingKeyPrefix(partition, idB), AmqpTopology.HeartbeatKind));

        // A's own prefix works and reaches the partition queue.
        await using (var publish = await agentA.CreateChannelAsync(new CreateChannelOptions(true, true)))
        {
            await publish.BasicPublishAsync(AmqpTopology.IngestExchange, AmqpTopology.RoutingKey(a.RoutingKeyPrefix, AmqpTopology.HeartbeatKind), TestBroker.Body("beat from A"));
        }

        var got = await PollAsync(() => adminChannel.BasicGetAsync(AmqpTopology.IngestQueue(partition), autoAck: true));
        Assert.Equal(AmqpTopology.RoutingKey(a.RoutingKeyPrefix, AmqpTopology.HeartbeatKind), got.RoutingKey);
        Assert.Equal("beat from A", System.Text.Encoding.UTF8.GetString(got.Body.Span));

        // A declares nothing and cannot publish commands.
        await AssertRefusedAsync(agentA, ch => ch.QueueDeclareAsync("sneaky-" + idA, durable: false, exclusive: false, autoDelete: true));
        await AssertRefusedAsync(agentA, ch => ch.ExchangeDeclareAsync("sneaky-" + idA, ExchangeType.Fanout));
        await AssertPublishRefusedAsync(agentA, AmqpTopology.CommandExchange, idB);
    }

    [Fact]
    public async Task Provisioning_again_rotates_the_password()
    {
        var id = NewServerId();
        var first = await ProvisionAsync(id);
        var second = await ProvisionAsync(id);
        Assert.NotEqual(first.Password, second.Password);

        var old = new BrokerConnection(first.Host, first.Port, first.VirtualHost, first.User, first.Password, first.Tls, _broker.Admin.ManagementUrl);
        Assert.Equal(BrokerProbe.Authentication, (await BrokerProbe.ProbeAsync(old, BrokerProbe.DefaultTimeout)).Reason);
        Assert.True((await BrokerProbe.ProbeAsync(old with { Password = second.Password }, BrokerProbe.DefaultTimeout)).Ok);

        await _accounts.RemoveAsync(id, CancellationToken.None);
        Assert.False(await _broker.Management.UserExistsAsync(first.User, CancellationToken.None));
        await _accounts.RemoveAsync(id, CancellationToken.None); // already gone: fine
    }

    [Fact]
    public async Task Provisioning_with_a_broken_broker_says_why()
    {
        using var broken = new AgentBrokerAccounts(new FixedBrokerSettings(_broker.Admin with { Password = "wrong-" + Guid.NewGuid().ToString("N") }), NullLogger<AgentBrokerAccounts>.Instance);
        var ex = await Assert.ThrowsAsync<BrokerUnavailableException>(() => broken.ProvisionAsync(NewServerId(), Partitions, CancellationToken.None));
        Assert.StartsWith("authentication:", ex.Message, StringComparison.Ordinal);

        // Connected, but the control plane's user may not declare: says so, not "wrong password".
        var weakUser = "ms-weak-" + Guid.NewGuid().ToString("N")[..8];
        await _broker.CreateUserAsync(weakUser, "weak-password");
        await _broker.Management.PutPermissionsAsync(_broker.VirtualHost, weakUser, "^$", ".*", ".*", CancellationToken.None);
        using var weak = new AgentBrokerAccounts(new FixedBrokerSettings(_broker.Admin with { User = weakUser, Password = "weak-password" }), NullLogger<AgentBrokerAccounts>.Instance);
        var refused = await Assert.ThrowsAsync<BrokerUnavailableException>(() => weak.ProvisionAsync(NewServerId(), Partitions, CancellationToken.None));
        Assert.StartsWith("declaring the agent topology", refused.Message, StringComparison.Ordinal);
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        using var unconfigured = new AgentBrokerAccounts(new FixedBrokerSettings(null), NullLogger<AgentBrokerAccounts>.Instance);
        await Assert.ThrowsAsync<BrokerUnavailableException>(() => unconfigured.ProvisionAsync(NewServerId(), Partitions, CancellationToken.None));
    }

    private async Task<AmqpCredentials> ProvisionAsync(string serverId)
    {
        _broker.Track(AmqpTopology.AgentUser(serverId));
        return await _accounts.ProvisionAsync(serverId, Partitions, CancellationToken.None);
    }

    internal static string NewServerId() => ServerIds.New();

    /// <summary>The operation fails and the broker closes the channel with 403 ACCESS_REFUSED.</summary>
    private static async Task AssertRefusedAsync(IConnection connection, Func<IChannel, Task> operation)
    {
        await using var channel = await connection.CreateChannelAsync();
        var ex = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() => operation(channel));
        Assert.Equal((ushort?)403, ex.ShutdownReason?.ReplyCode);
    }

    /// <summary>A confirmed publish fails; the broker closes the channel with 403 ACCESS_REFUSED.</summary>
    private static async Task AssertPublishRefusedAsync(IConnection connection, string exchange, string routingKey)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await channel.BasicPublishAsync(exchange, routingKey, TestBroker.Body("forged"));

            // Should the confirm not surface the close, the channel's next call does.
            await channel.BasicPublishAsync(exchange, routingKey, TestBroker.Body("forged"));
        });
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!channel.IsClosed && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(channel.IsClosed, $"publishing to {exchange} with '{routingKey}' did not close the channel");
        Assert.Equal((ushort?)403, channel.CloseReason?.ReplyCode);
    }

    private static async Task<BasicGetResult> PollAsync(Func<Task<BasicGetResult?>> get)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (await get() is { } result)
            {
                return result;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("no message arrived in the partition queue");
    }
}
