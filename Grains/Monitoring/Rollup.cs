using ManagedServers.Grains.Interfaces.Monitoring;

namespace ManagedServers.Grains.Monitoring;

/// <summary>Builds aggregates: raw samples into buckets, and finer buckets into coarser ones.</summary>
public static class Rollup
{
    /// <summary>Aggregates samples (any order) into buckets of <paramref name="stepSeconds"/>, oldest first.</summary>
    public static List<AggregateBucket> FromSamples(IEnumerable<StoredSample> samples, int stepSeconds)
    {
        var buckets = new SortedDictionary<long, (int Count, Dictionary<string, MetricAggregate> Metrics)>();
        foreach (var sample in samples.OrderBy(s => s.TimeMs))
        {
            var start = Resolutions.BucketOf(sample.TimeMs, stepSeconds);
            if (!buckets.TryGetValue(start, out var bucket))
            {
                bucket = (0, new Dictionary<string, MetricAggregate>(StringComparer.Ordinal));
            }

            foreach (var (name, value) in sample.Values)
            {
                if (!double.IsFinite(value))
                {
                    continue;
                }

                bucket.Metrics[name] = bucket.Metrics.TryGetValue(name, out var current)
                    ? current.Then(MetricAggregate.Of(value))
                    : MetricAggregate.Of(value);
            }

            buckets[start] = (bucket.Count + 1, bucket.Metrics);
        }

        return [.. buckets.Select(b => new AggregateBucket(b.Key, stepSeconds, b.Value.Count, b.Value.Metrics))];
    }

    /// <summary>Combines finer buckets (any order) into buckets of <paramref name="stepSeconds"/>, oldest first.</summary>
    public static List<AggregateBucket> Combine(IEnumerable<AggregateBucket> finer, int stepSeconds)
    {
        var result = new List<AggregateBucket>();
        foreach (var group in finer.OrderBy(b => b.StartMs).GroupBy(b => Resolutions.BucketOf(b.StartMs, stepSeconds)))
        {
            var metrics = new Dictionary<string, MetricAggregate>(StringComparer.Ordinal);
            var count = 0;
            foreach (var bucket in group)
            {
                count += bucket.SampleCount;
                foreach (var (name, aggregate) in bucket.Metrics)
                {
                    metrics[name] = metrics.TryGetValue(name, out var current) ? current.Then(aggregate) : aggregate;
                }
            }

            result.Add(new AggregateBucket(group.Key, stepSeconds, count, metrics));
        }

        return result;
    }
}
