using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ManagedServers.Silo.Tests.Storage;

/// <summary>
/// Reads a silo's database directly (not through the API): every row of every table whose text or binary columns
/// contain a string (grain state payloads are scanned as bytes: the Orleans serializer writes strings as UTF-8).
/// </summary>
public static class DatabaseScan
{
    /// <summary>Rows of the SQLite database under <paramref name="dataDir"/> that mention <paramref name="needle"/>, as "table: column".</summary>
    public static async Task<List<string>> SqliteRowsMentioningAsync(string dataDir, string needle)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "managedservers.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var connection = new SqliteConnection(builder.ConnectionString);
        await connection.OpenAsync();
        var tables = await ListAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
        return await ScanAsync(connection, tables, needle, t => $"\"{t}\"");
    }

    /// <summary>Rows of the PostgreSQL database (public schema) that mention <paramref name="needle"/>.</summary>
    public static async Task<List<string>> PostgresRowsMentioningAsync(string connectionString, string needle)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        var tables = await ListAsync(connection, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
        return await ScanAsync(connection, tables, needle, t => $"public.\"{t}\"");
    }

    private static async Task<List<string>> ListAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static async Task<List<string>> ScanAsync(DbConnection connection, List<string> tables, string needle, Func<string, string> quote)
    {
        var bytes = Encoding.UTF8.GetBytes(needle);
        var found = new List<string>();
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {quote(table)}";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var hit = reader.IsDBNull(i) ? false : reader.GetValue(i) switch
                    {
                        string text => text.Contains(needle, StringComparison.OrdinalIgnoreCase),
                        byte[] blob => blob.AsSpan().IndexOf(bytes) >= 0,
                        _ => false,
                    };
                    if (hit)
                    {
                        found.Add($"{table}.{reader.GetName(i)} ({Describe(reader)})");
                    }
                }
            }
        }

        return found;
    }

    /// <summary>The row's short text columns (what identifies it: a grain type, a key, a name).</summary>
    private static string Describe(DbDataReader reader) => string.Join(", ", Enumerable.Range(0, reader.FieldCount)
        .Where(i => !reader.IsDBNull(i) && reader.GetValue(i) is string { Length: <= 120 })
        .Select(i => $"{reader.GetName(i)}={reader.GetString(i)}"));
}
