using System.Data.Common;
using System.Threading.Channels;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Monitoring;
using ManagedServers.Silo.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ManagedServers.Silo.Monitoring;

/// <summary>
/// <see cref="IMetricsStore"/> on the silo's database (the SQLite file or PostgreSQL). Appends and
/// aggregate upserts from all server grains of this silo go through one writer loop that commits
/// them in groups (up to <see cref="MaxRowsPerCommit"/> rows per transaction): at 2,000 samples/s that
/// is a few transactions a second instead of 2,000, and a grain's call returns only once its rows are
/// committed, so what a grain acknowledged is on disk. Reads and deletes use pooled connections.
/// </summary>
public sealed partial class SqlMetricsStore : IMetricsStore, IAsyncDisposable
{
    private const int MaxRowsPerCommit = 2_000;
    private const int SqliteReadLanes = 4;
    private readonly SemaphoreSlim _sqliteLanes = new(SqliteReadLanes, SqliteReadLanes);
    private readonly StorageConfig _config;
    private readonly ILogger<SqlMetricsStore> _logger;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource? _postgres;
    private Task? _writer;

    public SqlMetricsStore(StorageConfig config, ILogger<SqlMetricsStore> logger)
    {
        _config = config;
        _logger = logger;
        if (config.Mode == StorageMode.Postgres)
        {
            _postgres = NpgsqlDataSource.Create(config.ConnectionString);
        }
    }

    private bool IsPostgres => _config.Mode == StorageMode.Postgres;

    /// <summary>
    /// Not a hosted service on purpose: grains still write while the silo deactivates them on shutdown,
    /// after hosted services stop. The writer starts with the first write and drains when the container
    /// disposes the store.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writer is not null)
        {
            await _writer.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<long>> AppendRawAsync(string serverId, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken = default)
    {
        if (samples.Count == 0)
        {
            return [];
        }

        var pending = new Pending(serverId, samples, null);
        await EnqueueAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task UpsertAggregatesAsync(string serverId, IReadOnlyList<AggregateBucket> buckets, CancellationToken cancellationToken = default)
    {
        if (buckets.Count == 0)
        {
            return;
        }

        var pending = new Pending(serverId, null, buckets);
        await EnqueueAsync(pending, cancellationToken).ConfigureAwait(false);
        await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private ValueTask EnqueueAsync(Pending pending, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_writer is null)
        {
            lock (_queue)
            {
                _writer ??= Task.Run(WriteLoopAsync, CancellationToken.None);
            }
        }

        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(SqlMetricsStore), "the metrics store is stopping");
        }

        return ValueTask.CompletedTask;
    }

    public async Task<IReadOnlyList<StoredSample>> ReadRawAsync(string serverId, long fromMs, long toMs, int limit, CancellationToken cancellationToken = default) =>
        await QueryAsync(
            "SELECT ts, payload FROM ms_metric_raw WHERE server_id = @s AND ts >= @f AND ts < @t ORDER BY ts LIMIT @l",
            [("@s", serverId), ("@f", fromMs), ("@t", toMs), ("@l", limit)],
            r => new StoredSample(r.GetInt64(0), MetricsCodec.DecodeValues((byte[])r.GetValue(1))),
            cancellationToken).ConfigureAwait(false);

