using ManagedServers.Silo.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace ManagedServers.Silo.Tests;

public sealed class StorageConfigTests
{
    [Fact]
    public void Sqlite_config_points_at_managedservers_db_and_creates_the_directory()
    {
        var dataDir = Path.Combine(AppContext.BaseDirectory, "storage-test-data", Guid.NewGuid().ToString("N"), "nested");
        try
        {
            var config = StorageConfig.Sqlite(dataDir);

            Assert.Equal(StorageMode.Sqlite, config.Mode);
            Assert.True(Directory.Exists(dataDir));
            var builder = new SqliteConnectionStringBuilder(config.ConnectionString);
            Assert.Equal(Path.Combine(Path.GetFullPath(dataDir), "managedservers.db"), builder.DataSource);
            Assert.True(builder.DefaultTimeout > 0);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dataDir)!, recursive: true);
        }
    }

    [Fact]
    public void Config_never_prints_its_connection_string()
    {
        var config = StorageConfig.Postgres("Host=db;Username=ms;Password=s3cret-value");

        Assert.Equal(StorageMode.Postgres, config.Mode);
        Assert.DoesNotContain("s3cret-value", config.ToString(), StringComparison.Ordinal);
        Assert.Equal("db:5432/", StorageSchemaInitializer.DescribeTarget(config));
    }
}
