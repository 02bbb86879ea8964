using System.Collections.Concurrent;

using ManagedServers.Grains.Interfaces.Monitoring;

namespace ManagedServers.Grains.Monitoring;

/// <summary>
/// A process-local <see cref="IMetricsStore"/> for grain unit tests (TestingHost clusters without a
/// database). Not durable; the silo uses the SQL store, which the same conformance tests cover.
/// </summary>
public sealed class InMemoryMetricsStore : IMetricsStore
{
    private readonly ConcurrentDictionary<string, SortedDictionary<long, StoredSample>> _raw = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Server, int Step), SortedDictionary<long, AggregateBucket>> _aggregates = new();

    public Task<IReadOnlyList<long>> AppendRawAsync(string serverId, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken = default)
    {
        var rows = _raw.GetOrAdd(serverId, _ => []);
        var added = new List<long>();
        lock (rows)
        {
            foreach (var sample in samples)
            {
                if (rows.TryAdd(sample.TimeMs, sample))
                {
                    added.Add(sample.TimeMs);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<long>>(added);
    }

    public Task<IReadOnlyList<StoredSample>> ReadRawAsync(string serverId, long fromMs, long toMs, int limit, CancellationToken cancellationToken = default)
    {
        if (!_raw.TryGetValue(serverId, out var rows))
        {
            return Task.FromResult<IReadOnlyList<StoredSample>>([]);
        }

        lock (rows)
        {
            return Task.FromResult<IReadOnlyList<StoredSample>>([.. rows.Values.Where(s => s.TimeMs >= fromMs && s.TimeMs < toMs).Take(limit)]);
        }
    }

    public Task<IReadOnlyDictionary<long, int>> CountRawAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default)
    {
        if (!_raw.TryGetValue(serverId, out var rows))
        {
            return Task.FromResult<IReadOnlyDictionary<long, int>>(new Dictionary<long, int>());
        }

        lock (rows)
        {
            return Task.FromResult<IReadOnlyDictionary<long, int>>(rows.Keys
                .Where(t => t >= fromMs && t < toMs)
                .GroupBy(t => Resolutions.BucketOf(t, stepSeconds))
                .ToDictionary(g => g.Key, g => g.Count()));
        }
    }

    public Task UpsertAggregatesAsync(string serverId, IReadOnlyList<AggregateBucket> buckets, CancellationToken cancellationToken = default)
    {
        foreach (var bucket in buckets)
        {
            var rows = _aggregates.GetOrAdd((serverId, bucket.StepSeconds), _ => []);
            lock (rows)
            {
                rows[bucket.StartMs] = bucket;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AggregateBucket>> ReadAggregatesAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default)
    {
        if (!_aggregates.TryGetValue((serverId, stepSeconds), out var rows))
        {
            return Task.FromResult<IReadOnlyList<AggregateBucket>>([]);
        }

        lock (rows)
        {
            return Task.FromResult<IReadOnlyList<AggregateBucket>>([.. rows.Values.Where(b => b.StartMs >= fromMs && b.StartMs < toMs)]);
        }
    }

    public async Task<IReadOnlyDictionary<long, int>> CountAggregatesAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default) =>
        (await ReadAggregatesAsync(serverId, stepSeconds, fromMs, toMs, cancellationToken)).ToDictionary(b => b.StartMs, b => b.SampleCount);

    public Task DeleteBeforeAsync(string serverId, long rawBeforeMs, long minutesBeforeMs, long hoursBeforeMs, CancellationToken cancellationToken = default)
    {
        if (_raw.TryGetValue(serverId, out var rows))
        {
            lock (rows)
            {
                foreach (var key in rows.Keys.Where(k => k < rawBeforeMs).ToList())
                {
                    rows.Remove(key);
                }
            }
        }

        foreach (var ((server, step), buckets) in _aggregates)
        {
            if (server != serverId)
            {
                continue;
            }

            var before = step < Resolutions.Hour ? minutesBeforeMs : hoursBeforeMs;
            lock (buckets)
            {
                foreach (var key in buckets.Keys.Where(k => k < before).ToList())
                {
                    buckets.Remove(key);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task DeleteServerAsync(string serverId, CancellationToken cancellationToken = default)
    {
        _raw.TryRemove(serverId, out _);
        foreach (var key in _aggregates.Keys.Where(k => k.Server == serverId).ToList())
        {
            _aggregates.TryRemove(key, out _);
        }

        return Task.CompletedTask;
    }
}
