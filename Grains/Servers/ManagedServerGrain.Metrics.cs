using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Interfaces.Settings;
using ManagedServers.Grains.Interfaces.Telemetry;
using ManagedServers.Grains.Monitoring;
using Orleans.Streams;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// The server's rolling metrics windows.
/// <list type="bullet">
/// <item>Raw samples are written to the metrics store before a batch is acknowledged (one row per
/// server and sample time: exactly once however often a batch is delivered) and kept in an in-memory
/// ring for the recent window, so a dashboard poll of the last hour is one grain call with no I/O.</item>
/// <item>Per-minute aggregates (min, avg, max, last) are computed by a grain timer for minutes that
/// received samples once they are over; per-hour aggregates from the minutes. Both are persisted.</item>
/// <item>A reminder (it survives silo loss) reconciles: any minute whose stored aggregate does not count
/// the raw samples stored for it (a silo died before rolling it up, or backfilled samples arrived) is
/// recomputed from raw, and data past the retention settings is deleted.</item>
/// </list>
/// </summary>
public sealed partial class ManagedServerGrain : IServerMetricsGrain, IAsyncObserver<MetricsBatch>
{
    private const string MetricsReminder = "metrics-retention";
    private const int MaxRawRead = 20_000;
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MinuteGrace = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan OpenHourRefresh = TimeSpan.FromMinutes(5);

    private readonly HashSet<long> _dirtyMinutes = [];
    private readonly Dictionary<long, DateTimeOffset> _dirtyHours = [];
    private readonly SortedDictionary<long, AggregateBucket> _recentMinutes = [];
    private SampleRing? _ring;
    private long _ringCompleteFromMs = long.MaxValue;
    private IGrainTimer? _rollupTimer;

    public async Task<MetricsIngestResult> IngestAsync(MetricsBatch batch)
    {
        RequireDefinition();
        if (batch.ServerId != Id)
        {
            throw new ArgumentException($"batch for server '{batch.ServerId}' sent to '{Id}'");
        }

        await RefreshSettingsAsync();
        var now = time.GetUtcNow();
        var oldest = now - _settings.AggregateRetention;
        var newest = now + FutureTolerance;
        var accepted = new List<StoredSample>(batch.Samples.Count);
        var rejected = 0;
        foreach (var sample in batch.Samples)
        {
            if (sample.Time < oldest || sample.Time > newest || sample.Values is null)
            {
                rejected++;
                continue;
            }

            accepted.Add(new StoredSample(sample.Time.ToUnixTimeMilliseconds(), sample.Values));
        }

        var stored = await metricsStore.AppendRawAsync(Id, accepted);
        if (stored.Count > 0)
        {
            var ring = Ring();
            var byTime = stored.ToHashSet();
            foreach (var sample in accepted)
            {
                if (!byTime.Contains(sample.TimeMs))
                {
                    continue;
                }

                ring.Add(sample);
                _dirtyMinutes.Add(Resolutions.BucketOf(sample.TimeMs, Resolutions.Minute));
                S.LastSampleAt = S.LastSampleAt is { } last && last > sample.Time ? last : sample.Time;
            }

            ring.Trim(now.ToUnixTimeMilliseconds());
            EnsureRollupTimer();
        }

        var dirty = S.SpoolDropped != batch.DroppedTotal || !S.MetricsReminderRegistered;
        S.SpoolDropped = batch.DroppedTotal;
        if (!S.MetricsReminderRegistered)
        {
            await this.RegisterOrUpdateReminder(MetricsReminder, _options.MetricsReminderPeriod, _options.MetricsReminderPeriod);
            S.MetricsReminderRegistered = true;
        }

        if (dirty)
        {
            await SaveAsync();
        }

        FleetMetrics.SamplesStored(stored.Count, accepted.Count - stored.Count);
        return new MetricsIngestResult(stored.Count, accepted.Count - stored.Count, rejected);
    }

    public Task OnNextAsync(MetricsBatch item, StreamSequenceToken? token = null) =>
        S.Exists && item.ServerId == Id ? IngestAsync(item) : Task.CompletedTask;

