using System.Collections.Concurrent;
using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Shared.Telemetry;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// Pulls one partition queue for the Orleans pulling agent. A background loop keeps a consumer on
/// its own channel (reconnecting with backoff); deliveries are buffered in memory and handed over
/// by <see cref="GetQueueMessagesAsync"/> without touching the broker. A message is acked only in
/// <see cref="MessagesDeliveredAsync"/>, i.e. after the grain took it, on the channel that delivered
/// it; messages from a channel that died are neither handed over nor acked: the broker redelivers
/// them, and grains drop duplicates by (boot id, sequence). A message that does not parse, or was
/// published under another server's name, or that a grain failed to take, is rejected to the
/// dead-letter exchange, never dropped silently.
/// Metrics (<see cref="FleetMetrics"/>): messages handed to Orleans (agent-published ones only: those the
/// silo relayed from HTTPS were counted there), dead-lettered messages, and the queue's backlog, read
/// with a passive declare on a channel of its own every <see cref="BacklogPollInterval"/>, never per pull.
/// </summary>
public sealed partial class RabbitMqQueueReceiver(
    QueueId queue,
    RabbitMqConnection connection,
    DeliveryFailures failures,
    ILogger<RabbitMqQueueReceiver> logger) : IQueueAdapterReceiver
{
    private const int UnlimitedBatch = 1000;
    private static readonly TimeSpan BacklogPollInterval = TimeSpan.FromSeconds(15);
    private readonly string _queueName = AmqpTopology.IngestQueue(PartitionQueueMapper.PartitionOf(queue));
    private readonly ConcurrentQueue<Delivery> _buffer = new();
    private readonly CancellationTokenSource _stop = new();
    private IChannel? _channel;
    private long _generation;
    private long _sequence;
    private Task? _loop;
    private Task? _backlogLoop;
    private long _backlog = -1;
    private IDisposable? _gauges;

    public Task Initialize(TimeSpan timeout)
    {
        _gauges = FleetMetrics.TrackQueue(_queueName, () => Volatile.Read(ref _backlog) is >= 0 and var ready ? ready : null, () => _buffer.Count);
        _loop = Task.Run(() => RunAsync(_stop.Token));
        _backlogLoop = Task.Run(() => PollBacklogAsync(_stop.Token));
        return Task.CompletedTask;
    }

    /// <summary>Reads the queue's ready-message count for the backlog gauge; unknown (not reported) while the broker is away.</summary>
    private async Task PollBacklogAsync(CancellationToken stop)
    {
        IChannel? channel = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (channel is not { IsOpen: true })
                    {
                        Volatile.Write(ref _backlog, -1);
                        if (channel is not null)
                        {
                            await channel.DisposeAsync();
                            channel = null;
                        }

                        channel = await (await connection.GetAsync(stop)).CreateChannelAsync(cancellationToken: stop);
                    }

                    var declared = await channel.QueueDeclarePassiveAsync(_queueName, stop);
                    Volatile.Write(ref _backlog, declared.MessageCount);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Volatile.Write(ref _backlog, -1);
                    LogBacklogFailed(logger, _queueName, ex.Message);
                }

                try
                {
                    await Task.Delay(BacklogPollInterval, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(250), connection.Options.MaxReconnectDelay);
        while (!stop.IsCancellationRequested)
        {
            IChannel? channel = null;
            try
            {
                var open = await connection.GetAsync(stop);
                channel = await open.CreateChannelAsync(cancellationToken: stop);
                var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                channel.ChannelShutdownAsync += (_, args) =>
                {
                    closed.TrySetResult(args.ReplyText);
                    return Task.CompletedTask;
                };
                await channel.BasicQosAsync(0, connection.Options.Prefetch, global: false, stop);
                var generation = Interlocked.Increment(ref _generation);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, e) =>
                {
                    // The body buffer is only valid during this callback: copy it.
                    var relayed = string.Equals(e.BasicProperties.AppId, RabbitMqPublisher.RelayAppId, StringComparison.Ordinal);
                    _buffer.Enqueue(new Delivery(generation, e.DeliveryTag, e.RoutingKey, e.BasicProperties.UserId, relayed, e.Body.ToArray()));
                    return Task.CompletedTask;
                };
                Volatile.Write(ref _channel, channel);
                await channel.BasicConsumeAsync(_queueName, autoAck: false, consumerTag: $"silo-{Environment.MachineName}-{Environment.ProcessId}-{_queueName}", consumer, stop);
                if (backoff.Failures > 0)
                {
                    LogConsuming(logger, _queueName, backoff.Failures);
                }

                backoff.Reset();
                var reason = await closed.Task.WaitAsync(stop);
                LogChannelClosed(logger, _queueName, reason);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                var delay = backoff.Next();
                LogConsumeFailed(logger, _queueName, delay.TotalSeconds, ex.Message);
                try
                {
                    await Task.Delay(delay, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                if (channel is not null && !stop.IsCancellationRequested)
                {
                    await channel.DisposeAsync();
                }
            }
        }
    }

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        var limit = maxCount < 0 ? UnlimitedBatch : maxCount;
        var current = Volatile.Read(ref _generation);
        var batch = new List<IBatchContainer>(Math.Min(limit, _buffer.Count));
        List<Delivery>? rejected = null;
        while (batch.Count < limit && _buffer.TryDequeue(out var delivery))
        {
            if (delivery.Generation != current)
            {
                continue; // delivered on a channel that died: the broker has requeued it
            }

            if (!TryDecode(delivery, out var container, out var problem))
            {
                LogRejected(logger, _queueName, delivery.RoutingKey, problem);
                (rejected ??= []).Add(delivery);
                continue;
            }

            batch.Add(container);
            if (!delivery.Relayed)
            {
                FleetMetrics.IngestReceived(container.StreamId.GetNamespace() ?? string.Empty, FleetMetrics.Amqp);
            }
        }

        return rejected is null ? Task.FromResult<IList<IBatchContainer>>(batch) : RejectThenReturnAsync(rejected, batch);
    }

    private async Task<IList<IBatchContainer>> RejectThenReturnAsync(List<Delivery> rejected, List<IBatchContainer> batch)
    {
        foreach (var delivery in rejected)
        {
            if (await SettleAsync(delivery.Generation, delivery.DeliveryTag, ack: false))
            {
                FleetMetrics.DeadLettered(_queueName, FleetMetrics.Invalid);
            }
        }

        return batch;
    }

    private bool TryDecode(Delivery delivery, out RabbitMqBatchContainer container, out string problem)
    {
        container = null!;
        if (!AmqpTopology.TryParseRoutingKey(delivery.RoutingKey, out _, out var serverId, out var kind))
        {
            problem = "routing key is not p{partition}.{server}.{kind}";
            return false;
        }

        // The broker checks user_id against the connection's user, and an agent's topic permissions
        // only let it publish under its own server id; this is the second lock on the same door.
        if (delivery.UserId is { } user && user.StartsWith(AmqpTopology.AgentUserPrefix, StringComparison.Ordinal)
            && !string.Equals(user, AmqpTopology.AgentUser(serverId), StringComparison.Ordinal))
        {
            problem = $"published by {user} under server {serverId}";
            return false;
        }

        try
        {
            var message = IngestCodec.Deserialize(kind, serverId, delivery.Body);
            container = new RabbitMqBatchContainer(StreamId.Create(kind, serverId), [message], new EventSequenceTokenV2(Interlocked.Increment(ref _sequence)))
            {
                DeliveryTag = delivery.DeliveryTag,
                Generation = delivery.Generation,
            };
            problem = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException)
        {
            problem = ex.Message;
            return false;
        }
    }

    public async Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        foreach (var message in messages)
        {
            if (message is not RabbitMqBatchContainer container)
            {
                continue;
            }

            var failed = failures.TryTake(queue, container.StreamId, container.Token.SequenceNumber);
            if (failed)
            {
                LogDeliveryFailed(logger, _queueName, container.StreamId.ToString());
            }

            if (await SettleAsync(container.Generation, container.DeliveryTag, ack: !failed) && failed)
            {
                FleetMetrics.DeadLettered(_queueName, FleetMetrics.DeliveryFailed);
            }
        }
    }

    /// <summary>
    /// Acks, or rejects to the dead-letter exchange; a no-op when the delivering channel is gone (the broker redelivers).
    /// True when the ack or reject was sent.
    /// </summary>
    private async Task<bool> SettleAsync(long generation, ulong deliveryTag, bool ack)
    {
        var channel = Volatile.Read(ref _channel);
        if (channel is null || !channel.IsOpen || generation != Volatile.Read(ref _generation))
        {
            return false;
        }

        try
        {
            if (ack)
            {
                await channel.BasicAckAsync(deliveryTag, multiple: false);
            }
            else
            {
                await channel.BasicNackAsync(deliveryTag, multiple: false, requeue: false);
            }

            return true;
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.AlreadyClosedException or ObjectDisposedException or IOException)
        {
            // The channel died between the check and the call: the broker redelivers, grains deduplicate.
            LogSettleFailed(logger, _queueName, ex.Message);
            return false;
        }
    }

    public async Task Shutdown(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        _gauges?.Dispose();
        if (_loop is not null)
        {
            await _loop.WaitAsync(timeout).ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        if (_backlogLoop is not null)
        {
            await _backlogLoop.WaitAsync(timeout).ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        var channel = Volatile.Read(ref _channel);
        if (channel is not null)
        {
            try
            {
                // Unacked deliveries go back to the queue for whichever silo takes the partition next.
                await channel.CloseAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogSettleFailed(logger, _queueName, ex.Message);
            }

            await channel.DisposeAsync();
        }

        _stop.Dispose();
    }

    /// <summary>A buffered delivery; <see cref="Relayed"/>: the silo published it for an HTTPS agent.</summary>
    private readonly record struct Delivery(long Generation, ulong DeliveryTag, string RoutingKey, string? UserId, bool Relayed, byte[] Body);

    [LoggerMessage(510, LogLevel.Information, "Consuming {Queue} again after {Failures} failed attempts")]
    private static partial void LogConsuming(ILogger logger, string queue, int failures);

    [LoggerMessage(511, LogLevel.Warning, "Channel of {Queue} closed ({Reason}); unacked messages will be redelivered")]
    private static partial void LogChannelClosed(ILogger logger, string queue, string reason);

    [LoggerMessage(512, LogLevel.Warning, "Cannot consume {Queue}; retrying in {DelaySeconds:F1} s: {Reason}")]
    private static partial void LogConsumeFailed(ILogger logger, string queue, double delaySeconds, string reason);

    [LoggerMessage(513, LogLevel.Warning, "Rejected a message on {Queue} (routing key {RoutingKey}) to the dead-letter queue: {Problem}")]
    private static partial void LogRejected(ILogger logger, string queue, string routingKey, string problem);

    [LoggerMessage(514, LogLevel.Warning, "A grain failed to take a message of {Stream} from {Queue}; dead-lettered")]
    private static partial void LogDeliveryFailed(ILogger logger, string queue, string stream);

    [LoggerMessage(515, LogLevel.Debug, "Settling a delivery on {Queue} failed: {Reason}")]
    private static partial void LogSettleFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(516, LogLevel.Debug, "Reading the backlog of {Queue} failed: {Reason}")]
    private static partial void LogBacklogFailed(ILogger logger, string queue, string reason);
}
