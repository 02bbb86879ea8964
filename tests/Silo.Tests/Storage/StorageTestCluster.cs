using ManagedServers.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace ManagedServers.Silo.Tests;

/// <summary>Starts Orleans test clusters (in-process silos) on a ManagedServers storage configuration.</summary>
public static class StorageTestCluster
{
    private const string ModeKey = "ManagedServersTest:StorageMode";
    private const string ConnectionStringKey = "ManagedServersTest:ConnectionString";

    /// <summary>
    /// Deploys a cluster. SQLite mode keeps the TestingHost's development membership (hosted by the
    /// primary silo); Postgres mode turns it off and uses ADO.NET clustering on the same database.
    /// </summary>
    public static async Task<TestCluster> StartAsync(StorageConfig config, string serviceId, short silos)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.Options.UseTestClusterMembership = config.Mode == StorageMode.Sqlite;
        builder.Properties[ModeKey] = config.Mode.ToString();
        builder.Properties[ConnectionStringKey] = config.ConnectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops every silo and the client; never throws (used from cleanup paths).</summary>
    public static async Task StopQuietlyAsync(TestCluster? cluster)
    {
        if (cluster is null)
        {
            return;
        }

        try
        {
            await cluster.StopAllSilosAsync();
        }
        catch (Exception)
        {
            // Best effort: the cluster may already be half stopped by the test.
        }

        await cluster.DisposeAsync();
    }

    private static StorageConfig ReadConfig(IConfiguration configuration)
        => new(
            Enum.Parse<StorageMode>(configuration[ModeKey] ?? throw new InvalidOperationException("Storage mode missing.")),
            configuration[ConnectionStringKey] ?? throw new InvalidOperationException("Connection string missing."));

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var config = ReadConfig(siloBuilder.Configuration);
            siloBuilder.UseManagedServersStorage(config);
            siloBuilder.UseManagedServersClustering(config);
            siloBuilder.Configure<ReminderOptions>(options =>
            {
                // Fast reminders for tests; Orleans warns that sub-minute periods are not for production.
                options.MinimumReminderPeriod = TimeSpan.FromSeconds(1);
                options.RefreshReminderListPeriod = TimeSpan.FromSeconds(5);
                options.ReminderLoadingWindow = TimeSpan.FromMinutes(10);
            });
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            var config = ReadConfig(configuration);
            if (config.Mode == StorageMode.Postgres)
            {
                clientBuilder.UseAdoNetClustering(options =>
                {
                    options.Invariant = AdoNetInvariants.Postgres;
                    options.ConnectionString = config.ConnectionString;
                });
            }
        }
    }
}
