using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using RabbitMQ.Client;

namespace ManagedServers.Silo.Tests.Rabbit;

/// <summary>An in-process Orleans cluster (SQLite storage) whose ingestion stream is RabbitMQ.</summary>
public static class RabbitTestCluster
{
    public const int Partitions = 4;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<TestCluster, string> DataDirs = new();

    /// <summary>Starts the cluster; <see cref="StopAsync"/> stops it and removes its data directory.</summary>
    public static async Task<TestCluster> StartAsync(string host, int port, string vhost, string user, string password, short silos)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ms-rabbit-cluster-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dataDir);
        var builder = new TestClusterBuilder(silos);
        builder.Properties["DataDir"] = dataDir;
        builder.Properties["RabbitMq:Host"] = host;
        builder.Properties["RabbitMq:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties["RabbitMq:VirtualHost"] = vhost;
        builder.Properties["RabbitMq:User"] = user;
        builder.Properties["RabbitMq:Password"] = password;
        builder.Properties["RabbitMq:Partitions"] = Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties["RabbitMq:MaxReconnectDelay"] = "00:00:02";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        DataDirs[cluster] = dataDir;
        await cluster.DeployAsync();
        return cluster;
    }

    public static async Task StopAsync(TestCluster? cluster)
    {
        string? dataDir = null;
        if (cluster is not null)
        {
            DataDirs.TryRemove(cluster, out dataDir);
        }

        await StorageTestCluster.StopQuietlyAsync(cluster);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (dataDir is not null && Directory.Exists(dataDir))
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.ConfigureManagedServers(siloBuilder.Configuration, StorageConfig.Sqlite(siloBuilder.Configuration["DataDir"]!), configureClustering: false);
    }
}

/// <summary>Publishes as an agent does: persistent messages with publisher confirms, to the server's partition.</summary>
public static class AgentPublish
{
    public static async Task<IChannel> ConfirmingChannelAsync(IConnection connection) =>
        await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

    public static string RoutingKey(string serverId, string kind) =>
        AmqpTopology.RoutingKey(AmqpTopology.RoutingKeyPrefix(AmqpTopology.PartitionOf(serverId, RabbitTestCluster.Partitions), serverId), kind);

    public static ValueTask PublishAsync(IChannel channel, string serverId, string kind, object message) =>
        PublishRawAsync(channel, RoutingKey(serverId, kind), kind, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), ContractsJson.Default));

    public static ValueTask PublishRawAsync(IChannel channel, string routingKey, string kind, byte[] body) =>
        channel.BasicPublishAsync(AmqpTopology.IngestExchange, routingKey, mandatory: true, new BasicProperties { Persistent = true, Type = kind, ContentType = "application/json" }, body);
}
