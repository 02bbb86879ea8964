using ManagedServers.Grains.Interfaces.Monitoring;

namespace ManagedServers.Grains.Monitoring;

/// <summary>
/// Durable storage of monitoring data, outside grain state: raw samples (append-only, one row per
/// server and sample time, so storing a sample twice keeps one) and aggregates (one row per server,
/// resolution and bucket, replaced on recompute). Grains are its only users; the silo supplies the
/// SQLite or PostgreSQL implementation, which group-commits concurrent appends from many grains.
/// </summary>
public interface IMetricsStore
{
    /// <summary>Stores samples durably; returns the times (Unix ms) that were new (duplicates are skipped).</summary>
    Task<IReadOnlyList<long>> AppendRawAsync(string serverId, IReadOnlyList<StoredSample> samples, CancellationToken cancellationToken = default);

    /// <summary>Raw samples with fromMs ≤ time &lt; toMs, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<StoredSample>> ReadRawAsync(string serverId, long fromMs, long toMs, int limit, CancellationToken cancellationToken = default);

    /// <summary>Per-bucket raw sample counts with fromMs ≤ time &lt; toMs (for reconciliation).</summary>
    Task<IReadOnlyDictionary<long, int>> CountRawAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces aggregate buckets.</summary>
    Task UpsertAggregatesAsync(string serverId, IReadOnlyList<AggregateBucket> buckets, CancellationToken cancellationToken = default);

    /// <summary>Aggregate buckets of one resolution with fromMs ≤ start &lt; toMs, oldest first.</summary>
    Task<IReadOnlyList<AggregateBucket>> ReadAggregatesAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default);

    /// <summary>Sample counts of the stored aggregate buckets of one resolution with fromMs ≤ start &lt; toMs (for reconciliation).</summary>
    Task<IReadOnlyDictionary<long, int>> CountAggregatesAsync(string serverId, int stepSeconds, long fromMs, long toMs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes raw samples before <paramref name="rawBeforeMs"/>, minute-resolution aggregates (step under an hour)
    /// starting before <paramref name="minutesBeforeMs"/> and hour-resolution ones before <paramref name="hoursBeforeMs"/>.
    /// </summary>
    Task DeleteBeforeAsync(string serverId, long rawBeforeMs, long minutesBeforeMs, long hoursBeforeMs, CancellationToken cancellationToken = default);

    /// <summary>Deletes everything of a server.</summary>
    Task DeleteServerAsync(string serverId, CancellationToken cancellationToken = default);
}
