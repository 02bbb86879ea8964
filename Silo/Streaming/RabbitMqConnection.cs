using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Streaming;

/// <summary>
/// One AMQP connection per silo, shared by the partition receivers and the publisher. It connects
/// with exponential backoff, declares the ingestion topology on every (re)connect (declarations are
/// idempotent), and is replaced as a whole when the broker closes it. The client's own automatic
/// recovery is off: delivery tags die with their channel, and the receivers must know when that
/// happened, so reconnection is explicit here.
/// </summary>
public sealed partial class RabbitMqConnection(RabbitMqOptions options, ILogger<RabbitMqConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private IConnection? _connection;

    public RabbitMqOptions Options => options;

    /// <summary>Returns the open connection, connecting (with backoff, until cancelled) when there is none.</summary>
    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        var current = _connection;
        if (current is { IsOpen: true })
        {
            return current;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        await _gate.WaitAsync(linked.Token);
        try
        {
            if (_connection is { IsOpen: true })
            {
                return _connection;
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }

            var backoff = new Backoff(TimeSpan.FromMilliseconds(250), options.MaxReconnectDelay);
            while (true)
            {
                try
                {
                    var connection = await Factory(options).CreateConnectionAsync(linked.Token);
                    await DeclareTopologyAsync(connection, options.Partitions, linked.Token);
                    connection.ConnectionShutdownAsync += (_, args) =>
                    {
                        if (!_disposed.IsCancellationRequested)
                        {
                            LogConnectionLost(logger, args.ReplyText);
                        }

                        return Task.CompletedTask;
                    };
                    if (backoff.Failures > 0)
                    {
                        LogReconnected(logger, options.Host!, options.Port, backoff.Failures);
                    }

                    _connection = connection;
                    return connection;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    var delay = backoff.Next();
                    LogConnectFailed(logger, options.Host!, options.Port, backoff.Failures, delay.TotalSeconds, ex.Message);
                    await Task.Delay(delay, linked.Token);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The connection factory for a set of options (no automatic recovery: see the class remarks).</summary>
    public static ConnectionFactory Factory(RabbitMqOptions options)
    {
        var factory = options.ToBrokerConnection().Factory(TimeSpan.FromSeconds(10), "managedservers-silo-" + Environment.MachineName);
        factory.RequestedHeartbeat = TimeSpan.FromSeconds(15);
        return factory;
    }

    /// <summary>
    /// Exchanges and queues of the ingestion path: durable, quorum queues (replicated when the broker
    /// is a cluster), each with the dead-letter exchange for messages that cannot be delivered.
    /// </summary>
    public static async Task DeclareTopologyAsync(IConnection connection, int partitions, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(AmqpTopology.IngestExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(AmqpTopology.DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(AmqpTopology.CommandExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(AmqpTopology.DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments: QuorumQueue(), cancellationToken: cancellationToken);
        await channel.QueueBindAsync(AmqpTopology.DeadLetterQueue, AmqpTopology.DeadLetterExchange, string.Empty, cancellationToken: cancellationToken);
        for (var i = 0; i < partitions; i++)
        {
            var arguments = QuorumQueue();
            arguments["x-dead-letter-exchange"] = AmqpTopology.DeadLetterExchange;
            await channel.QueueDeclareAsync(AmqpTopology.IngestQueue(i), durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(AmqpTopology.IngestQueue(i), AmqpTopology.IngestExchange, AmqpTopology.PartitionBinding(i), cancellationToken: cancellationToken);
        }
    }

    private static Dictionary<string, object?> QuorumQueue() => new() { ["x-queue-type"] = "quorum" };

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        if (_connection is not null)
        {
            try
            {
                await _connection.CloseAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogCloseFailed(logger, ex.Message);
            }

            await _connection.DisposeAsync();
        }

        _gate.Dispose();
        _disposed.Dispose();
    }

    [LoggerMessage(500, LogLevel.Warning, "RabbitMQ {Host}:{Port} unreachable (attempt {Attempt}); retrying in {DelaySeconds:F1} s: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, int attempt, double delaySeconds, string reason);

    [LoggerMessage(501, LogLevel.Information, "RabbitMQ {Host}:{Port} connected again after {Failures} failed attempts")]
    private static partial void LogReconnected(ILogger logger, string host, int port, int failures);

    [LoggerMessage(502, LogLevel.Warning, "RabbitMQ connection lost: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, string reason);

    [LoggerMessage(503, LogLevel.Debug, "Closing the RabbitMQ connection failed: {Reason}")]
    private static partial void LogCloseFailed(ILogger logger, string reason);
}
