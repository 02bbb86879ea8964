using ManagedServers.Shared.Security;
using Microsoft.Data.Sqlite;

namespace ManagedServers.Silo.Storage;

/// <summary>Where the silo keeps grain state, reminders and (Postgres only) cluster membership.</summary>
public enum StorageMode
{
    /// <summary>Embedded mode: one SQLite file next to the silo; clustering is localhost.</summary>
    Sqlite,

    /// <summary>PostgreSQL: grain state, reminders and membership through Orleans' ADO.NET providers.</summary>
    Postgres,
}

/// <summary>Storage selection for a silo. Build it with <see cref="Sqlite"/> or <see cref="Postgres"/>.</summary>
/// <param name="Mode">The storage backend.</param>
/// <param name="ConnectionString">The ADO.NET connection string for <paramref name="Mode"/>.</param>
public sealed record StorageConfig(StorageMode Mode, string ConnectionString)
{
    /// <summary>The file name of the embedded database inside the data directory.</summary>
    public const string SqliteFileName = "managedservers.db";

    /// <summary>Seconds a SQLite command waits for a lock held by another connection (busy timeout).</summary>
    internal const int SqliteBusyTimeoutSeconds = 30;

    /// <summary>Embedded mode: the database is <c>dataDir/managedservers.db</c>; the directory (0700) and an empty database file (0600) are created when missing.</summary>
    /// <param name="dataDir">The silo's data directory.</param>
    public static StorageConfig Sqlite(string dataDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        var directory = Path.GetFullPath(dataDir);
        if (!Directory.Exists(directory))
        {
            DataDirectory.Prepare(directory, allowShared: false);
        }

        ManagedServers.Shared.Security.OwnerOnlyFile.CreateIfMissing(Path.Combine(directory, SqliteFileName), string.Empty); // SQLite takes an empty file as a new database
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, SqliteFileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY until the command timeout elapses.
            DefaultTimeout = SqliteBusyTimeoutSeconds,
        };
        return new StorageConfig(StorageMode.Sqlite, builder.ConnectionString);
    }

    /// <summary>PostgreSQL mode. The database named in the connection string is created if missing.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    public static StorageConfig Postgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StorageConfig(StorageMode.Postgres, connectionString);
    }

    /// <summary>The invariant name Orleans' ADO.NET providers expect for this mode.</summary>
    internal string AdoNetInvariant => Mode switch
    {
        StorageMode.Sqlite => AdoNetInvariants.Sqlite,
        StorageMode.Postgres => AdoNetInvariants.Postgres,
        _ => throw new InvalidOperationException($"Unknown storage mode {Mode}."),
    };

    /// <summary>Never prints the connection string (it may hold a password).</summary>
    public override string ToString() => $"StorageConfig {{ Mode = {Mode} }}";
}

/// <summary>ADO.NET invariant names accepted by the Orleans 10.4.2 ADO.NET providers.</summary>
internal static class AdoNetInvariants
{
    /// <summary>
    /// SQLite. Orleans' provider map only knows "System.Data.SQLite" and resolves it to
    /// Microsoft.Data.Sqlite's <c>SqliteFactory</c>; "Microsoft.Data.Sqlite" is rejected as unsupported.
    /// </summary>
    public const string Sqlite = "System.Data.SQLite";

    /// <summary>PostgreSQL through Npgsql.</summary>
    public const string Postgres = "Npgsql";
}