    // ts >= 0 for real samples, so integer division floors to the bucket start.
    public async Task<IReadOnlyDictionary<long, int>> CountRawAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default) =>
        (await QueryAsync(
            "SELECT (ts / @w) * @w AS b, COUNT(*) FROM ms_metric_raw WHERE server_id = @s AND ts >= @f AND ts < @t GROUP BY (ts / @w)",
            [("@w", stepSeconds * 1000L), ("@s", serverId), ("@f", fromMs), ("@t", toMs)],
            r => (Bucket: r.GetInt64(0), Count: (int)r.GetInt64(1)),
            cancellationToken).ConfigureAwait(false)).ToDictionary(x => x.Bucket, x => x.Count);

    public async Task<IReadOnlyList<AggregateBucket>> ReadAggregatesAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default) =>
        await QueryAsync(
            "SELECT bucket, samples, payload FROM ms_metric_agg WHERE server_id = @s AND step = @w AND bucket >= @f AND bucket < @t ORDER BY bucket",
            [("@s", serverId), ("@w", stepSeconds), ("@f", fromMs), ("@t", toMs)],
            r => new AggregateBucket(r.GetInt64(0), stepSeconds, r.GetInt32(1), MetricsCodec.DecodeAggregates((byte[])r.GetValue(2))),
            cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyDictionary<long, int>> CountAggregatesAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default) =>
        (await QueryAsync(
            "SELECT bucket, samples FROM ms_metric_agg WHERE server_id = @s AND step = @w AND bucket >= @f AND bucket < @t",
            [("@s", serverId), ("@w", stepSeconds), ("@f", fromMs), ("@t", toMs)],
            r => (Bucket: r.GetInt64(0), Count: r.GetInt32(1)),
            cancellationToken).ConfigureAwait(false)).ToDictionary(x => x.Bucket, x => x.Count);

    public Task DeleteBeforeAsync(string serverId, long rawBeforeMs, long minutesBeforeMs, long hoursBeforeMs, CancellationToken cancellationToken = default) =>
        QueryAsync(
            """
            DELETE FROM ms_metric_raw WHERE server_id = @s AND ts < @r;
            DELETE FROM ms_metric_agg WHERE server_id = @s AND ((step < 3600 AND bucket < @m) OR (step >= 3600 AND bucket < @h))
            """,
            [("@s", serverId), ("@r", rawBeforeMs), ("@m", minutesBeforeMs), ("@h", hoursBeforeMs)],
            static _ => 0,
            cancellationToken);

    public Task DeleteServerAsync(string serverId, CancellationToken cancellationToken = default) =>
        DeleteBeforeAsync(serverId, long.MaxValue, long.MaxValue, long.MaxValue, cancellationToken);

    /// <summary>
    /// Runs one statement and maps its rows. PostgreSQL: truly asynchronous. SQLite: Microsoft.Data.Sqlite's
    /// async calls block their thread, so SQLite statements run on the thread pool through a narrow lane
    /// (<see cref="SqliteReadLanes"/> at a time): thousands of grains reading at once wait asynchronously
    /// for a lane instead of each blocking a thread.
    /// </summary>
    private async Task<List<T>> QueryAsync<T>(string sql, (string Name, object Value)[] parameters, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await RunAsync().ConfigureAwait(false);
        }

        await _sqliteLanes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(RunAsync, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sqliteLanes.Release();
        }

        async Task<List<T>> RunAsync()
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                Add(command, name, value);
            }

            var result = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(map(reader));
            }

            return result;
        }
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }

        var connection = new SqliteConnection(_config.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var rows = 0;
            while (rows < MaxRowsPerCommit && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                rows += next.Rows;
            }

            try
            {
                await CommitWithRetryAsync(batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogCommitFailed(ex, batch.Count);
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(ex);
                }
            }
        }
    }

    private async Task CommitWithRetryAsync(List<Pending> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var inserted = IsPostgres ? await CommitPostgresAsync(batch).ConfigureAwait(false) : await CommitSqliteAsync(batch).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(inserted[i]);
                }

                return;
            }
            catch (Exception ex) when (attempt < 3 && ex is DbException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
            }
        }
    }

    private async Task<List<IReadOnlyList<long>>> CommitSqliteAsync(List<Pending> batch)
    {
        await using var connection = new SqliteConnection(_config.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync().ConfigureAwait(false);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR IGNORE INTO ms_metric_raw (server_id, ts, payload) VALUES ($s, $t, $p)";
        var s = insert.Parameters.Add("$s", SqliteType.Text);
        var t = insert.Parameters.Add("$t", SqliteType.Integer);
        var p = insert.Parameters.Add("$p", SqliteType.Blob);
        await using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = "INSERT OR REPLACE INTO ms_metric_agg (server_id, step, bucket, samples, payload) VALUES ($s, $w, $b, $n, $p)";
        var us = upsert.Parameters.Add("$s", SqliteType.Text);
        var uw = upsert.Parameters.Add("$w", SqliteType.Integer);
        var ub = upsert.Parameters.Add("$b", SqliteType.Integer);
        var un = upsert.Parameters.Add("$n", SqliteType.Integer);
        var up = upsert.Parameters.Add("$p", SqliteType.Blob);

        var results = new List<IReadOnlyList<long>>(batch.Count);
        foreach (var pending in batch)
        {
            var inserted = new List<long>();
            foreach (var sample in pending.Samples ?? [])
            {
                s.Value = pending.ServerId;
                t.Value = sample.TimeMs;
                p.Value = MetricsCodec.EncodeValues(sample.Values);
                if (await insert.ExecuteNonQueryAsync().ConfigureAwait(false) == 1)
                {
                    inserted.Add(sample.TimeMs);
                }
            }

            foreach (var bucket in pending.Buckets ?? [])
            {
                us.Value = pending.ServerId;
                uw.Value = bucket.StepSeconds;
                ub.Value = bucket.StartMs;
                un.Value = bucket.SampleCount;
                up.Value = MetricsCodec.EncodeAggregates(bucket.Metrics);
                await upsert.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            results.Add(inserted);
        }

        await transaction.CommitAsync().ConfigureAwait(false);
        return results;
    }

    private async Task<List<IReadOnlyList<long>>> CommitPostgresAsync(List<Pending> batch)
    {
        var rawServers = new List<string>();
        var rawTimes = new List<long>();
        var rawPayloads = new List<byte[]>();

        // One statement cannot touch a row twice (ON CONFLICT DO UPDATE): the last write of a bucket in this group wins,
        // as it would one statement at a time.
        var aggregates = new Dictionary<(string Server, int Step, long Start), AggregateBucket>();
        foreach (var pending in batch)
        {
            foreach (var sample in pending.Samples ?? [])
            {
                rawServers.Add(pending.ServerId);
                rawTimes.Add(sample.TimeMs);
                rawPayloads.Add(MetricsCodec.EncodeValues(sample.Values));
            }

            foreach (var bucket in pending.Buckets ?? [])
            {
                aggregates[(pending.ServerId, bucket.StepSeconds, bucket.StartMs)] = bucket;
            }
        }

        var inserted = new HashSet<(string, long)>();
        await using var connection = await _postgres!.OpenConnectionAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        if (rawServers.Count > 0)
        {
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO ms_metric_raw (server_id, ts, payload)
                SELECT * FROM unnest(@s, @t, @p)
                ON CONFLICT DO NOTHING
                RETURNING server_id, ts
                """,
                connection,
                transaction);
            insert.Parameters.Add(new NpgsqlParameter("s", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rawServers.ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("t", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = rawTimes.ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = rawPayloads.ToArray() });
            await using var reader = await insert.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                inserted.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        if (aggregates.Count > 0)
        {
            await using var upsert = new NpgsqlCommand(
                """
                INSERT INTO ms_metric_agg (server_id, step, bucket, samples, payload)
                SELECT * FROM unnest(@s, @w, @b, @n, @p)
                ON CONFLICT (server_id, step, bucket) DO UPDATE SET samples = excluded.samples, payload = excluded.payload
                """,
                connection,
                transaction);
            upsert.Parameters.Add(new NpgsqlParameter("s", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = aggregates.Keys.Select(k => k.Server).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("w", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = aggregates.Keys.Select(k => k.Step).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("b", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = aggregates.Keys.Select(k => k.Start).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("n", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = aggregates.Values.Select(b => b.SampleCount).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = aggregates.Values.Select(b => MetricsCodec.EncodeAggregates(b.Metrics)).ToArray() });
            await upsert.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await transaction.CommitAsync().ConfigureAwait(false);
        return [.. batch.Select(p => (IReadOnlyList<long>)[.. (p.Samples ?? []).Select(s => s.TimeMs).Where(t => inserted.Remove((p.ServerId, t)))])];
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Error, Message = "Writing monitoring data failed ({Count} requests); the senders will retry")]
    private partial void LogCommitFailed(Exception exception, int count);

    private sealed class Pending(string serverId, IReadOnlyList<StoredSample>? samples, IReadOnlyList<AggregateBucket>? buckets)
    {
        public string ServerId { get; } = serverId;

        public IReadOnlyList<StoredSample>? Samples { get; } = samples;

        public IReadOnlyList<AggregateBucket>? Buckets { get; } = buckets;

        public int Rows => (Samples?.Count ?? 0) + (Buckets?.Count ?? 0);

        public TaskCompletionSource<IReadOnlyList<long>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
