using System.Diagnostics;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Servers;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Monitoring;
using ManagedServers.Silo.Monitoring;
using ManagedServers.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Hosting;
using Orleans.TestingHost;
using Xunit;

namespace ManagedServers.Silo.Tests.Monitoring;

/// <summary>
/// Monitoring data in both storage modes: the SQL store itself (exactly-once appends, group commit,
/// upserts, counts, deletes) and the server grain on a 2-silo cluster (rollups, reconciliation after
/// lost rollups, retention) — the same tests for SQLite and PostgreSQL.
/// </summary>
public abstract class MetricsConformanceTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly List<string> _created = [];
    private readonly List<string> _dataDirs = [];

    protected abstract StorageMode Mode { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var dir in _dataDirs.Where(Directory.Exists))
        {
            Directory.Delete(dir, recursive: true); // the silos' secret key
        }

        if (Mode == StorageMode.Postgres)
        {
            await TestPostgres.DropAsync([.. _created]);
            return;
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var dir in _created)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>A fresh database: a new SQLite directory or a new PostgreSQL database (created by schema setup).</summary>
    private StorageConfig NewDatabase()
    {
        if (Mode == StorageMode.Postgres)
        {
            var name = TestPostgres.NewDatabaseName("ms_metrics_");
            _created.Add(name);
            return StorageConfig.Postgres(TestPostgres.ConnectionString(name));
        }

        var dir = Path.Combine(Path.GetTempPath(), "ms-metrics-" + Guid.NewGuid().ToString("N")[..12]);
        _created.Add(dir);
        return StorageConfig.Sqlite(dir);
    }

    [Fact]
    public async Task Store_keeps_each_sample_once_and_group_commits_concurrent_appends()
    {
        var config = NewDatabase();
        await SchemaSetup.EnsureAsync(config, CancellationToken.None);
        await using var store = new SqlMetricsStore(config, NullLogger<SqlMetricsStore>.Instance);
        var t0 = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();

        // 40 servers × 50 samples, appended concurrently, each batch twice.
        var servers = Enumerable.Range(0, 40).Select(i => $"srv-{i}").ToArray();
        var batches = servers.Select(s => (Server: s, Samples: (IReadOnlyList<StoredSample>)[.. Enumerable.Range(0, 50).Select(i => Sample(t0 + (i * 5000), i))])).ToList();
        var first = await Task.WhenAll(batches.Select(b => store.AppendRawAsync(b.Server, b.Samples)));
        var second = await Task.WhenAll(batches.Select(b => store.AppendRawAsync(b.Server, b.Samples)));
        Assert.All(first, inserted => Assert.Equal(50, inserted.Count));
        Assert.All(second, inserted => Assert.Empty(inserted));

        var rows = await store.ReadRawAsync("srv-7", t0, t0 + (50 * 5000), 1000);
        Assert.Equal(50, rows.Count);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (double)i), rows.Select(r => r.Values[SystemMetricNames.Load1]));
        Assert.Equal(rows.OrderBy(r => r.TimeMs).Select(r => r.TimeMs), rows.Select(r => r.TimeMs));

        var limited = await store.ReadRawAsync("srv-7", t0 + 5000, t0 + (50 * 5000), 3);
        Assert.Equal([t0 + 5000, t0 + 10000, t0 + 15000], limited.Select(r => r.TimeMs));

        var counts = await store.CountRawAsync("srv-7", 60, t0, t0 + (50 * 5000));
        Assert.Equal(50, counts.Values.Sum());

        // Aggregates: insert, replace, count, read.
        var bucket = new AggregateBucket(Resolutions.BucketOf(t0, 60), 60, 3, new Dictionary<string, MetricAggregate> { ["m"] = new(1, 3, 6, 3, 3) });
        await store.UpsertAggregatesAsync("srv-7", [bucket]);
        await store.UpsertAggregatesAsync("srv-7", [bucket with { SampleCount = 4, Metrics = new Dictionary<string, MetricAggregate> { ["m"] = new(1, 4, 10, 4, 4) } }]);
        var read = Assert.Single(await store.ReadAggregatesAsync("srv-7", 60, bucket.StartMs, bucket.StartMs + 1));
        Assert.Equal(4, read.SampleCount);
        Assert.Equal(new MetricAggregate(1, 4, 10, 4, 4), read.Metrics["m"]);
        Assert.Equal(4, (await store.CountAggregatesAsync("srv-7", 60, 0, long.MaxValue))[bucket.StartMs]);

        // Deleting before a time removes exactly the older rows of that server.
        var hourBucket = bucket with { StartMs = Resolutions.BucketOf(t0, 3600) - (3600 * 1000), StepSeconds = 3600 };
        await store.UpsertAggregatesAsync("srv-7", [hourBucket]);
        await store.DeleteBeforeAsync("srv-7", t0 + (10 * 5000), bucket.StartMs, hourBucket.StartMs);
        Assert.Single(await store.ReadAggregatesAsync("srv-7", 3600, 0, long.MaxValue)); // an older hour bucket outlives the minute cutoff
        Assert.Equal(40, (await store.ReadRawAsync("srv-7", 0, long.MaxValue, 1000)).Count);
        Assert.Single(await store.ReadAggregatesAsync("srv-7", 60, 0, long.MaxValue));
        Assert.Equal(50, (await store.ReadRawAsync("srv-8", 0, long.MaxValue, 1000)).Count);
        await store.DeleteServerAsync("srv-7");
        Assert.Empty(await store.ReadRawAsync("srv-7", 0, long.MaxValue, 1000));
        Assert.Empty(await store.ReadAggregatesAsync("srv-7", 60, 0, long.MaxValue));
    }

    [Fact]
    public async Task Grain_rolls_up_reconciles_lost_rollups_and_enforces_retention()
    {
        var config = NewDatabase();
        var cluster = await StartClusterAsync(config);
        try
        {
            var id = "metrics-" + Guid.NewGuid().ToString("N")[..8];
            await cluster.Client.GetGrain<IManagedServerGrain>(id).CreateAsync(
                new ServerDefinition(id, ServerKind.Dns, "127.0.0.1", "debian", AgentRuntime.Docker, CommunicationMode.Push, string.Empty, string.Empty));
            var metrics = cluster.Client.GetGrain<IServerMetricsGrain>(id);

            // Two hours of samples every 10 s, ending at a whole hour at least an hour ago; load1 = minute index,
            // memory = second within the minute. Plus ten samples two days ago.
            var end = Resolutions.BucketOf(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds(), 3600);
            var start = end - (2 * 3600 * 1000);
            var recent = Enumerable.Range(0, 720).Select(i => start + (i * 10_000L)).ToList();
            var old = Enumerable.Range(0, 10).Select(i => start - (2 * 86_400_000L) + (i * 10_000L)).ToList();
            var all = old.Concat(recent).ToList();
            var result = await metrics.IngestAsync(Batch(id, all));
            Assert.Equal(new MetricsIngestResult(730, 0, 0), result);
            Assert.Equal(new MetricsIngestResult(0, 730, 0), await metrics.IngestAsync(Batch(id, all))); // a retried batch stores nothing
            Assert.Equal(1, (await metrics.IngestAsync(Batch(id, [DateTimeOffset.UtcNow.AddDays(-40).ToUnixTimeMilliseconds()]))).Rejected);

            // Per-minute aggregates: 120 minutes of 6 samples; load1 constant per minute, memory 0..50.
            var minutes = await WaitForAsync(
                () => metrics.GetAggregatesAsync(DateTimeOffset.FromUnixTimeMilliseconds(start), DateTimeOffset.FromUnixTimeMilliseconds(end), 60, MetricFilter.All),
                m => m.Length == 120 && m.All(b => b.SampleCount == 6),
                "120 minute aggregates of 6 samples");
            var third = minutes[3];
            Assert.Equal(start + (3 * 60_000), third.StartMs);
            Assert.Equal(new MetricAggregate(3, 3, 18, 3, 6), third.Metrics[SystemMetricNames.Load1]);
            Assert.Equal(new MetricAggregate(0, 50, 150, 50, 6), third.Metrics[SystemMetricNames.MemoryUsedPercent]);

            var hours = await WaitForAsync(
                () => metrics.GetAggregatesAsync(DateTimeOffset.FromUnixTimeMilliseconds(start), DateTimeOffset.FromUnixTimeMilliseconds(end), 3600, MetricFilter.All),
                h => h.Length == 2 && h.All(b => b.SampleCount == 360),
                "2 hour aggregates of 360 samples");
            Assert.Equal(0, hours[0].Metrics[SystemMetricNames.Load1].Min);
            Assert.Equal(59, hours[0].Metrics[SystemMetricNames.Load1].Max);
            Assert.Equal(119, hours[1].Metrics[SystemMetricNames.Load1].Last);

            // A 5-minute step combines minutes; a metric filter keeps only what was asked for.
            var fives = await metrics.GetAggregatesAsync(DateTimeOffset.FromUnixTimeMilliseconds(start), DateTimeOffset.FromUnixTimeMilliseconds(end), 300, MetricFilter.Parse("cpu.*"));
            Assert.Equal(24, fives.Length);
            Assert.All(fives, b => Assert.Equal([SystemMetricNames.Load1], b.Metrics.Keys));

            // Raw reads: the window in order, filtered.
            var raw = await metrics.GetRawAsync(DateTimeOffset.FromUnixTimeMilliseconds(start), DateTimeOffset.FromUnixTimeMilliseconds(start + 60_000), MetricFilter.Parse(SystemMetricNames.Load1), 100);
            Assert.Equal(recent.Take(6), raw.Select(r => r.TimeMs));
            Assert.All(raw, r => Assert.Equal([SystemMetricNames.Load1], r.Values.Keys));

            // Samples stored behind the grain's back (as when a silo died between storing and rolling up) are
            // found by the reconciliation reminder and their minute is re-aggregated.
            await using (var store = new SqlMetricsStore(config, NullLogger<SqlMetricsStore>.Instance))
            {
                await store.AppendRawAsync(id, [Sample(start + (3 * 60_000) + 5_000, 100)]);
            }

            await WaitForAsync(
                () => metrics.GetAggregatesAsync(DateTimeOffset.FromUnixTimeMilliseconds(start + (3 * 60_000)), DateTimeOffset.FromUnixTimeMilliseconds(start + (4 * 60_000)), 60, MetricFilter.All),
                m => m.Length == 1 && m[0].SampleCount == 7 && m[0].Metrics[SystemMetricNames.Load1].Max == 100,
                "the reconciled minute to count 7 samples");

            // Retention: raw kept 90 minutes, aggregates 1 day; exactly the newer data remains.
            var settings = cluster.Client.GetGrain<IMonitoringSettingsGrain>("monitoring");
            await settings.SetAsync(await settings.GetAsync() with { RawRetentionMinutes = 90, AggregateRetentionDays = 1 });
            var rawCutoff = DateTimeOffset.UtcNow.AddMinutes(-90).ToUnixTimeMilliseconds();
            var expectedRaw = recent.Count(t => t >= rawCutoff + 120_000); // two minutes of slack for the clock moving on
            await WaitForAsync(
                () => metrics.GetRawAsync(DateTimeOffset.FromUnixTimeMilliseconds(0), DateTimeOffset.UtcNow, MetricFilter.All, 20_000),
                r => r.Length <= recent.Count(t => t >= rawCutoff - 120_000) && r.Length >= expectedRaw && r.All(s => s.TimeMs >= rawCutoff - 120_000),
                "raw samples older than 90 minutes to be deleted");
            var left = await WaitForAsync(
                () => metrics.GetAggregatesAsync(DateTimeOffset.FromUnixTimeMilliseconds(0), DateTimeOffset.UtcNow, 60, MetricFilter.All),
                m => m.Length == 120,
                "the two-day-old minute aggregates to be deleted");
            Assert.Equal(start, left[0].StartMs);
        }
        finally
        {
            await StorageTestCluster.StopQuietlyAsync(cluster);
        }
    }

    private static StoredSample Sample(long timeMs, double load) =>
        new(timeMs, new Dictionary<string, double> { [SystemMetricNames.Load1] = load, [SystemMetricNames.MemoryUsedPercent] = 42 });

    private static MetricsBatch Batch(string id, IReadOnlyList<long> times)
    {
        var samples = times.Select(t =>
        {
            var minute = Resolutions.BucketOf(t, 60);
            return new SystemSample(DateTimeOffset.FromUnixTimeMilliseconds(t), new Dictionary<string, double>
            {
                [SystemMetricNames.Load1] = MinuteIndex(t, times),
                [SystemMetricNames.MemoryUsedPercent] = (t - minute) / 1000.0,
            });
        }).ToList();
        return new MetricsBatch(id, Guid.NewGuid(), samples);
    }

    /// <summary>Minutes since the first of the two recent hours (ten-second samples, so the recent run is the last 720).</summary>
    private static double MinuteIndex(long t, IReadOnlyList<long> times)
    {
        var start = times.Count >= 720 ? times[^720] : times[0];
        return t >= start ? (t - start) / 60_000 : 0;
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > Deadline)
            {
                Assert.Fail($"Timed out after {Deadline.TotalSeconds:0} s waiting for {what}.");
            }

            await Task.Delay(250);
        }
    }

    private async Task<TestCluster> StartClusterAsync(StorageConfig config)
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ServiceId = "metrics-" + Guid.NewGuid().ToString("N");
        builder.Properties["Test:StorageMode"] = config.Mode.ToString();
        builder.Properties["Test:ConnectionString"] = config.ConnectionString;
        var dataDir = Path.Combine(Path.GetTempPath(), "ms-metrics-" + Guid.NewGuid().ToString("N")[..12]);
        _dataDirs.Add(dataDir);
        builder.Properties["DataDir"] = dataDir;
        builder.Properties["Orleans:MinimumReminderPeriod"] = "00:00:01";
        builder.Properties["ServerGrain:RollupTimerPeriod"] = "00:00:01";
        builder.Properties["ServerGrain:MetricsReminderPeriod"] = "00:00:03";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var c = siloBuilder.Configuration;
            var storage = new StorageConfig(Enum.Parse<StorageMode>(c["Test:StorageMode"]!), c["Test:ConnectionString"]!);
            siloBuilder.ConfigureManagedServers(c, storage, configureClustering: false);
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddMemoryStreams(StreamNames.IngestProvider);
    }
}

public sealed class SqliteMetricsConformanceTests : MetricsConformanceTests
{
    protected override StorageMode Mode => StorageMode.Sqlite;
}

public sealed class PostgresMetricsConformanceTests : MetricsConformanceTests
{
    protected override StorageMode Mode => StorageMode.Postgres;
}
