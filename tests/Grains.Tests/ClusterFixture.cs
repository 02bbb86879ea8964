using ManagedServers.Grains.Servers;
using ManagedServers.Grains.Servers.Jobs;
using ManagedServers.Silo;
using ManagedServers.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

/// <summary>
/// A three-silo in-process cluster on the embedded storage (one SQLite file shared by the silos),
/// with the reminder and liveness periods shortened so failover is observable in seconds.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "ms-grains-" + Guid.NewGuid().ToString("N")[..12]);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDir);
        var builder = new TestClusterBuilder(3);
        builder.Properties["DataDir"] = DataDir;
        builder.Properties["Orleans:MinimumReminderPeriod"] = "00:00:01";
        builder.Properties["ServerGrain:LivenessReminderPeriod"] = "00:00:02";
        builder.Properties["ServerGrain:IndexRefreshInterval"] = "00:00:01";
        builder.Properties["ServerGrain:JobTimerPeriod"] = "00:00:01";
        builder.Properties["ServerGrain:OperationReminderPeriod"] = "00:00:02";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        finally
        {
            await Cluster.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var configuration = siloBuilder.Configuration;
            siloBuilder.ConfigureManagedServers(configuration, StorageConfig.Sqlite(configuration["DataDir"]!), configureClustering: false);
            siloBuilder.Services.AddJobHandler<EchoJobHandler>(); // a job kind from outside the product (EchoJobTests)
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.AddMemoryStreams(StreamNames.IngestProvider);
            clientBuilder.AddMemoryStreams(StreamNames.EventsProvider);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