    public async Task<ImmutableArray<StoredSample>> GetRawAsync(DateTimeOffset from, DateTimeOffset to, MetricFilter filter, int limit)
    {
        RequireDefinition();
        limit = Math.Clamp(limit, 1, MaxRawRead);
        long fromMs = from.ToUnixTimeMilliseconds(), toMs = to.ToUnixTimeMilliseconds();
        if (RingCovers(fromMs))
        {
            return [.. _ring!.Range(fromMs, toMs, filter.IsAll ? null : filter.Matches).Take(limit)];
        }

        var rows = await metricsStore.ReadRawAsync(Id, fromMs, toMs, limit);
        return [.. rows.Select(r => filter.IsAll ? r : r with { Values = filter.Apply(r.Values) })];
    }

    public async Task<ImmutableArray<AggregateBucket>> GetAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds, MetricFilter filter)
    {
        RequireDefinition();
        if (stepSeconds < Resolutions.Minute || stepSeconds % Resolutions.Minute != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSeconds), stepSeconds, "step must be a multiple of 60 seconds");
        }

        var source = stepSeconds % Resolutions.Hour == 0 ? Resolutions.Hour : Resolutions.Minute;
        var fromMs = Resolutions.BucketOf(from.ToUnixTimeMilliseconds(), stepSeconds);
        var rows = await metricsStore.ReadAggregatesAsync(Id, source, fromMs, to.ToUnixTimeMilliseconds());
        var buckets = stepSeconds == source ? rows : Rollup.Combine(rows, stepSeconds);
        return [.. buckets.Select(b => filter.IsAll ? b : b with { Metrics = filter.Apply(b.Metrics) })];
    }

    private SampleRing Ring()
    {
        if (_ring is null)
        {
            _ring = new SampleRing(RingWindow(), _options.RawMemoryMaxSamples);
            _ringCompleteFromMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
        else
        {
            _ring.Window = RingWindow();
        }

        return _ring;
    }

    /// <summary>Whether the ring holds every sample from <paramref name="fromMs"/> on: it started before, in this activation.</summary>
    private bool RingCovers(long fromMs) => _ring?.OldestMs is { } oldest && fromMs >= oldest && fromMs >= _ringCompleteFromMs;

    private TimeSpan RingWindow() => _options.RawMemoryWindow < _settings.RawRetention ? _options.RawMemoryWindow : _settings.RawRetention;

    private void EnsureRollupTimer()
    {
        if (_rollupTimer is not null)
        {
            return;
        }

        _rollupTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.RollUpDirtyAsync(),
            this,
            new GrainTimerCreationOptions { DueTime = _options.RollupTimerPeriod, Period = _options.RollupTimerPeriod, Interleave = false, KeepAlive = false });
    }

    /// <summary>Aggregates the minutes that got samples and are over, then the hours they belong to.</summary>
    private async Task RollUpDirtyAsync()
    {
        if (!S.Exists)
        {
            return;
        }

        var now = time.GetUtcNow();
        var closedBefore = (now - MinuteGrace).ToUnixTimeMilliseconds() - (Resolutions.Minute * 1000L);
        var minutes = _dirtyMinutes.Where(m => m <= closedBefore).Order().ToList();
        if (minutes.Count > 0)
        {
            await RollUpMinutesAsync(minutes);
            foreach (var minute in minutes)
            {
                _dirtyMinutes.Remove(minute);
                var hour = Resolutions.BucketOf(minute, Resolutions.Hour);
                _dirtyHours.TryAdd(hour, DateTimeOffset.MinValue);
            }
        }

        var hourClosedBefore = (now - MinuteGrace).ToUnixTimeMilliseconds() - (Resolutions.Hour * 1000L);
        var hours = _dirtyHours.Where(h => h.Key <= hourClosedBefore || now - h.Value >= OpenHourRefresh).Select(h => h.Key).Order().ToList();
        foreach (var hour in hours)
        {
            await RollUpHourAsync(hour);
            if (hour <= hourClosedBefore)
            {
                _dirtyHours.Remove(hour);
            }
            else
            {
                _dirtyHours[hour] = now;
            }
        }

        if (_dirtyMinutes.Count == 0 && _dirtyHours.Count == 0)
        {
            _rollupTimer?.Dispose();
            _rollupTimer = null;
        }
    }

    /// <summary>Recomputes the given minutes from raw samples (from the ring when it holds them all) and stores them.</summary>
    private async Task RollUpMinutesAsync(IReadOnlyList<long> minutes)
    {
        var samples = new List<StoredSample>();
        var fromStore = new List<long>();
        foreach (var minute in minutes)
        {
            if (RingCovers(minute))
            {
                samples.AddRange(_ring!.Range(minute, minute + (Resolutions.Minute * 1000L)));
            }
            else
            {
                fromStore.Add(minute);
            }
        }

        // Contiguous runs of minutes read from the store in one query each.
        foreach (var run in Runs(fromStore, Resolutions.Minute * 1000L))
        {
            samples.AddRange(await metricsStore.ReadRawAsync(Id, run.From, run.To, MaxRawRead));
        }

        var buckets = Rollup.FromSamples(samples, Resolutions.Minute);
        await metricsStore.UpsertAggregatesAsync(Id, buckets);
        foreach (var bucket in buckets)
        {
            _recentMinutes[bucket.StartMs] = bucket;
        }

        var keepFrom = time.GetUtcNow().ToUnixTimeMilliseconds() - (2 * Resolutions.Hour * 1000L);
        while (_recentMinutes.Count > 0 && _recentMinutes.First().Key < keepFrom)
        {
            _recentMinutes.Remove(_recentMinutes.First().Key);
        }
    }

    /// <summary>
    /// Re-aggregates an hour from its minutes: from this activation's own minute aggregates when the hour began
    /// after the activation took its first sample (every minute of it went through this grain), else from the store.
    /// </summary>
    private async Task RollUpHourAsync(long hour)
    {
        var end = hour + (Resolutions.Hour * 1000L);
        IReadOnlyList<AggregateBucket> minutes = hour >= _ringCompleteFromMs
            ? [.. _recentMinutes.Where(m => m.Key >= hour && m.Key < end).Select(m => m.Value)]
            : await metricsStore.ReadAggregatesAsync(Id, Resolutions.Minute, hour, end);
        if (minutes.Count > 0)
        {
            await metricsStore.UpsertAggregatesAsync(Id, Rollup.Combine(minutes, Resolutions.Hour));
        }
    }

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

    /// <summary>
    /// The metrics reminder: re-aggregates every minute (within raw retention) whose stored aggregate
    /// disagrees with the raw samples stored for it, then deletes data past retention.
    /// </summary>
    private async Task ReconcileMetricsAsync()
    {
        await RefreshSettingsAsync();
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var rawFrom = (now - _settings.RawRetention).ToUnixTimeMilliseconds();
        var closedBefore = Resolutions.BucketOf((now - MinuteGrace).ToUnixTimeMilliseconds(), Resolutions.Minute) - (Resolutions.Minute * 1000L);
        var from = Resolutions.BucketOf(rawFrom, Resolutions.Minute) + (Resolutions.Minute * 1000L); // the first whole minute still in raw retention
        if (closedBefore > from)
        {
            var raw = await metricsStore.CountRawAsync(Id, Resolutions.Minute, from, closedBefore + (Resolutions.Minute * 1000L));
            var aggregated = await metricsStore.CountAggregatesAsync(Id, Resolutions.Minute, from, closedBefore + (Resolutions.Minute * 1000L));
            var stale = raw.Where(r => !aggregated.TryGetValue(r.Key, out var n) || n != r.Value).Select(r => r.Key).Order().ToList();
            if (stale.Count > 0)
            {
                LogReconciled(logger, Id, stale.Count);
                await RollUpMinutesAsync(stale);
                foreach (var hour in stale.Select(m => Resolutions.BucketOf(m, Resolutions.Hour)).Distinct())
                {
                    await RollUpHourAsync(hour);
                }
            }
        }

        var hours = _settings.AggregateRetention;
        var minutes = _options.MinuteAggregateRetention < hours ? _options.MinuteAggregateRetention : hours;
        await metricsStore.DeleteBeforeAsync(Id, rawFrom, (now - minutes).ToUnixTimeMilliseconds(), (now - hours).ToUnixTimeMilliseconds());
        _ring?.Trim(nowMs);
    }

    private async Task RefreshSettingsAsync()
    {
        if (time.GetUtcNow() - _settingsFetchedAt > SettingsRefresh)
        {
            _settings = await GrainFactory.GetGrain<ISettingsCacheGrain>(0).GetMonitoringAsync();
            _settingsFetchedAt = time.GetUtcNow();
        }
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Server {ServerId}: re-aggregated {Minutes} minutes whose aggregates missed stored samples")]
    private static partial void LogReconciled(ILogger logger, string serverId, int minutes);
}
