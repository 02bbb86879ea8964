using System.Text.Json;
using System.Threading.Channels;
using ManagedServers.Agent.Commands;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ManagedServers.Agent.Transport;

/// <summary>
/// The agent's AMQP side, used instead of the HTTPS heartbeat and command loops when enrolment handed
/// out broker credentials (<c>amqp.json</c>):
/// <list type="bullet">
/// <item>Heartbeats and command results go into an outbox and are published in order, persistent,
/// with publisher confirms; a message leaves the outbox only once the broker confirmed it, so a
/// broker restart delays messages but loses none (the control plane drops the duplicates a retry
/// can cause by boot id and sequence, or by command id).</item>
/// <item>Commands are consumed from the agent's own durable queue (prefetch 1), executed once per
/// command id (<see cref="CommandExecutor"/> keeps the results), and acked only after their result
/// was confirmed by the broker: a crash in between redelivers the command, which then only re-sends
/// the stored result.</item>
/// <item>The connection is re-made with exponential backoff, re-reading the credentials each time
/// (renewal rotates the broker password).</item>
/// </list>
/// </summary>
internal sealed partial class AmqpAgentService(
    StateDirectory state,
    AgentRuntimeSettings settings,
    AgentInfo info,
    CommandExecutor executor,
    AgentRunOptions options,
    TimeProvider time,
    ILogger<AmqpAgentService> logger) : BackgroundService
{
    private const int OutboxCapacity = 10_000;
    private readonly Channel<Outgoing> _outbox = Channel.CreateBounded<Outgoing>(
        new BoundedChannelOptions(OutboxCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
        static dropped => dropped.Confirmed?.TrySetCanceled()); // a waiting sender learns that its message is gone
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _generation;
    private IChannel? _consumerChannel;
    private Outgoing? _unconfirmed;
    private bool _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var heartbeats = Task.Run(() => HeartbeatLoopAsync(stoppingToken), CancellationToken.None);
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        while (!stoppingToken.IsCancellationRequested)
        {
            var credentials = state.ReadAmqp() ?? throw new AgentException($"{state.AmqpFile} disappeared");
            try
            {
                await using var connection = await Factory(credentials).CreateConnectionAsync("managedservers-agent-" + settings.ServerId, stoppingToken);
                await using var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stoppingToken);
                await using var consumer = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                await StartConsumingAsync(consumer, credentials, stoppingToken);
                if (backoff.Failures > 0)
                {
                    LogConnected(logger, credentials.Host, credentials.Port, backoff.Failures);
                }

                backoff.Reset();
                await PublishOutboxAsync(publisher, credentials, stoppingToken);
                return; // outbox completed: the host is stopping
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested && !_stopping)
            {
                return;
            }
            catch (Exception e)
            {
                var delay = backoff.Next();
                LogConnectionFailed(logger, credentials.Host, credentials.Port, backoff.Failures, e.Message, delay.TotalSeconds);
                if (!await Delays.TryDelayAsync(delay, time, stoppingToken) && !_stopping)
                {
                    return;
                }
            }
        }

        await heartbeats;
    }

    /// <summary>The agent's connection factory for its broker credentials (also used by the diagnostics' broker check).</summary>
    internal static ConnectionFactory Factory(AmqpCredentials credentials, TimeSpan? connectTimeout = null) => new()
    {
        HostName = credentials.Host,
        Port = credentials.Port,
        VirtualHost = credentials.VirtualHost,
        UserName = credentials.User,
        Password = credentials.Password,
        Ssl = new SslOption { Enabled = credentials.Tls, ServerName = credentials.Host },
        AutomaticRecoveryEnabled = false,
        RequestedHeartbeat = TimeSpan.FromSeconds(30),
        RequestedConnectionTimeout = connectTimeout ?? TimeSpan.FromSeconds(10),
    };

    private async Task StartConsumingAsync(IChannel channel, AmqpCredentials credentials, CancellationToken stoppingToken)
    {
        await channel.BasicQosAsync(0, 1, global: false, stoppingToken);
        var generation = Interlocked.Increment(ref _generation);
        Volatile.Write(ref _consumerChannel, channel);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            AgentCommand? command = null;
            try
            {
                command = JsonSerializer.Deserialize(delivery.Body.Span, ContractsJson.Default.AgentCommand);
            }
            catch (JsonException e)
            {
                LogBadCommand(logger, e.Message);
            }

            if (command is null)
            {
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: false, stoppingToken);
                return;
            }

            var result = await executor.ExecuteAsync(command, stoppingToken);
            await _outbox.Writer.WriteAsync(new Outgoing(AmqpTopology.ResultKind, JsonSerializer.SerializeToUtf8Bytes(result, ContractsJson.Default.CommandResult), generation, delivery.DeliveryTag), stoppingToken);
        };
        await channel.BasicConsumeAsync(credentials.CommandQueue, autoAck: false, consumerTag: "agent-" + settings.ServerId, consumer, stoppingToken);
    }

    /// <summary>Publishes the outbox in order; returns when the outbox is completed (shutdown), throws when the broker fails.</summary>
    private async Task PublishOutboxAsync(IChannel publisher, AmqpCredentials credentials, CancellationToken stoppingToken)
    {
        while (true)
        {
            var next = _unconfirmed;
            if (next is null)
            {
                if (!await _outbox.Reader.WaitToReadAsync(_stopping ? CancellationToken.None : stoppingToken))
                {
                    _drained.TrySetResult();
                    return;
                }

                if (!_outbox.Reader.TryRead(out next))
                {
                    continue;
                }

                _unconfirmed = next; // kept until the broker confirms it, across reconnections
            }

            var properties = new BasicProperties
            {
                Persistent = true,
                ContentType = "application/json",
                Type = next.Kind,
                MessageId = next.MessageId,
                UserId = credentials.User,
            };
            await publisher.BasicPublishAsync(AmqpTopology.IngestExchange, AmqpTopology.RoutingKey(credentials.RoutingKeyPrefix, next.Kind), mandatory: true, properties, next.Body, CancellationToken.None);
            _unconfirmed = null;
            next.Confirmed?.TrySetResult();
            if (next.Kind == AmqpTopology.HeartbeatKind)
            {
                LogHeartbeatConfirmed(logger, next.MessageId);
            }

            if (next.CommandDeliveryTag is { } tag)
            {
                await AckCommandAsync(next.Generation, tag);
            }
        }
    }

    private async Task AckCommandAsync(long generation, ulong deliveryTag)
    {
        var channel = Volatile.Read(ref _consumerChannel);
        if (channel is { IsOpen: true } && generation == Volatile.Read(ref _generation))
        {
            await channel.BasicAckAsync(deliveryTag, multiple: false);
        }

        // Otherwise the channel that delivered the command is gone: the broker redelivers it, and the
        // executor answers the repeat with the stored result.
    }

    private async Task HeartbeatLoopAsync(CancellationToken stoppingToken)
    {
        var next = time.GetUtcNow();
        while (await info.WaitForHeartbeatDueAsync(next - time.GetUtcNow(), stoppingToken))
        {
            next = time.GetUtcNow() + settings.HeartbeatInterval;
            _outbox.Writer.TryWrite(Beat(stopping: false));
        }
    }

    private Outgoing Beat(bool stopping)
    {
        var heartbeat = info.NewHeartbeat(settings, info.NextSequence(), stopping);
        return new Outgoing(AmqpTopology.HeartbeatKind, JsonSerializer.SerializeToUtf8Bytes(heartbeat, ContractsJson.Default.Heartbeat), 0, null, heartbeat.MessageId.ToString("N"));
    }

    /// <summary>On shutdown: a last heartbeat that says so, then the outbox is drained (bounded by the stopping timeout).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _outbox.Writer.TryWrite(Beat(stopping: true));
        _outbox.Writer.TryComplete();
        try
        {
            await _drained.Task.WaitAsync(options.StoppingHeartbeatTimeout, time, cancellationToken);
            LogStoppingSent(logger);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            LogStoppingNotSent(logger, _outbox.Reader.Count + (_unconfirmed is null ? 0 : 1));
        }

        await base.StopAsync(cancellationToken);
    }

    /// <summary>
    /// Queues a message behind the heartbeats and results; the task completes when the broker confirmed it, and is
    /// cancelled when the message was pushed out of a full outbox. Callers wait with a timeout and keep their data.
    /// </summary>
    public async Task<Task> QueueConfirmedAsync(string kind, byte[] body, string messageId, CancellationToken cancellationToken)
    {
        var confirmed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _outbox.Writer.WriteAsync(new Outgoing(kind, body, 0, null, messageId) { Confirmed = confirmed }, cancellationToken);
        return confirmed.Task;
    }

    private sealed record Outgoing(string Kind, byte[] Body, long Generation, ulong? CommandDeliveryTag, string? Id = null)
    {
        public string MessageId { get; } = Id ?? Guid.NewGuid().ToString("N");

        /// <summary>Completed when the broker confirmed the message, for callers that wait (metrics).</summary>
        public TaskCompletionSource? Confirmed { get; init; }
    }

    [LoggerMessage(600, LogLevel.Information, "Connected to RabbitMQ {Host}:{Port} after {Failures} failed attempts")]
    private static partial void LogConnected(ILogger logger, string host, int port, int failures);

    [LoggerMessage(601, LogLevel.Warning, "RabbitMQ {Host}:{Port} unavailable ({Failures} in a row): {Error}; retrying in {RetryInSeconds:0.#} s")]
    private static partial void LogConnectionFailed(ILogger logger, string host, int port, int failures, string error, double retryInSeconds);

    [LoggerMessage(602, LogLevel.Debug, "Heartbeat {MessageId} confirmed by the broker")]
    private static partial void LogHeartbeatConfirmed(ILogger logger, string messageId);

    [LoggerMessage(603, LogLevel.Warning, "A command message could not be read and was rejected: {Error}")]
    private static partial void LogBadCommand(ILogger logger, string error);

    [LoggerMessage(604, LogLevel.Information, "Stopping heartbeat published")]
    private static partial void LogStoppingSent(ILogger logger);

    [LoggerMessage(605, LogLevel.Warning, "Stopping: {Count} message(s) not confirmed by the broker in time")]
    private static partial void LogStoppingNotSent(ILogger logger, int count);
}
