using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ManagedServers.Contracts.Agent;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ManagedServers.Api.Broker;

/// <summary>
/// One RabbitMQ user per agent, confined to its own queue and routing keys:
/// <list type="bullet">
/// <item>configure <c>^$</c>: it declares, deletes and binds nothing;</item>
/// <item>write <c>^ms\.ingest$</c>: it publishes only to the ingest exchange, and there (topic permission) only
/// with routing keys <c>p{n}.{its server id}.{kind}</c>;</item>
/// <item>read <c>^ms\.cmd\.{server id}$</c>: it consumes only its own command queue.</item>
/// </list>
/// The exchanges and the agent's command queue are declared (idempotently) with the control plane's own
/// credentials. Every provisioning sets a fresh password, so re-enrolment and renewal rotate it.
/// </summary>
public sealed partial class AgentBrokerAccounts(IBrokerSettingsSource settings, ILogger<AgentBrokerAccounts> logger) : IDisposable
{
    /// <summary>How long one broker call (AMQP or management HTTP) may take.</summary>
    public static TimeSpan CallTimeout { get; } = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = CallTimeout * 2 };

    public static string ConfigurePermission => "^$";

    public static string WritePermission => "^" + Regex.Escape(AmqpTopology.IngestExchange) + "$";

    public static string ReadPermission(string serverId) => "^" + Regex.Escape(AmqpTopology.CommandQueue(serverId)) + "$";

    public static string TopicWritePermission(string serverId) => @"^p\d+\." + Regex.Escape(serverId) + @"\.[a-z][a-z0-9-]*$";

    /// <summary>Creates or updates the agent's broker user (new password) and its command queue; returns what the agent needs.</summary>
    /// <exception cref="BrokerUnavailableException">RabbitMQ is not configured, unreachable, or refused.</exception>
    public async Task<AmqpCredentials> ProvisionAsync(string serverId, int partitions, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var admin = await RequireSettingsAsync(cancellationToken);
        await DeclareTopologyAsync(admin, serverId, cancellationToken);

        var management = Management(admin);
        var user = AmqpTopology.AgentUser(serverId);
        var password = NewPassword();
        await management.PutUserAsync(user, password, string.Empty, cancellationToken);
        await management.PutPermissionsAsync(admin.VirtualHost, user, ConfigurePermission, WritePermission, ReadPermission(serverId), cancellationToken);
        await management.PutTopicPermissionsAsync(admin.VirtualHost, user, AmqpTopology.IngestExchange, TopicWritePermission(serverId), "^$", cancellationToken);
        LogProvisioned(logger, serverId, user);

        return new AmqpCredentials(
            admin.Host,
            admin.Port,
            admin.VirtualHost,
            user,
            password,
            admin.Tls,
            AmqpTopology.RoutingKeyPrefix(AmqpTopology.PartitionOf(serverId, partitions), serverId),
            AmqpTopology.CommandQueue(serverId));
    }

    /// <summary>Deletes the agent's broker user (a missing user is fine). Its command queue stays for the integrator's cleanup.</summary>
    /// <exception cref="BrokerUnavailableException">RabbitMQ is not configured, unreachable, or refused.</exception>
    public async Task RemoveAsync(string serverId, CancellationToken cancellationToken)
    {
        var admin = await RequireSettingsAsync(cancellationToken);
        await Management(admin).DeleteUserAsync(AmqpTopology.AgentUser(serverId), cancellationToken);
        LogRemoved(logger, serverId);
    }

    public void Dispose() => _http.Dispose();

    private RabbitMqManagementClient Management(BrokerConnection admin) =>
        new(_http, new Uri(admin.ManagementUrl, UriKind.Absolute), admin.User, admin.Password);

    private async Task<BrokerConnection> RequireSettingsAsync(CancellationToken cancellationToken) =>
        await settings.GetAsync(cancellationToken) ?? throw new BrokerUnavailableException("RabbitMQ is not configured (PUT /api/v1/settings/rabbitmq)");

    private static async Task DeclareTopologyAsync(BrokerConnection admin, string serverId, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(CallTimeout * 2);
        IConnection connection;
        try
        {
            connection = await admin.Factory(CallTimeout, "managedservers-provisioning").CreateConnectionAsync(cts.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var probe = BrokerProbe.Classify(ex, admin, CallTimeout);
            throw new BrokerUnavailableException($"{probe.Reason}: {probe.Detail}", ex);
        }

        await using var owned = connection;
        try
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cts.Token);
            await channel.ExchangeDeclareAsync(AmqpTopology.IngestExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cts.Token);
            await channel.ExchangeDeclareAsync(AmqpTopology.CommandExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cts.Token);
            var queue = AmqpTopology.CommandQueue(serverId);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cts.Token);
            await channel.QueueBindAsync(queue, AmqpTopology.CommandExchange, serverId, cancellationToken: cts.Token);
            await channel.CloseAsync(cts.Token);
            await connection.CloseAsync(cts.Token);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason is { ReplyCode: not 530 } reason && !cancellationToken.IsCancellationRequested)
        {
            // Connected, but the broker refused a declaration: our user's rights, or a queue declared differently.
            throw new BrokerUnavailableException($"declaring the agent topology on virtual host '{admin.VirtualHost}' as '{admin.User}' failed: {reason.ReplyCode} {reason.ReplyText}", ex);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var probe = BrokerProbe.Classify(ex, admin, CallTimeout);
            throw new BrokerUnavailableException($"{probe.Reason}: {probe.Detail}", ex);
        }
    }

    private static string NewPassword() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Broker user {User} of server {ServerId} provisioned (new password)")]
    private static partial void LogProvisioned(ILogger logger, string serverId, string user);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Broker user of server {ServerId} removed")]
    private static partial void LogRemoved(ILogger logger, string serverId);
}
