namespace ManagedServers.Silo.Storage;

// TEMPORARY until the SQLite/PostgreSQL providers land (same API shape).
public enum StorageMode
{
    Sqlite,
    Postgres,
}

public sealed record StorageConfig(StorageMode Mode, string ConnectionString)
{
    public static StorageConfig Sqlite(string dataDir) => new(StorageMode.Sqlite, Path.Combine(dataDir, "managedservers.db"));

    public static StorageConfig Postgres(string connectionString) => new(StorageMode.Postgres, connectionString);
}

public static class StorageSiloBuilderExtensions
{
    public static ISiloBuilder UseManagedServersStorage(this ISiloBuilder builder, StorageConfig config)
    {
        builder.AddMemoryGrainStorageAsDefault();
        builder.AddMemoryGrainStorage("Default");
        builder.AddMemoryGrainStorage("PubSubStore");
        builder.UseInMemoryReminderService();
        return builder;
    }

    public static ISiloBuilder UseManagedServersClustering(this ISiloBuilder builder, StorageConfig config) => builder;
}
