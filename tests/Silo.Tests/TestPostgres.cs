using Npgsql;

namespace ManagedServers.Silo.Tests;

/// <summary>Throw-away databases on the test PostgreSQL (env MANAGEDSERVERS_TEST_POSTGRES, else the local default).</summary>
public static class TestPostgres
{
    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("MANAGEDSERVERS_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres";

    public static string NewDatabaseName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Connection string of a database (created by our schema setup on first use).</summary>
    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

    /// <summary>The silo arguments of a cluster-mode silo on <paramref name="database"/> (its own cluster id).</summary>
    public static Dictionary<string, string> SiloArgs(string database) => new()
    {
        ["ConnectionStrings:Postgres"] = ConnectionString(database),
        ["Orleans:ClusterId"] = database,
    };

    /// <summary>Drops the databases, forcing out any connection a killed silo left behind.</summary>
    public static async Task DropAsync(params string[] databases)
    {
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        foreach (var name in databases)
        {
            await using (var pooled = new NpgsqlConnection(ConnectionString(name)))
            {
                NpgsqlConnection.ClearPool(pooled);
            }

            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
