using ManagedServers.Contracts.Agent;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// Publishes from the control plane: ingestion messages that arrived over HTTPS (so grains see one
/// stream whatever the transport) and commands for agents. Every publish is persistent, mandatory and
/// confirmed by the broker before the returned task completes, so an HTTP 200 or an enqueued command
/// means the broker has the message on disk. A few channels are used round-robin; each is rebuilt
/// when its connection dies.
/// </summary>
public sealed class RabbitMqPublisher(RabbitMqConnection connection) : IAsyncDisposable
{
    /// <summary>AMQP <c>app_id</c> of ingestion messages the silo relays for HTTPS agents (counted at the HTTPS endpoint, not again by the receiver).</summary>
    public const string RelayAppId = "managedservers-silo";

    private const int ChannelCount = 4;
    private readonly Slot[] _slots = Enumerable.Range(0, ChannelCount).Select(_ => new Slot()).ToArray();
    private int _next;

    /// <summary>Publishes an ingestion message as the agent of <paramref name="serverId"/> would.</summary>
    public Task PublishIngestAsync(string serverId, string kind, object message, CancellationToken cancellationToken)
    {
        var prefix = AmqpTopology.RoutingKeyPrefix(AmqpTopology.PartitionOf(serverId, connection.Options.Partitions), serverId);
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            Type = kind,
            AppId = RelayAppId,
            MessageId = Guid.NewGuid().ToString("N"),
            Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
        };
        return PublishAsync(AmqpTopology.IngestExchange, AmqpTopology.RoutingKey(prefix, kind), properties, IngestCodec.Serialize(message), cancellationToken);
    }

    /// <summary>Publishes a command to the agent's own queue; the command id is the message id (idempotency key).</summary>
    public Task PublishCommandAsync(string serverId, AgentCommand command, CancellationToken cancellationToken)
    {
        var ttl = command.ExpiresAt - DateTimeOffset.UtcNow;
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            Type = command.Kind,
            MessageId = command.CommandId,
            CorrelationId = command.CommandId,
            Expiration = ((long)Math.Max(1000, ttl.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return PublishAsync(AmqpTopology.CommandExchange, serverId, properties, IngestCodec.Serialize(command), cancellationToken);
    }

    private async Task PublishAsync(string exchange, string routingKey, BasicProperties properties, byte[] body, CancellationToken cancellationToken)
    {
        var slot = _slots[(int)((uint)Interlocked.Increment(ref _next) % ChannelCount)];
        var channel = await slot.GetAsync(connection, cancellationToken);
        try
        {
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, body, cancellationToken);
        }
        catch (RabbitMQ.Client.Exceptions.PublishException ex) when (ex.IsReturn)
        {
            throw new InvalidOperationException($"RabbitMQ could not route {exchange}/{routingKey}: is the topology declared?", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var slot in _slots)
        {
            await slot.DisposeAsync();
        }
    }

    private sealed class Slot : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private IChannel? _channel;

        public async ValueTask<IChannel> GetAsync(RabbitMqConnection connection, CancellationToken cancellationToken)
        {
            var channel = _channel;
            if (channel is { IsOpen: true })
            {
                return channel;
            }

            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_channel is { IsOpen: true })
                {
                    return _channel;
                }

                if (_channel is not null)
                {
                    await _channel.DisposeAsync();
                }

                var open = await connection.GetAsync(cancellationToken);
                _channel = await open.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
                return _channel;
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            _gate.Dispose();
        }
    }
}
