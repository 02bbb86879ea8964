using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Shared.Telemetry;
using ManagedServers.Silo.Streaming;
using Orleans.TestingHost;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Tests.Rabbit;

/// <summary>Runs alone: the ManagedServers meter is static, so a parallel test's messages would count here too.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeterCollection
{
    public const string Name = "ManagedServers meter";
}

/// <summary>
/// The RabbitMQ receiver's metrics on a private broker node: agent-published messages are counted as
/// amqp when handed to Orleans, messages the silo relayed for HTTPS agents are not counted again,
/// rejected ones are counted as dead-lettered, and every consumed partition queue reports a backlog.
/// </summary>
[Collection(MeterCollection.Name)]
public sealed class RabbitMqMetricsTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, string?> Tags)> _measurements = new();
    private readonly MeterListener _listener = new();
    private PrivateRabbitNode _node = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FleetMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value?.ToString();
            }

            _measurements.Enqueue((instrument.Name, value, copy));
        });
        _listener.Start();
        _node = await PrivateRabbitNode.StartAsync();
        _cluster = await RabbitTestCluster.StartAsync("127.0.0.1", _node.Port, "/", "guest", "guest", silos: 1);
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await RabbitTestCluster.StopAsync(_cluster);
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task Agent_messages_are_counted_once_rejected_ones_as_dead_lettered_and_queues_report_their_backlog()
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..12];
        await _cluster.Client.GetGrain<IManagedServerGrain>(id).CreateAsync(
            new ServerDefinition("n-" + id, ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Docker, CommunicationMode.Amqp, string.Empty, "u-" + id));

        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await AgentPublish.ConfirmingChannelAsync(connection);
        var boot = Guid.NewGuid();
        await AgentPublish.PublishAsync(channel, id, AmqpTopology.HeartbeatKind, Beat(id, boot, 1));
        await AgentPublish.PublishAsync(channel, id, AmqpTopology.HeartbeatKind, Beat(id, boot, 2));

        // As the silo relays an HTTPS heartbeat: counted at the HTTPS endpoint, so not here.
        await channel.BasicPublishAsync(
            AmqpTopology.IngestExchange,
            AgentPublish.RoutingKey(id, AmqpTopology.HeartbeatKind),
            mandatory: true,
            new BasicProperties { Persistent = true, Type = AmqpTopology.HeartbeatKind, AppId = RabbitMqPublisher.RelayAppId },
            IngestCodec.Serialize(Beat(id, boot, 3)));

        // Not JSON: rejected to the dead-letter exchange.
        await AgentPublish.PublishRawAsync(channel, AgentPublish.RoutingKey(id, AmqpTopology.HeartbeatKind), AmqpTopology.HeartbeatKind, "not json"u8.ToArray());

        var deadline = DateTime.UtcNow + Patience;
        while ((await _cluster.Client.GetGrain<IManagedServerGrain>(id).GetAsync())!.HeartbeatsAccepted < 3 || Sum("managedservers.ingest.dead_lettered") < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the heartbeats or the rejection never arrived; dead-lettered {Sum("managedservers.ingest.dead_lettered")}");
            await Task.Delay(100);
        }

        while (Sum("managedservers.ingest.messages", ("kind", "heartbeat"), ("transport", "amqp")) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100); // the counter may trail the grain by a moment
        }

        Assert.Equal(2, Sum("managedservers.ingest.messages", ("kind", "heartbeat"), ("transport", "amqp")));
        Assert.Equal(0, Sum("managedservers.ingest.messages", ("transport", "https")));
        Assert.Equal(1, Sum("managedservers.ingest.dead_lettered", ("reason", "invalid")));
        var partition = AmqpTopology.PartitionOf(id, RabbitTestCluster.Partitions);
        Assert.Equal(1, Sum("managedservers.ingest.dead_lettered", ("queue", AmqpTopology.IngestQueue(partition))));

        // Each partition queue of the silo reports its broker backlog (read when the receiver starts, then every 15 s).
        HashSet<string?> queues = [];
        while (queues.Count < RabbitTestCluster.Partitions)
        {
            Assert.True(DateTime.UtcNow < deadline, $"backlog reported for {string.Join(", ", queues)} only");
            _measurements.Clear();
            _listener.RecordObservableInstruments();
            queues = [.. _measurements.Where(m => m.Instrument == "managedservers.ingest.backlog" && m.Value >= 0).Select(m => m.Tags["queue"])];
            await Task.Delay(250);
        }

        Assert.Equal(Enumerable.Range(0, RabbitTestCluster.Partitions).Select(AmqpTopology.IngestQueue).Order(), queues.Order());
    }

    private long Sum(string instrument, params (string Key, string Value)[] tags) =>
        _measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(m => m.Value);

    private static Heartbeat Beat(string id, Guid boot, long sequence) =>
        new(id, Guid.NewGuid(), boot, sequence, DateTimeOffset.UtcNow, "1.2.3", sequence, "host-" + id, "Debian 12");
}
