using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ManagedServers.Silo.Storage;

/// <summary>
/// Applies the storage schema (Orleans' OrleansQuery table and the tables behind it) idempotently.
/// Silos call this through a lifecycle participant before any Orleans provider initialises.
/// </summary>
public static class SchemaSetup
{
    /// <summary>Component name under which the applied script hash is recorded.</summary>
    internal const string SchemaComponent = "orleans-storage";

    /// <summary>Advisory lock key serialising schema setup across silos (ASCII "MSSCHEMA").</summary>
    internal const long PostgresAdvisoryLockKey = 0x4D53_5343_4845_4D41;

    /// <summary>
    /// Embedded mode: creates the database file and its directory if needed, switches the file to WAL
    /// and applies the SQLite scripts inside one IMMEDIATE transaction (skipped when unchanged).
    /// </summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string.</param>
    /// <param name="ct">Cancels the setup.</param>
    public static async Task EnsureSqliteAsync(string connectionString, CancellationToken ct = default)
        => await EnsureSqliteCoreAsync(connectionString, ct);

    /// <summary>
    /// PostgreSQL mode: creates the database if the connection string names one that does not exist,
    /// then applies the PostgreSQL scripts in one transaction under an advisory lock (skipped when unchanged).
    /// </summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="ct">Cancels the setup.</param>
    public static async Task EnsurePostgresAsync(string connectionString, CancellationToken ct = default)
        => await EnsurePostgresCoreAsync(connectionString, ct);

    /// <summary>Applies the schema for <paramref name="config"/>; returns whether scripts were (re)applied.</summary>
    internal static Task<bool> EnsureAsync(StorageConfig config, CancellationToken ct) => config.Mode switch
    {
        StorageMode.Sqlite => EnsureSqliteCoreAsync(config.ConnectionString, ct),
        StorageMode.Postgres => EnsurePostgresCoreAsync(config.ConnectionString, ct),
        _ => throw new InvalidOperationException($"Unknown storage mode {config.Mode}."),
    };

    private static async Task<bool> EnsureSqliteCoreAsync(string connectionString, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new SqliteConnectionStringBuilder(connectionString);
        EnsureSqliteDirectory(builder);
        var (scripts, hash) = SqlScripts.LoadAll(SqlScripts.SqliteScriptNames);

        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);

        // journal_mode=WAL is persistent in the file and must be set outside a transaction.
        // busy_timeout covers BEGIN IMMEDIATE when another silo is applying the schema right now.
        await ExecuteAsync(
            connection,
            $"PRAGMA busy_timeout = {StorageConfig.SqliteBusyTimeoutSeconds * 1000}; PRAGMA journal_mode = WAL;",
            transaction: null,
            ct);

        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await ExecuteAsync(
            connection,
            """
            CREATE TABLE IF NOT EXISTS ManagedServersSchema
            (
                Component  TEXT NOT NULL PRIMARY KEY,
                ScriptHash TEXT NOT NULL,
                AppliedOn  TEXT NOT NULL
            );
            """,
            transaction,
            ct);

        if (await ReadAppliedHashAsync(connection, transaction, ct) == hash)
        {
            await transaction.CommitAsync(ct);
            return false;
        }

        foreach (var script in scripts)
        {
            await ExecuteAsync(connection, script, transaction, ct);
        }

        await using (var record = connection.CreateCommand())
        {
            record.Transaction = transaction;
            record.CommandText =
                """
                INSERT INTO ManagedServersSchema (Component, ScriptHash, AppliedOn)
                VALUES (@component, @hash, CURRENT_TIMESTAMP)
                ON CONFLICT (Component) DO UPDATE SET ScriptHash = excluded.ScriptHash, AppliedOn = excluded.AppliedOn;
                """;
            record.Parameters.AddWithValue("@component", SchemaComponent);
            record.Parameters.AddWithValue("@hash", hash);
            await record.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return true;
    }

    private static void EnsureSqliteDirectory(SqliteConnectionStringBuilder builder)
    {
        var dataSource = builder.DataSource;
        if (string.IsNullOrEmpty(dataSource)
            || builder.Mode == SqliteOpenMode.Memory
            || dataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase)
            || dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    private static async Task<bool> EnsurePostgresCoreAsync(string connectionString, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await EnsurePostgresDatabaseAsync(connectionString, ct);
        var (scripts, hash) = SqlScripts.LoadAll(SqlScripts.PostgresScriptNames);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Held until commit/rollback: a second silo starting at the same time waits here and then
        // finds the hash already recorded.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", PostgresAdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(ct);
        }

        await ExecuteAsync(
            connection,
            """
            CREATE TABLE IF NOT EXISTS managedservers_schema
            (
                component   text        NOT NULL PRIMARY KEY,
                script_hash text        NOT NULL,
                applied_on  timestamptz NOT NULL DEFAULT now()
            );
            """,
            transaction,
            ct);

        if (await ReadAppliedHashAsync(connection, transaction, ct) == hash)
        {
            await transaction.CommitAsync(ct);
            return false;
        }

        foreach (var script in scripts)
        {
            await ExecuteAsync(connection, script, transaction, ct);
        }

        await using (var record = new NpgsqlCommand(
            """
            INSERT INTO managedservers_schema (component, script_hash, applied_on)
            VALUES (@component, @hash, now())
            ON CONFLICT (component) DO UPDATE SET script_hash = excluded.script_hash, applied_on = excluded.applied_on;
            """,
            connection,
            transaction))
        {
            record.Parameters.AddWithValue("component", SchemaComponent);
            record.Parameters.AddWithValue("hash", hash);
            await record.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Creates the database named in the connection string when connecting to it fails with
    /// "database does not exist". Creation goes through the <c>postgres</c> maintenance database under
    /// a session advisory lock, so silos starting together create it once.
    /// </summary>
    private static async Task EnsurePostgresDatabaseAsync(string connectionString, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var database = builder.Database;
        if (string.IsNullOrEmpty(database))
        {
            return;
        }

        try
        {
            await using var probe = new NpgsqlConnection(connectionString);
            await probe.OpenAsync(ct);
            return;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // Fall through and create it.
        }

        var maintenance = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Database = "postgres",
            Pooling = false,
        };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(ct);

        // Session-level lock (CREATE DATABASE cannot run inside a transaction); released when the
        // connection closes.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", PostgresAdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(ct);
        }

        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection))
        {
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync(ct) is not null)
            {
                return;
            }
        }

        var quoted = "\"" + database.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await using var create = new NpgsqlCommand("CREATE DATABASE " + quoted, connection);
        try
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Created concurrently by something that does not take our lock.
        }
    }

    private static async Task<string?> ReadAppliedHashAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var sqlite = connection is SqliteConnection;
        command.CommandText = sqlite
            ? "SELECT ScriptHash FROM ManagedServersSchema WHERE Component = @component"
            : "SELECT script_hash FROM managedservers_schema WHERE component = @component";
        var parameter = command.CreateParameter();
        parameter.ParameterName = sqlite ? "@component" : "component";
        parameter.Value = SchemaComponent;
        command.Parameters.Add(parameter);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, DbTransaction? transaction, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}
