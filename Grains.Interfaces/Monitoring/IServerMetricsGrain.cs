namespace ManagedServers.Grains.Interfaces.Monitoring;

/// <summary>One raw sample as stored: time in Unix milliseconds and metric values.</summary>
[GenerateSerializer, Immutable, Alias("ms.StoredSample")]
public sealed record StoredSample([property: Id(0)] long TimeMs, [property: Id(1)] IReadOnlyDictionary<string, double> Values)
{
    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeMilliseconds(TimeMs);
}

/// <summary>One metric over one bucket. <see cref="Sum"/> / <see cref="Count"/> is the average.</summary>
[GenerateSerializer, Immutable, Alias("ms.MetricAggregate")]
public readonly record struct MetricAggregate(
    [property: Id(0)] double Min,
    [property: Id(1)] double Max,
    [property: Id(2)] double Sum,
    [property: Id(3)] double Last,
    [property: Id(4)] int Count)
{
    public double Avg => Count == 0 ? 0 : Sum / Count;

    /// <summary>This aggregate followed by <paramref name="later"/> (later's Last wins).</summary>
    public MetricAggregate Then(MetricAggregate later) => Count == 0 ? later : later.Count == 0 ? this : new(
        Math.Min(Min, later.Min),
        Math.Max(Max, later.Max),
        Sum + later.Sum,
        later.Last,
        Count + later.Count);

    public static MetricAggregate Of(double value) => new(value, value, value, value, 1);
}

/// <summary>The aggregates of one bucket (start time in Unix milliseconds, width in seconds).</summary>
[GenerateSerializer, Immutable, Alias("ms.AggregateBucket")]
public sealed record AggregateBucket(
    [property: Id(0)] long StartMs,
    [property: Id(1)] int StepSeconds,
    [property: Id(2)] int SampleCount,
    [property: Id(3)] IReadOnlyDictionary<string, MetricAggregate> Metrics)
{
    public DateTimeOffset Start => DateTimeOffset.FromUnixTimeMilliseconds(StartMs);
}

/// <summary>Aggregation resolutions that are stored.</summary>
public static class Resolutions
{
    public const int Minute = 60;
    public const int Hour = 3600;

    public static long BucketOf(long timeMs, int stepSeconds) => timeMs - Mod(timeMs, stepSeconds * 1000L);

    private static long Mod(long a, long b) => ((a % b) + b) % b;
}

/// <summary>
/// Which metrics a query wants: null or empty = all; otherwise names, where a name ending in <c>*</c> is a
/// prefix (<c>disk.*</c>, <c>cpu.load*</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("ms.MetricFilter")]
public sealed record MetricFilter([property: Id(0)] ImmutableArray<string> Patterns)
{
    public static MetricFilter All { get; } = new(ImmutableArray<string>.Empty);

    public bool IsAll => Patterns.IsDefaultOrEmpty;

    public static MetricFilter Parse(string? commaSeparated) =>
        string.IsNullOrWhiteSpace(commaSeparated)
            ? All
            : new([.. commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);

    /// <summary>The entries of <paramref name="metrics"/> whose name matches.</summary>
    public Dictionary<string, T> Apply<T>(IReadOnlyDictionary<string, T> metrics) =>
        metrics.Where(m => Matches(m.Key)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);

    public bool Matches(string metric)
    {
        if (IsAll)
        {
            return true;
        }

        foreach (var pattern in Patterns)
        {
            if (pattern.EndsWith('*') ? metric.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal) : metric == pattern)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Answer of <see cref="IServerMetricsGrain.IngestAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("ms.MetricsIngestResult")]
public sealed record MetricsIngestResult([property: Id(0)] int Stored, [property: Id(1)] int Duplicates, [property: Id(2)] int Rejected);

/// <summary>
/// The monitoring side of a managed server's grain (same grain, same key as the server): its rolling
/// metrics windows. Reading a window is one call, cheap enough for dashboards to poll.
/// </summary>
[Alias("ms.IServerMetricsGrain")]
public interface IServerMetricsGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes a batch of system samples; returns once they are durable. A sample whose (server, time) is
    /// already stored is skipped, so a retried batch changes nothing.
    /// </summary>
    Task<MetricsIngestResult> IngestAsync(ManagedServers.Contracts.Agent.MetricsBatch batch);

    /// <summary>Raw samples with from ≤ time &lt; to, oldest first, at most <paramref name="limit"/>.</summary>
    [ReadOnly]
    Task<ImmutableArray<StoredSample>> GetRawAsync(DateTimeOffset from, DateTimeOffset to, MetricFilter filter, int limit);

    /// <summary>Aggregates over buckets of <paramref name="stepSeconds"/> (a multiple of 60) with from ≤ start &lt; to.</summary>
    [ReadOnly]
    Task<ImmutableArray<AggregateBucket>> GetAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds, MetricFilter filter);
}
