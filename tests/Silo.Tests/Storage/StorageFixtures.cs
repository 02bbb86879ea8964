using ManagedServers.Silo.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;
using Orleans.TestingHost;
using Xunit;

namespace ManagedServers.Silo.Tests;

/// <summary>
/// Per test class: a fresh database (file or Postgres database) and a 2-silo cluster on it.
/// Everything is removed in <see cref="DisposeAsync"/>.
/// </summary>
public abstract class StorageClusterFixture : IAsyncLifetime
{
    private TestCluster? _cluster;

    public abstract StorageMode Mode { get; }

    /// <summary>The storage configuration of the shared cluster's database.</summary>
    public StorageConfig Config { get; private set; } = null!;

    /// <summary>The ServiceId of the shared cluster (grain state and reminders are scoped by it).</summary>
    public string ServiceId { get; } = "conformance-" + Guid.NewGuid().ToString("N");

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not running.");

    public async Task InitializeAsync()
    {
        Config = await CreateDatabaseAsync();
        _cluster = await StorageTestCluster.StartAsync(Config, ServiceId, silos: 2);
    }

    public async Task DisposeAsync()
    {
        await StorageTestCluster.StopQuietlyAsync(_cluster);
        _cluster = null;
        await DropDatabasesAsync();
    }

    /// <summary>A new, empty database (not yet created on the server for Postgres: schema setup must create it).</summary>
    public abstract Task<StorageConfig> CreateDatabaseAsync();

    protected abstract Task DropDatabasesAsync();
}

public sealed class SqliteClusterFixture : StorageClusterFixture
{
    private readonly string _root = Path.Combine(AppContext.BaseDirectory, "storage-test-data", Guid.NewGuid().ToString("N"));

    public override StorageMode Mode => StorageMode.Sqlite;

    public override Task<StorageConfig> CreateDatabaseAsync()
        => Task.FromResult(StorageConfig.Sqlite(Path.Combine(_root, Guid.NewGuid().ToString("N"))));

    protected override Task DropDatabasesAsync()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return Task.CompletedTask;
    }
}

public sealed class PostgresClusterFixture : StorageClusterFixture
{

    private readonly List<string> _databases = [];

    public override StorageMode Mode => StorageMode.Postgres;

    /// <summary>The admin connection string (env MANAGEDSERVERS_TEST_POSTGRES or the local default).</summary>
    public static string AdminConnectionString => TestPostgres.AdminConnectionString;

    public override Task<StorageConfig> CreateDatabaseAsync()
    {
        var name = "ms_test_" + Guid.NewGuid().ToString("N");
        lock (_databases)
        {
            _databases.Add(name);
        }

        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name };
        return Task.FromResult(StorageConfig.Postgres(builder.ConnectionString));
    }

    protected override async Task DropDatabasesAsync()
    {
        string[] names;
        lock (_databases)
        {
            names = [.. _databases];
        }

        await TestPostgres.DropAsync(names);
    }
}
