using ManagedServers.Agent.Monitoring;
using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Monitoring;

public sealed class TelemetrySpoolTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static TelemetrySpool<SystemSample> Open(string directory, int? maxItems = null, long? maxBytes = null) =>
        new(TelemetryPipelines.System.Spool, directory, maxItems, maxBytes);

    [Fact]
    public void Samples_come_back_oldest_first_with_their_values()
    {
        using var temp = new TempDir();
        var spool = Open(temp.Combine("spool"));
        spool.Append(Sample(2));
        spool.Append(Sample(0));
        spool.Append(Sample(1));
        spool.Append(Sample(1));

        var peeked = spool.PeekOldest(10);

        Assert.Equal([0, 1, 1, 2], peeked.Select(Index));
        Assert.Equal(0.5, peeked[0].Item.Values[SystemMetricNames.Load1]);
        Assert.Equal(T0, peeked[0].Item.Time);
        Assert.Equal(4, spool.Count);
        Assert.Equal([0, 1], spool.PeekOldest(2).Select(Index));
        Assert.Equal(4, spool.Count);
    }

    [Fact]
    public void File_names_sort_in_time_order_and_modes_are_private()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("state", "spool");
        var spool = Open(dir);
        spool.Append(Sample(100_000));
        spool.Append(Sample(9));

        var names = Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(2, names.Count);
        Assert.Equal(spool.PeekOldest(2).Select(s => s.Id), names);
        Assert.StartsWith(T0.AddSeconds(9).ToUnixTimeMilliseconds().ToString("D16", System.Globalization.CultureInfo.InvariantCulture) + "-", names[0], StringComparison.Ordinal);
        Assert.Equal(StateDirectory.DirectoryMode, File.GetUnixFileMode(dir));
        Assert.All(Directory.GetFiles(dir), f => Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(f)));
        Assert.Empty(Directory.GetFiles(dir, AtomicFile.TempPrefix + "*"));
    }

    [Fact]
    public void A_new_instance_on_the_same_directory_has_the_same_content()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        var first = Open(dir);
        for (var i = 0; i < 5; i++)
        {
            first.Append(Sample(i));
        }

        first.Remove(first.PeekOldest(2));
        File.WriteAllText(Path.Combine(dir, AtomicFile.TempPrefix + "interrupted"), "{\"ti");

        var second = Open(dir);

        Assert.Equal(3, second.Count);
        Assert.Equal(first.Bytes, second.Bytes);
        Assert.Equal(
            first.PeekOldest(10).Select(s => (s.Id, s.Item.Time, s.Item.Values[SystemMetricNames.Load1])),
            second.PeekOldest(10).Select(s => (s.Id, s.Item.Time, s.Item.Values[SystemMetricNames.Load1])));
        Assert.Empty(Directory.GetFiles(dir, AtomicFile.TempPrefix + "*"));

        // New samples after the restart sort after the old ones, even with the same time.
        second.Append(Sample(4));
        Assert.Equal([2, 3, 4, 4], second.PeekOldest(10).Select(Index));
        Assert.Equal(4, Open(dir).Count);
    }

    [Fact]
    public void Full_spool_drops_the_oldest_and_the_count_survives_a_restart()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        var spool = Open(dir, maxItems: 3);
        for (var i = 0; i < 5; i++)
        {
            spool.Append(Sample(i));
        }

        Assert.Equal(3, spool.Count);
        Assert.Equal(2, spool.DroppedTotal);
        Assert.Equal([2, 3, 4], spool.PeekOldest(10).Select(Index));
        Assert.Equal(3, Directory.GetFiles(dir, "*.json").Length);

        var reopened = Open(dir, maxItems: 3);
        Assert.Equal(2, reopened.DroppedTotal);
        reopened.Append(Sample(5));
        Assert.Equal(3, reopened.DroppedTotal);
        Assert.Equal([3, 4, 5], reopened.PeekOldest(10).Select(Index));

        // A smaller bound at start drops the excess oldest at once.
        var smaller = Open(dir, maxItems: 1);
        Assert.Equal(5, smaller.DroppedTotal);
        Assert.Equal([5], smaller.PeekOldest(10).Select(Index));
        Assert.Equal("5", File.ReadAllText(Path.Combine(dir, TelemetrySpool<SystemSample>.DroppedTotalFileName)).Trim());
    }

    [Fact]
    public void Byte_bound_drops_the_oldest()
    {
        using var temp = new TempDir();
        var probe = Open(temp.Combine("probe"));
        probe.Append(Sample(0));
        var oneSample = probe.Bytes;

        var spool = Open(temp.Combine("spool"), maxBytes: (oneSample * 2) + (oneSample / 2));
        for (var i = 0; i < 4; i++)
        {
            spool.Append(Sample(i));
        }

        Assert.Equal([2, 3], spool.PeekOldest(10).Select(Index));
        Assert.Equal(2, spool.DroppedTotal);
        Assert.True(spool.Bytes <= spool.MaxBytes);
    }

    [Fact]
    public void Remove_removes_only_the_given_samples()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        var spool = Open(dir);
        for (var i = 0; i < 4; i++)
        {
            spool.Append(Sample(i));
        }

        var batch = spool.PeekOldest(2);

        // A sample that sorts first arrives while the batch is in flight (the clock stepped back).
        spool.Append(Sample(-1));

        Assert.Equal(2, spool.Remove(batch));
        Assert.Equal(0, spool.Remove(batch));
        Assert.Equal([-1, 2, 3], spool.PeekOldest(10).Select(Index));
        Assert.Equal(3, Directory.GetFiles(dir, "*.json").Length);
        Assert.Equal(0, spool.DroppedTotal);
    }

    [Fact]
    public void Unreadable_files_are_set_aside_counted_and_skipped()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        var spool = Open(dir);
        var samples = Enumerable.Range(0, 4).Select(i => spool.Append(Sample(i))).ToList();
        File.WriteAllText(Path.Combine(dir, samples[0].Id), "{ not json");
        File.WriteAllText(Path.Combine(dir, samples[2].Id), "null");
        File.WriteAllText(Path.Combine(dir, "stray.json"), "{}");

        var reopened = Open(dir);
        Assert.Equal(1, reopened.CorruptTotal);
        Assert.Equal(4, reopened.Count);

        var peeked = reopened.PeekOldest(2);

        Assert.Equal([1, 3], peeked.Select(Index));
        Assert.Equal(3, reopened.CorruptTotal);
        Assert.Equal(2, reopened.Count);
        Assert.Equal(0, reopened.DroppedTotal);
        var corrupt = Path.Combine(dir, TelemetrySpool<SystemSample>.CorruptDirectoryName);
        Assert.Equal(
            new[] { samples[0].Id, samples[2].Id, "stray.json" }.Order(StringComparer.Ordinal),
            Directory.GetFiles(corrupt).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(2, Open(dir).Count);
    }

    [Fact]
    public void Unreadable_drop_counter_starts_from_zero()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, TelemetrySpool<SystemSample>.DroppedTotalFileName), "lots");

        var spool = Open(dir, maxItems: 1);
        spool.Append(Sample(0));
        spool.Append(Sample(1));

        Assert.Equal(1, spool.DroppedTotal);
        Assert.Equal(1, Open(dir).DroppedTotal);
    }

    [Fact]
    public void Deleted_file_is_forgotten_without_counting_it_corrupt()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        var spool = Open(dir);
        var first = spool.Append(Sample(0));
        spool.Append(Sample(1));
        File.Delete(Path.Combine(dir, first.Id));

        Assert.Equal([1], spool.PeekOldest(10).Select(Index));
        Assert.Equal(1, spool.Count);
        Assert.Equal(0, spool.CorruptTotal);
    }

    [Fact]
    public async Task Concurrent_append_peek_and_remove_deliver_every_sample_once_in_order()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("spool");
        var spool = Open(dir);
        const int total = 400;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var writer = Task.Run(
            () =>
            {
                for (var i = 0; i < total; i++)
                {
                    spool.Append(Sample(i));
                }
            },
            cancel.Token);

        var delivered = new List<int>();
        var sender = Task.Run(
            async () =>
            {
                while (delivered.Count < total)
                {
                    cancel.Token.ThrowIfCancellationRequested();
                    var batch = spool.PeekOldest(Random.Shared.Next(1, 50));
                    if (batch.Count == 0)
                    {
                        await Task.Delay(1, cancel.Token);
                        continue;
                    }

                    delivered.AddRange(batch.Select(Index));
                    Assert.Equal(batch.Count, spool.Remove(batch));
                }
            },
            cancel.Token);

        await Task.WhenAll(writer, sender);

        Assert.Equal(Enumerable.Range(0, total), delivered);
        Assert.Equal(0, spool.Count);
        Assert.Equal(0, spool.Bytes);
        Assert.Empty(Directory.GetFiles(dir, "*.json"));
    }

    [Fact]
    public async Task Concurrent_append_into_a_full_spool_loses_only_dropped_samples()
    {
        using var temp = new TempDir();
        var spool = Open(temp.Combine("spool"), maxItems: 20);
        const int total = 300;
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < total; i++)
            {
                spool.Append(Sample(i));
            }
        });

        var delivered = new List<int>();
        while (!writer.IsCompleted || spool.Count > 0)
        {
            var batch = spool.PeekOldest(7);
            delivered.AddRange(batch.Select(Index));
            spool.Remove(batch);
        }

        await writer;
        Assert.Equal(delivered.Order(), delivered);
        Assert.Equal(delivered.Distinct().Count(), delivered.Count);
        Assert.Contains(total - 1, delivered);
        Assert.True(delivered.Count + spool.DroppedTotal >= total, $"{delivered.Count} delivered + {spool.DroppedTotal} dropped < {total}");
        Assert.Equal(0, spool.CorruptTotal);
    }

    private static SystemSample Sample(int seconds) =>
        new(T0.AddSeconds(seconds), new Dictionary<string, double>
        {
            [SystemMetricNames.Load1] = 0.5 + seconds,
            [SystemMetricNames.CpuUsage] = 12.5,
            [SystemMetricNames.PerMount(SystemMetricNames.DiskUsedPercent, "/var")] = 40,
        });

    private static int Index(Spooled<SystemSample> s) => (int)(s.Item.Time - T0).TotalSeconds;
}
