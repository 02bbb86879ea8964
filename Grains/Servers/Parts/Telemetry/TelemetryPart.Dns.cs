using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Monitoring;

namespace ManagedServers.Grains.Servers.Parts.Telemetry;

/// <summary>
/// DNS intervals, kept beside the system samples under two series of their own (<c>{id}#dns</c>, <c>{id}#dnsnames</c>),
/// so a DNS interval never collides with a system sample's time.
/// <list type="bullet">
/// <item>Counters: one raw row per interval at its start (<c>dns.*</c> values: counter deltas server-wide and per
/// zone, queries, rps, frames seen/dropped); the minute and hour aggregates the interval touches are recomputed from
/// the stored rows on ingest (one interval a minute per server: a couple of store reads, no timer state to lose).</item>
/// <item>Names: each interval's top names as one aggregate row (step 60, at the interval start; per metric
/// <c>"zone name"</c>: Sum = hits, Last = last access in Unix seconds), written before the interval's raw row. Top-N
/// over a window sums the rows of the window.</item>
/// </list>
/// Everything is written before the ingest returns (HTTPS 200, AMQP ack), and every write is an idempotent upsert or a
/// deduplicated append keyed by the interval start, so a silo crash loses nothing accepted and a redelivered batch
/// changes nothing. Retention: raw rows follow the raw retention, name rows the minute-aggregate retention.
/// </summary>
public sealed partial class TelemetryPart
{
    private const int MaxDnsValues = 5_000;
    private const int MaxTopRows = 2_000;

    public async Task<DnsIngestResult> IngestDnsAsync(DnsMetricsBatch batch)
    {
        Host.RequireDefinition();
        if (batch.ServerId != Host.Id)
        {
            throw new ArgumentException($"batch for server '{batch.ServerId}' sent to '{Host.Id}'");
        }

        await Host.RefreshSettingsAsync();
        if (!InRange(batch.IntervalStart, _time.GetUtcNow()) || batch.IntervalEnd <= batch.IntervalStart)
        {
            return new DnsIngestResult(false, 0);
        }

        var startMs = batch.IntervalStart.ToUnixTimeMilliseconds();

        // Names first: an upsert keyed by the interval, so a crash before the raw row only means it is written again.
        var names = new Dictionary<string, MetricAggregate>(StringComparer.Ordinal);
        foreach (var name in batch.Names ?? [])
        {
            var key = name.Zone + " " + name.Name;
            var previous = names.GetValueOrDefault(key);
            var hits = previous.Sum + name.Hits;
            names[key] = new MetricAggregate(hits, hits, hits, Math.Max(previous.Last, name.LastAccess.ToUnixTimeSeconds()), 1);
        }

        if (names.Count > 0)
        {
            await _dnsNames.UpsertAsync([new AggregateBucket(startMs, Resolutions.Minute, 1, names)]);
        }

        var stored = await _dns.AppendAsync([new StoredSample(startMs, DnsValues(batch))]);
        await _dns.RollUpAroundAsync(startMs);
        if (await RegisterReminderIfMissingAsync())
        {
            await SaveAsync();
        }
        return new DnsIngestResult(stored.Count > 0, names.Count);
    }

    /// <summary>The interval's values: counter deltas (server-wide, then per zone while under the bound) and derived figures.</summary>
    internal static Dictionary<string, double> DnsValues(DnsMetricsBatch batch)
    {
        var seconds = Math.Max(1, (batch.IntervalEnd - batch.IntervalStart).TotalSeconds);
        var counters = batch.Counters ?? new Dictionary<string, long>();
        long queries = 0;
        foreach (var (key, value) in counters)
        {
            if (key.StartsWith("response-code[", StringComparison.Ordinal))
            {
                queries += value;
            }
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [DnsMetricNames.Queries] = queries,
            [DnsMetricNames.Rps] = queries / seconds,
            [DnsMetricNames.IntervalSeconds] = seconds,
            [DnsMetricNames.FramesSeen] = batch.FramesSeen,
            [DnsMetricNames.FramesDropped] = batch.FramesDropped,
            [DnsMetricNames.FramesUnparsable] = batch.FramesUnparsable,
            [DnsMetricNames.NamesTruncated] = batch.NamesTruncated,
            [DnsMetricNames.OtherHits] = (batch.OtherHits ?? new Dictionary<string, long>()).Values.Sum(),
        };
        foreach (var (key, value) in counters)
        {
            values[DnsMetricNames.Counter(key)] = value;
        }

        // Per-zone counters of the busiest zones first, up to the bound.
        var zones = (batch.ZoneCounters ?? new Dictionary<string, IReadOnlyDictionary<string, long>>())
            .OrderByDescending(z => z.Value.Values.Sum());
        foreach (var (zone, zoneCounters) in zones)
        {
            if (values.Count + zoneCounters.Count > MaxDnsValues)
            {
                break;
            }

            foreach (var (key, value) in zoneCounters)
            {
                values[DnsMetricNames.ZoneCounter(zone, key)] = value;
            }
        }

        return values;
    }

    public async Task<ImmutableArray<StoredSample>> GetDnsRawAsync(DateTimeOffset from, DateTimeOffset to, int limit)
    {
        Host.RequireDefinition();
        return [.. await _dns.RawAsync(from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(), limit)];
    }

    public async Task<ImmutableArray<AggregateBucket>> GetDnsAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds)
    {
        Host.RequireDefinition();
        return [.. await _dns.AggregatesAsync(from, to, stepSeconds)];
    }

    public async Task<ImmutableArray<DnsNameTotal>> GetDnsTopAsync(string? zone, int n, DateTimeOffset from, DateTimeOffset to)
    {
        Host.RequireDefinition();
        var rows = await _dnsNames.MinutesAsync(from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var prefix = zone is null ? null : zone + " ";
        var totals = new Dictionary<string, (double Hits, double Last)>(StringComparer.Ordinal);
        foreach (var row in rows.TakeLast(MaxTopRows))
        {
            foreach (var (key, value) in row.Metrics)
            {
                if (prefix is not null && !key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var total = totals.GetValueOrDefault(key);
                totals[key] = (total.Hits + value.Sum, Math.Max(total.Last, value.Last));
            }
        }

        return [.. totals
            .OrderByDescending(t => t.Value.Hits).ThenBy(t => t.Key, StringComparer.Ordinal)
            .Take(Math.Clamp(n, 1, 10_000))
            .Select(t =>
            {
                var space = t.Key.IndexOf(' ', StringComparison.Ordinal);
                return new DnsNameTotal(t.Key[..space], t.Key[(space + 1)..], (long)t.Value.Hits, DateTimeOffset.FromUnixTimeSeconds((long)t.Value.Last));
            })];
    }
}
