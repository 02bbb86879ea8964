using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Monitoring;

namespace ManagedServers.Grains.Servers.Parts.Telemetry;

/// <summary>
/// One series of a server in the metrics store: raw rows (one per time, appended once), minute and hour aggregates
/// (upserts, so recomputing is idempotent) and their retention. Every kind of telemetry the grain keeps is one or more
/// series under its own name (<c>{server id}</c> for system samples, <c>{server id}#dns</c>, ...; '#' never occurs
/// in a server id), so reads, rollups, retention and deletion are written once.
/// </summary>
internal sealed class Series(IMetricsStore store, string name)
{
    public const int MaxRawRead = 20_000;
    private const long MinuteMs = Resolutions.Minute * 1000L;
    private const long HourMs = Resolutions.Hour * 1000L;

    /// <summary>Appends rows; returns the times that were new (a time already stored is not stored again).</summary>
    public Task<IReadOnlyList<long>> AppendAsync(IReadOnlyList<StoredSample> rows) => store.AppendRawAsync(name, rows);

    public Task<IReadOnlyList<StoredSample>> RawAsync(long fromMs, long toMs, int limit) =>
        store.ReadRawAsync(name, fromMs, toMs, Math.Clamp(limit, 1, MaxRawRead));

    /// <summary>Aggregates at <paramref name="stepSeconds"/> (a multiple of a minute), combined from stored minutes or hours.</summary>
    public async Task<IReadOnlyList<AggregateBucket>> AggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds)
    {
        if (stepSeconds < Resolutions.Minute || stepSeconds % Resolutions.Minute != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSeconds), stepSeconds, "step must be a multiple of 60 seconds");
        }

        var source = stepSeconds % Resolutions.Hour == 0 ? Resolutions.Hour : Resolutions.Minute;
        var rows = await store.ReadAggregatesAsync(name, source, Resolutions.BucketOf(from.ToUnixTimeMilliseconds(), stepSeconds), to.ToUnixTimeMilliseconds());
        return stepSeconds == source ? rows : Rollup.Combine(rows, stepSeconds);
    }

    /// <summary>Stored minute aggregates of [from, to) (for top-N sums over a window).</summary>
    public Task<IReadOnlyList<AggregateBucket>> MinutesAsync(long fromMs, long toMs) => store.ReadAggregatesAsync(name, Resolutions.Minute, fromMs, toMs);

    public Task UpsertAsync(IReadOnlyList<AggregateBucket> buckets) => store.UpsertAggregatesAsync(name, buckets);

    /// <summary>Recomputes, from the stored rows, the minute and the hour <paramref name="timeMs"/> falls in (idempotent).</summary>
    public async Task RollUpAroundAsync(long timeMs)
    {
        var minute = Resolutions.BucketOf(timeMs, Resolutions.Minute);
        var rows = await store.ReadRawAsync(name, minute, minute + MinuteMs, MaxRawRead);
        await store.UpsertAggregatesAsync(name, Rollup.FromSamples(rows, Resolutions.Minute));
        await RollUpHourAsync(Resolutions.BucketOf(timeMs, Resolutions.Hour));
    }

    /// <summary>Recomputes the given minutes from raw rows (<paramref name="known"/> gives rows already in memory for a minute) and stores them.</summary>
    public async Task<IReadOnlyList<AggregateBucket>> RollUpMinutesAsync(IReadOnlyList<long> minutes, Func<long, IEnumerable<StoredSample>?> known)
    {
        var samples = new List<StoredSample>();
        var fromStore = new List<long>();
        foreach (var minute in minutes)
        {
            if (known(minute) is { } rows)
            {
                samples.AddRange(rows);
            }
            else
            {
                fromStore.Add(minute);
            }
        }

        // Contiguous runs of minutes read from the store in one query each.
        foreach (var run in Runs(fromStore, MinuteMs))
        {
            samples.AddRange(await store.ReadRawAsync(name, run.From, run.To, MaxRawRead));
        }

        var buckets = Rollup.FromSamples(samples, Resolutions.Minute);
        await store.UpsertAggregatesAsync(name, buckets);
        return buckets;
    }

    /// <summary>Re-aggregates an hour from its minutes (<paramref name="minutes"/> when the caller holds them all, else the stored ones).</summary>
    public async Task RollUpHourAsync(long hour, IReadOnlyList<AggregateBucket>? minutes = null)
    {
        minutes ??= await store.ReadAggregatesAsync(name, Resolutions.Minute, hour, hour + HourMs);
        if (minutes.Count > 0)
        {
            await store.UpsertAggregatesAsync(name, Rollup.Combine(minutes, Resolutions.Hour));
        }
    }

    /// <summary>Closed minutes in [fromMs, toMs) whose stored aggregate does not count the raw rows stored for them.</summary>
    public async Task<List<long>> StaleMinutesAsync(long fromMs, long toMs)
    {
        var raw = await store.CountRawAsync(name, Resolutions.Minute, fromMs, toMs);
        var aggregated = await store.CountAggregatesAsync(name, Resolutions.Minute, fromMs, toMs);
        return raw.Where(r => !aggregated.TryGetValue(r.Key, out var n) || n != r.Value).Select(r => r.Key).Order().ToList();
    }

    public Task TrimAsync(Retention retention) =>
        store.DeleteBeforeAsync(name, retention.RawBeforeMs, retention.MinutesBeforeMs, retention.HoursBeforeMs);

    public Task DeleteAsync() => store.DeleteServerAsync(name);

    private static IEnumerable<(long From, long To)> Runs(List<long> starts, long width)
    {
        for (var i = 0; i < starts.Count;)
        {
            var j = i;
            while (j + 1 < starts.Count && starts[j + 1] == starts[j] + width)
            {
                j++;
            }

            yield return (starts[i], starts[j] + width);
            i = j + 1;
        }
    }
}

/// <summary>Where retention cuts each resolution of a series (Unix ms): raw rows, minute aggregates, hour aggregates.</summary>
internal readonly record struct Retention(long RawBeforeMs, long MinutesBeforeMs, long HoursBeforeMs);
