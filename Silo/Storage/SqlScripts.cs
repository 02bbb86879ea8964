using System.Security.Cryptography;
using System.Text;

namespace ManagedServers.Silo.Storage;

/// <summary>The schema scripts embedded from <c>Storage/Sql/*.sql</c>.</summary>
internal static class SqlScripts
{
    /// <summary>Scripts for embedded (SQLite) mode, in the order they are applied.</summary>
    public static IReadOnlyList<string> SqliteScriptNames { get; } = ["Sqlite-Storage.sql", "Sqlite-Reminders.sql", "Sqlite-Metrics.sql"];

    /// <summary>Scripts for PostgreSQL mode, in the order they are applied (Main creates OrleansQuery).</summary>
    public static IReadOnlyList<string> PostgresScriptNames { get; } =
        ["Postgres-Main.sql", "Postgres-Clustering.sql", "Postgres-Persistence.sql", "Postgres-Reminders.sql", "Postgres-Metrics.sql"];

    /// <summary>Reads an embedded script by file name (resource names end with <c>.Sql.{fileName}</c>).</summary>
    public static string Load(string fileName)
    {
        var assembly = typeof(SqlScripts).Assembly;
        var suffix = ".Sql." + fileName;
        var resourceName = assembly.GetManifestResourceNames()
            .SingleOrDefault(name => name.EndsWith(suffix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Embedded SQL script '{fileName}' was not found in {assembly.GetName().Name}.");
        using var stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"Embedded SQL script '{resourceName}' could not be opened.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Loads the named scripts and a SHA-256 over all of them (used to skip re-applying an unchanged schema).</summary>
    public static (IReadOnlyList<string> Scripts, string Hash) LoadAll(IReadOnlyList<string> fileNames)
    {
        var scripts = fileNames.Select(Load).ToList();
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n--\n", scripts));
        return (scripts, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
