using System.Diagnostics;
using ManagedServers.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;
using Xunit;

namespace ManagedServers.Silo.Tests;

/// <summary>
/// One conformance suite for every storage mode: each subclass supplies a fixture with a fresh
/// database and a running 2-silo cluster. Waits poll with generous deadlines (slow CI machines);
/// nothing asserts on timing.
/// </summary>
public abstract class StorageConformanceTests(StorageClusterFixture fixture)
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(60);

    protected StorageClusterFixture Fixture { get; } = fixture;

    private TestCluster Cluster => Fixture.Cluster;

    [Fact]
    public async Task Schema_setup_is_idempotent_and_safe_to_run_concurrently()
    {
        var config = await Fixture.CreateDatabaseAsync();

        // Several silos starting at once against a database that does not exist yet (Postgres) or a
        // missing file (SQLite): all must succeed, and applying again must be a no-op.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SchemaSetup.EnsureAsync(config, CancellationToken.None)));
        Assert.False(await SchemaSetup.EnsureAsync(config, CancellationToken.None));

        switch (config.Mode)
        {
            case StorageMode.Sqlite:
                await SchemaSetup.EnsureSqliteAsync(config.ConnectionString);
                break;
            case StorageMode.Postgres:
                await SchemaSetup.EnsurePostgresAsync(config.ConnectionString);
                break;
        }
    }

    [Fact]
    public async Task State_round_trip_survives_deactivation_and_a_fresh_cluster()
    {
        var key = "roundtrip-" + Guid.NewGuid().ToString("N");
        var grain = Cluster.Client.GetGrain<IStorageTestGrain>(key);

        await grain.SetAsync(42, "forty-two");
        var firstActivation = await grain.GetActivationIdAsync();

        await grain.DeactivateAsync();
        await WaitUntilAsync(
            async () => await grain.GetActivationIdAsync() != firstActivation,
            "the grain to be deactivated and re-activated");

        var afterDeactivation = await grain.GetAsync();
        Assert.Equal(42, afterDeactivation.Value);
        Assert.Equal("forty-two", afterDeactivation.Label);
        Assert.True(await grain.RecordExistsAsync());

        // A brand-new cluster (new silos, new cluster id) on the same database and ServiceId, as after
        // a full restart of the service.
        var restarted = await StorageTestCluster.StartAsync(Fixture.Config, Fixture.ServiceId, silos: 1);
        try
        {
            var sameGrain = restarted.Client.GetGrain<IStorageTestGrain>(key);
            var afterRestart = await sameGrain.GetAsync();
            Assert.Equal(42, afterRestart.Value);
            Assert.Equal("forty-two", afterRestart.Label);

            // The restored ETag is usable for the next write.
            await sameGrain.SetAsync(43, "forty-three");
            Assert.Equal(43, (await sameGrain.ReadFromStorageAsync()).Value);
        }
        finally
        {
            await StorageTestCluster.StopQuietlyAsync(restarted);
        }
    }

    [Fact]
    public async Task Clear_state_then_read_gives_default_state()
    {
        var grain = Cluster.Client.GetGrain<IStorageTestGrain>("clear-" + Guid.NewGuid().ToString("N"));
        await grain.SetAsync(7, "seven");

        await grain.ClearAsync();

        var read = await grain.ReadFromStorageAsync();
        Assert.Equal(0, read.Value);
        Assert.Null(read.Label);
        Assert.False(await grain.RecordExistsAsync());

        // Still default after a new activation, and writable again afterwards.
        var firstActivation = await grain.GetActivationIdAsync();
        await grain.DeactivateAsync();
        await WaitUntilAsync(
            async () => await grain.GetActivationIdAsync() != firstActivation,
            "the grain to be re-activated");
        Assert.Equal(0, (await grain.GetAsync()).Value);

        await grain.SetAsync(8, "eight");
        Assert.Equal(8, (await grain.ReadFromStorageAsync()).Value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Grain_storage_rejects_stale_etags(bool guidKey)
    {
        var storage = Cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>(StorageSiloBuilderExtensions.DefaultStorageName);
        const string grainType = "managedservers.conformance.etag";
        var grainId = guidKey
            ? GrainId.Create(GrainType.Create(grainType), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid()))
            : GrainId.Create(grainType, "etag-" + Guid.NewGuid().ToString("N"));

        var empty = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(grainType, grainId, empty);
        Assert.False(empty.RecordExists);
        Assert.Null(empty.ETag);

        var writer = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync(grainType, grainId, writer);
        Assert.NotNull(writer.ETag);
        Assert.True(writer.RecordExists);
        var staleETag = writer.ETag;

        // A second writer that believes the record does not exist yet (double activation).
        var duplicate = new GrainState<CounterState>(new CounterState { Value = 99 });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(grainType, grainId, duplicate));

        writer.State!.Value = 2;
        await storage.WriteStateAsync(grainType, grainId, writer);
        Assert.NotEqual(staleETag, writer.ETag);

        var stale = new GrainState<CounterState>(new CounterState { Value = 3 }) { ETag = staleETag, RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(grainType, grainId, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(grainType, grainId, stale));

        var read = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(grainType, grainId, read);
        Assert.Equal(2, read.State!.Value);
        Assert.Equal(writer.ETag, read.ETag);
        Assert.True(read.RecordExists);

        // Clear with the current ETag deletes the row (DeleteStateOnClear): no ETag is left, an activation still holding
        // an older ETag can neither update nor re-insert it, and a writer without an ETag starts the record again.
        await storage.ClearStateAsync(grainType, grainId, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(grainType, grainId, writer));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(grainType, grainId, writer));

        var cleared = new GrainState<CounterState>(new CounterState { Value = -1 });
        await storage.ReadStateAsync(grainType, grainId, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Equal(0, cleared.State!.Value);
        Assert.Null(cleared.ETag);

        cleared.State.Value = 5;
        await storage.WriteStateAsync(grainType, grainId, cleared);
        var final = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(grainType, grainId, final);
        Assert.Equal(5, final.State!.Value);
        Assert.True(final.RecordExists);
    }

    [Fact]
    public async Task Reminder_table_upsert_read_and_remove_honour_etags()
    {
        var table = Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var grainId = GrainId.Create("managedservers.conformance.reminder", Guid.NewGuid().ToString("N"));
        var startAt = TruncateToMilliseconds(DateTime.UtcNow.AddDays(1));

        Assert.Null(await table.ReadRow(grainId, "first"));
        Assert.Empty((await table.ReadRows(grainId)).Reminders);

        var first = new ReminderEntry { GrainId = grainId, ReminderName = "first", StartAt = startAt, Period = TimeSpan.FromMinutes(5) };
        var etag1 = await table.UpsertRow(first);
        Assert.False(string.IsNullOrEmpty(etag1));

        var read = await table.ReadRow(grainId, "first");
        Assert.NotNull(read);
        Assert.Equal(grainId, read.GrainId);
        Assert.Equal("first", read.ReminderName);
        Assert.Equal(startAt, read.StartAt.ToUniversalTime());
        Assert.Equal(TimeSpan.FromMinutes(5), read.Period);
        Assert.Equal(etag1, read.ETag);

        var updated = new ReminderEntry { GrainId = grainId, ReminderName = "first", StartAt = startAt.AddMinutes(1), Period = TimeSpan.FromMinutes(7) };
        var etag2 = await table.UpsertRow(updated);
        Assert.False(string.IsNullOrEmpty(etag2));
        Assert.NotEqual(etag1, etag2);

        read = await table.ReadRow(grainId, "first");
        Assert.NotNull(read);
        Assert.Equal(etag2, read.ETag);
        Assert.Equal(TimeSpan.FromMinutes(7), read.Period);
        Assert.Equal(startAt.AddMinutes(1), read.StartAt.ToUniversalTime());

        var second = new ReminderEntry { GrainId = grainId, ReminderName = "second", StartAt = startAt, Period = TimeSpan.FromHours(1) };
        var etagSecond = await table.UpsertRow(second);
        var rows = (await table.ReadRows(grainId)).Reminders;
        Assert.Equal(["first", "second"], rows.Select(r => r.ReminderName).Order().ToArray());

        // Removing with a stale ETag is refused and leaves the row in place.
        Assert.False(await table.RemoveRow(grainId, "first", etag1!));
        Assert.NotNull(await table.ReadRow(grainId, "first"));

        Assert.True(await table.RemoveRow(grainId, "first", etag2!));
        Assert.Null(await table.ReadRow(grainId, "first"));
        Assert.False(await table.RemoveRow(grainId, "first", etag2!));

        // Re-inserting after removal issues an ETag the old holders cannot use.
        var etag3 = await table.UpsertRow(first);
        Assert.NotEqual(etag1, etag3);
        Assert.NotEqual(etag2, etag3);
        Assert.False(await table.RemoveRow(grainId, "first", etag2!));

        Assert.True(await table.RemoveRow(grainId, "first", etag3!));
        Assert.True(await table.RemoveRow(grainId, "second", etagSecond!));
        Assert.Empty((await table.ReadRows(grainId)).Reminders);
    }

    [Fact]
    public async Task Reminder_table_range_reads_follow_ring_semantics()
    {
        var table = Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var prefix = Guid.NewGuid().ToString("N");
        var startAt = TruncateToMilliseconds(DateTime.UtcNow.AddDays(1));
        var grains = Enumerable.Range(0, 48)
            .Select(i => GrainId.Create("managedservers.conformance.range", $"{prefix}-{i}"))
            .ToList();
        var etags = new Dictionary<GrainId, string>();
        foreach (var grain in grains)
        {
            etags[grain] = (await table.UpsertRow(new ReminderEntry
            {
                GrainId = grain,
                ReminderName = "range",
                StartAt = startAt,
                Period = TimeSpan.FromHours(1),
            }))!;
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).Order().ToArray();
        var ranges = new List<(uint Begin, uint End)>
        {
            (hashes[5], hashes[20]),                  // plain range, both ends on existing hashes
            (hashes[40], hashes[7]),                  // wraps around zero
            (hashes[12], hashes[12]),                 // begin == end: the whole ring
            (hashes[0] - 1, hashes[^1]),              // everything
            (0u, uint.MaxValue),                      // everything except a hash of exactly 0
            (uint.MaxValue, 0u),                      // only a hash of exactly 0
            (0x1000_0000u, 0xF000_0000u),             // crosses 2^31 without wrapping (signed order wraps)
            (0xF000_0000u, 0x1000_0000u),             // wraps; crosses zero
            (0x7FFF_FFFFu, 0x8000_0000u),             // tiny range straddling 2^31
            (0x8000_0000u, 0x7FFF_FFFFu),             // everything but that sliver
            (0x4000_0000u, 0x6000_0000u),             // non-wrapping in both signed and unsigned order
            (0xA000_0000u, 0xC000_0000u),
        };

        try
        {
            foreach (var (begin, end) in ranges)
            {
                var expected = grains.Where(g => InRange(g.GetUniformHashCode(), begin, end)).Select(g => g.ToString()).Order().ToArray();
                var actual = (await table.ReadRows(begin, end)).Reminders
                    .Where(r => grains.Contains(r.GrainId))
                    .Select(r => r.GrainId.ToString())
                    .Order()
                    .ToArray();
                Assert.True(
                    expected.SequenceEqual(actual),
                    $"Range ({begin:X8}, {end:X8}]: expected {expected.Length} rows, got {actual.Length}.");
            }
        }
        finally
        {
            foreach (var grain in grains)
            {
                await table.RemoveRow(grain, "range", etags[grain]);
            }
        }

        Assert.DoesNotContain((await table.ReadRows(0u, 0u)).Reminders, r => grains.Contains(r.GrainId));
    }

    [Fact]
    public async Task Registered_reminder_fires()
    {
        var key = "fires-" + Guid.NewGuid().ToString("N");
        var grain = Cluster.Client.GetGrain<IReminderTestGrain>(key);
        await grain.StartAsync("tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        try
        {
            var table = Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
            var row = await table.ReadRow(grain.GetGrainId(), "tick");
            Assert.NotNull(row);
            Assert.Equal(TimeSpan.FromSeconds(1), row.Period);

            await WaitUntilAsync(() => Task.FromResult(ReminderTickLog.For(key).Count >= 2), "two reminder ticks");
        }
        finally
        {
            await grain.StopAsync("tick");
        }
    }

    [Fact]
    public async Task Reminders_keep_firing_after_the_hosting_silo_stops()
    {
        // A cluster of its own (this test stops a silo) on the same database, with its own ServiceId.
        var cluster = await StorageTestCluster.StartAsync(Fixture.Config, "failover-" + Guid.NewGuid().ToString("N"), silos: 2);
        try
        {
            // With the TestingHost's development membership (SQLite mode) the first silo hosts the
            // membership table, so the grains must live on the other silo: pick keys whose activation
            // lands there. Several grains make it (all but) certain that the stopped silo also owned
            // some of the reminders, so the survivor has to take them over by reading its new ring
            // ranges from the reminder table.
            const int GrainCount = 6;
            var victim = cluster.Silos[^1];
            var survivor = cluster.Silos[0];
            var grains = new List<(string Key, IReminderTestGrain Grain)>();
            // Placement only uses the second silo once the cluster's view has it: right after start it may not, so
            // keep trying for a while (with a pause now and then) instead of a fixed number of attempts.
            var placementDeadline = DateTime.UtcNow.AddSeconds(60);
            for (var attempt = 0; DateTime.UtcNow < placementDeadline && grains.Count < GrainCount; attempt++)
            {
                var key = $"failover-{attempt}-{Guid.NewGuid():N}";
                var candidate = cluster.Client.GetGrain<IReminderTestGrain>(key);
                if ((await candidate.GetSiloAsync()).Equals(victim.SiloAddress))
                {
                    grains.Add((key, candidate));
                }
                else if (attempt % 20 == 19)
                {
                    await Task.Delay(250);
                }
            }

            Assert.Equal(GrainCount, grains.Count);
            foreach (var (_, grain) in grains)
            {
                await grain.StartAsync("failover", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }

            await WaitUntilAsync(
                () => Task.FromResult(grains.All(g => ReminderTickLog.For(g.Key).Count(t => t.Silo.Equals(victim.SiloAddress)) >= 2)),
                "every reminder to tick twice on the hosting silo before it stops");

            await cluster.StopSiloAsync(victim);
            var stoppedAt = DateTime.UtcNow;

            await WaitUntilAsync(
                () => Task.FromResult(grains.All(g => ReminderTickLog.For(g.Key)
                    .Count(t => t.ReceivedAtUtc > stoppedAt && t.Silo.Equals(survivor.SiloAddress)) >= 2)),
                "every reminder to tick twice on the surviving silo after the hosting silo stopped",
                TimeSpan.FromSeconds(120));

            foreach (var (_, grain) in grains)
            {
                await grain.StopAsync("failover");
            }
        }
        finally
        {
            await StorageTestCluster.StopQuietlyAsync(cluster);
        }
    }

    /// <summary>Orleans' ring-range membership for (begin, end]; begin == end is the whole ring.</summary>
    private static bool InRange(uint hash, uint begin, uint end)
        => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static DateTime TruncateToMilliseconds(DateTime value)
        => new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test when the deadline passes.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? WaitTimeout;
        var elapsed = Stopwatch.StartNew();
        while (!await condition())
        {
            if (elapsed.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }
}

public sealed class SqliteStorageConformanceTests(SqliteClusterFixture fixture)
    : StorageConformanceTests(fixture), IClassFixture<SqliteClusterFixture>;

public sealed class PostgresStorageConformanceTests(PostgresClusterFixture fixture)
    : StorageConformanceTests(fixture), IClassFixture<PostgresClusterFixture>;
