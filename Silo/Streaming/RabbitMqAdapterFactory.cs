using System.Collections.Concurrent;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace ManagedServers.Silo.Streaming;

/// <summary>The RabbitMQ-backed persistent stream provider's factory: adapter, cache, queue mapper, failure handler.</summary>
public sealed class RabbitMqAdapterFactory(
    string name,
    RabbitMqConnection connection,
    RabbitMqPublisher publisher,
    ILoggerFactory loggerFactory) : IQueueAdapterFactory
{
    private readonly PartitionQueueMapper _mapper = new(connection.Options.Partitions, name);
    private readonly DeliveryFailures _failures = new();
    private readonly SimpleQueueAdapterCache _cache = new(new SimpleQueueCacheOptions { CacheSize = 4096 }, name, loggerFactory);

    public static IQueueAdapterFactory Create(IServiceProvider services, string name) =>
        new RabbitMqAdapterFactory(name, services.GetRequiredService<RabbitMqConnection>(), services.GetRequiredService<RabbitMqPublisher>(), services.GetRequiredService<ILoggerFactory>());

    /// <summary>
    /// Connects once while the silo starts, so the ingestion topology exists before the silo takes
    /// traffic (a publish before that would be unroutable). A broker that is down does not stop the
    /// silo: after a short wait the receivers keep reconnecting in the background.
    /// </summary>
    public async Task<IQueueAdapter> CreateAdapter()
    {
        using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await connection.GetAsync(startup.Token);
        }
        catch (OperationCanceledException)
        {
            loggerFactory.CreateLogger<RabbitMqAdapterFactory>().LogWarning("RabbitMQ not reachable at startup; the silo starts anyway and keeps reconnecting");
        }

        return new RabbitMqQueueAdapter(name, connection, publisher, _failures, loggerFactory);
    }

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new DeadLetterOnFailure(queueId, _failures));

    /// <summary>Records messages a grain failed to take, so the receiver dead-letters them instead of acking.</summary>
    private sealed class DeadLetterOnFailure(QueueId queue, DeliveryFailures failures) : IStreamFailureHandler
    {
        public bool ShouldFaultSubsriptionOnError => false;

        public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
        {
            if (sequenceToken is not null)
            {
                failures.Add(queue, streamIdentity, sequenceToken.SequenceNumber);
            }

            return Task.CompletedTask;
        }

        public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
        {
            if (sequenceToken is not null)
            {
                failures.Add(queue, streamIdentity, sequenceToken.SequenceNumber);
            }

            return Task.CompletedTask;
        }
    }
}

/// <summary>The ingestion adapter: publishes (HTTPS path) and creates one receiver per partition queue.</summary>
public sealed class RabbitMqQueueAdapter(
    string name,
    RabbitMqConnection connection,
    RabbitMqPublisher publisher,
    DeliveryFailures failures,
    ILoggerFactory loggerFactory) : IQueueAdapter
{
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    public string Name => name;

    /// <summary>Classic and quorum queues cannot be replayed.</summary>
    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        var kind = streamId.GetNamespace() ?? throw new ArgumentException("ingestion streams have a namespace (the message kind)", nameof(streamId));
        var serverId = streamId.GetKeyAsString();

        // An HTTPS heartbeat waits for the broker's confirm, but not forever: with the broker down the
        // request fails (the agent retries) instead of holding a connection open.
        using var timeout = new CancellationTokenSource(PublishTimeout);
        foreach (var item in events)
        {
            if (item is null)
            {
                continue;
            }

            await publisher.PublishIngestAsync(serverId, kind, item, timeout.Token);
        }
    }

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) =>
        new RabbitMqQueueReceiver(queueId, connection, failures, loggerFactory.CreateLogger<RabbitMqQueueReceiver>());
}

/// <summary>Messages of a queue whose delivery to a grain failed, keyed by stream and sequence number.</summary>
public sealed class DeliveryFailures
{
    private readonly ConcurrentDictionary<(QueueId Queue, StreamId Stream, long Sequence), byte> _failed = new();

    public void Add(QueueId queue, StreamId stream, long sequence) => _failed.TryAdd((queue, stream, sequence), 0);

    public bool TryTake(QueueId queue, StreamId stream, long sequence) => !_failed.IsEmpty && _failed.TryRemove((queue, stream, sequence), out _);
}
