using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace ManagedServers.Silo.Storage;

/// <summary>
/// Orleans reminder table for embedded mode, stored in the silo's SQLite file (table
/// ManagedServersReminders, created by Sql/Sqlite-Reminders.sql). Rows are scoped by ServiceId.
/// ETags are random tokens replaced on every upsert; removal only succeeds with the current ETag.
/// </summary>
internal sealed partial class SqliteReminderTable(
    string connectionString,
    IOptions<ClusterOptions> clusterOptions,
    ILogger<SqliteReminderTable> logger) : IReminderTable
{
    private const string SelectColumns = "SELECT GrainId, ReminderName, StartTime, Period, ETag FROM ManagedServersReminders";

    private readonly string _serviceId = clusterOptions.Value.ServiceId;

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    public Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken)
        => QueryAsync(
            SelectColumns + " WHERE ServiceId = @ServiceId AND GrainId = @GrainId",
            parameters => parameters.AddWithValue("@GrainId", grainId.ToString()),
            cancellationToken);

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    /// <summary>
    /// Reads the ring range (begin, end]: begin &lt; end selects begin &lt; hash &lt;= end; otherwise the range
    /// wraps around zero and selects hash &gt; begin OR hash &lt;= end (begin = end is the whole ring).
    /// </summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken)
    {
        var predicate = begin < end
            ? " WHERE ServiceId = @ServiceId AND GrainHash > @Begin AND GrainHash <= @End"
            : " WHERE ServiceId = @ServiceId AND (GrainHash > @Begin OR GrainHash <= @End)";
        return QueryAsync(
            SelectColumns + predicate,
            parameters =>
            {
                parameters.AddWithValue("@Begin", (long)begin);
                parameters.AddWithValue("@End", (long)end);
            },
            cancellationToken);
    }

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
        => ReadRow(grainId, reminderName, CancellationToken.None);

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var data = await QueryAsync(
            SelectColumns + " WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName",
            parameters =>
            {
                parameters.AddWithValue("@GrainId", grainId.ToString());
                parameters.AddWithValue("@ReminderName", reminderName);
            },
            cancellationToken);
        return data.Reminders.Count == 0 ? null : data.Reminders[0];
    }

    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    public async Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var etag = Guid.NewGuid().ToString("N");
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText =
                """
                INSERT INTO ManagedServersReminders (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, ETag)
                VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, @ETag)
                ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
                    StartTime = excluded.StartTime,
                    Period = excluded.Period,
                    GrainHash = excluded.GrainHash,
                    ETag = excluded.ETag
                """;
            command.Parameters.AddWithValue("@ServiceId", _serviceId);
            command.Parameters.AddWithValue("@GrainId", entry.GrainId.ToString());
            command.Parameters.AddWithValue("@ReminderName", entry.ReminderName);
            command.Parameters.AddWithValue("@StartTime", ToUtcTicks(entry.StartAt));
            command.Parameters.AddWithValue("@Period", entry.Period.Ticks);
            command.Parameters.AddWithValue("@GrainHash", (long)entry.GrainId.GetUniformHashCode());
            command.Parameters.AddWithValue("@ETag", etag);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return etag;
        }
        catch (SqliteException ex)
        {
            LogOperationFailed(ex, "UpsertRow", entry.GrainId, entry.ReminderName);
            throw;
        }
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
        => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText =
                """
                DELETE FROM ManagedServersReminders
                WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName AND ETag = @ETag
                """;
            command.Parameters.AddWithValue("@ServiceId", _serviceId);
            command.Parameters.AddWithValue("@GrainId", grainId.ToString());
            command.Parameters.AddWithValue("@ReminderName", reminderName);
            command.Parameters.AddWithValue("@ETag", (object?)eTag ?? DBNull.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }
        catch (SqliteException ex)
        {
            LogOperationFailed(ex, "RemoveRow", grainId, reminderName);
            throw;
        }
    }

    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    public async Task TestOnlyClearTable(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM ManagedServersReminders WHERE ServiceId = @ServiceId";
        command.Parameters.AddWithValue("@ServiceId", _serviceId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<ReminderTableData> QueryAsync(
        string sql,
        Action<SqliteParameterCollection> addParameters,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("@ServiceId", _serviceId);
            addParameters(command.Parameters);

            var entries = new List<ReminderEntry>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(new ReminderEntry
                {
                    GrainId = GrainId.Parse(reader.GetString(0)),
                    ReminderName = reader.GetString(1),
                    StartAt = new DateTime(reader.GetInt64(2), DateTimeKind.Utc),
                    Period = TimeSpan.FromTicks(reader.GetInt64(3)),
                    ETag = reader.GetString(4),
                });
            }

            return new ReminderTableData(entries);
        }
        catch (SqliteException ex)
        {
            LogQueryFailed(ex);
            throw;
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static long ToUtcTicks(DateTime value)
        => (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).Ticks;

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Reminder table {Operation} failed for grain {GrainId} reminder {ReminderName}")]
    private partial void LogOperationFailed(Exception exception, string operation, GrainId grainId, string reminderName);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Reminder table read failed")]
    private partial void LogQueryFailed(Exception exception);
}
