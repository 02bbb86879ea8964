using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Monitoring;
using ManagedServers.Shared.Telemetry;

namespace ManagedServers.Grains.Servers.Parts.Telemetry;

/// <summary>
/// System samples, the server's rolling metrics windows.
/// <list type="bullet">
/// <item>Raw samples are written to the metrics store before a batch is acknowledged (one row per server and sample
/// time: exactly once however often a batch is delivered) and kept in an in-memory ring for the recent window, so a
/// dashboard poll of the last hour is one grain call with no I/O.</item>
/// <item>Per-minute aggregates (min, avg, max, last) are computed by a grain timer for minutes that received samples
/// once they are over; per-hour aggregates from the minutes. Both are persisted.</item>
/// <item>The retention reminder (it survives silo loss) reconciles: any minute whose stored aggregate does not count
/// the raw samples stored for it (a silo died before rolling it up, or backfilled samples arrived) is recomputed from
/// raw.</item>
/// </list>
/// </summary>
public sealed partial class TelemetryPart
{
    private const long MinuteMs = Resolutions.Minute * 1000L;
    private const long HourMs = Resolutions.Hour * 1000L;
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
        Host.RequireDefinition();
        if (batch.ServerId != Host.Id)
        {
            throw new ArgumentException($"batch for server '{batch.ServerId}' sent to '{Host.Id}'");
        }

        await Host.RefreshSettingsAsync();
        var now = _time.GetUtcNow();
        var accepted = new List<StoredSample>(batch.Samples.Count);
        var rejected = 0;
        foreach (var sample in batch.Samples)
        {
            if (!InRange(sample.Time, now) || sample.Values is null)
            {
                rejected++;
                continue;
            }

            accepted.Add(new StoredSample(sample.Time.ToUnixTimeMilliseconds(), sample.Values));
        }

        var stored = await _system.AppendAsync(accepted);
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
                Data.LastSampleAt = Data.LastSampleAt is { } last && last > sample.Time ? last : sample.Time;
            }

            ring.Trim(now.ToUnixTimeMilliseconds());
            EnsureRollupTimer();
        }

        var dirty = Data.SpoolDropped != batch.DroppedTotal;
        Data.SpoolDropped = batch.DroppedTotal;
        if (await RegisterReminderIfMissingAsync() || dirty)
        {
            await SaveAsync(); // one write for both
        }

        FleetMetrics.SamplesStored(stored.Count, accepted.Count - stored.Count);
        return new MetricsIngestResult(stored.Count, accepted.Count - stored.Count, rejected);
    }

    public async Task<ImmutableArray<StoredSample>> GetRawAsync(DateTimeOffset from, DateTimeOffset to, MetricFilter filter, int limit)
    {
        Host.RequireDefinition();
        limit = Math.Clamp(limit, 1, Series.MaxRawRead);
        long fromMs = from.ToUnixTimeMilliseconds(), toMs = to.ToUnixTimeMilliseconds();
        if (RingCovers(fromMs))
        {
            return [.. _ring!.Range(fromMs, toMs, filter.IsAll ? null : filter.Matches).Take(limit)];
        }

        var rows = await _system.RawAsync(fromMs, toMs, limit);
        return [.. rows.Select(r => filter.IsAll ? r : r with { Values = filter.Apply(r.Values) })];
    }

    public async Task<ImmutableArray<AggregateBucket>> GetAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds, MetricFilter filter)
    {
        Host.RequireDefinition();
        var buckets = await _system.AggregatesAsync(from, to, stepSeconds);
        return [.. buckets.Select(b => filter.IsAll ? b : b with { Metrics = filter.Apply(b.Metrics) })];
    }

    private SampleRing Ring()
    {
        if (_ring is null)
        {
            _ring = new SampleRing(RingWindow(), _options.RawMemoryMaxSamples);
            _ringCompleteFromMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        }
        else
        {
            _ring.Window = RingWindow();
        }

        return _ring;
    }

    /// <summary>Whether the ring holds every sample from <paramref name="fromMs"/> on: it started before, in this activation.</summary>
    private bool RingCovers(long fromMs) => _ring?.OldestMs is { } oldest && fromMs >= oldest && fromMs >= _ringCompleteFromMs;

    private TimeSpan RingWindow() => _options.RawMemoryWindow < Host.Settings.RawRetention ? _options.RawMemoryWindow : Host.Settings.RawRetention;

    private void EnsureRollupTimer()
    {
        _rollupTimer ??= Host.RegisterTimer(
            _ => RollUpDirtyAsync(),
            new GrainTimerCreationOptions { DueTime = _options.RollupTimerPeriod, Period = _options.RollupTimerPeriod, Interleave = false, KeepAlive = false });
    }

    /// <summary>Aggregates the minutes that got samples and are over, then the hours they belong to.</summary>
    private async Task RollUpDirtyAsync()
    {
        if (Host.Definition is null)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var closedBefore = (now - MinuteGrace).ToUnixTimeMilliseconds() - MinuteMs;
        var minutes = _dirtyMinutes.Where(m => m <= closedBefore).Order().ToList();
        if (minutes.Count > 0)
        {
            await RollUpMinutesAsync(minutes);
            foreach (var minute in minutes)
            {
                _dirtyMinutes.Remove(minute);
                _dirtyHours.TryAdd(Resolutions.BucketOf(minute, Resolutions.Hour), DateTimeOffset.MinValue);
            }
        }

        var hourClosedBefore = (now - MinuteGrace).ToUnixTimeMilliseconds() - HourMs;
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
        var buckets = await _system.RollUpMinutesAsync(minutes, minute => RingCovers(minute) ? _ring!.Range(minute, minute + MinuteMs) : null);
        foreach (var bucket in buckets)
        {
            _recentMinutes[bucket.StartMs] = bucket;
        }

        var keepFrom = _time.GetUtcNow().ToUnixTimeMilliseconds() - (2 * HourMs);
        while (_recentMinutes.Count > 0 && _recentMinutes.First().Key < keepFrom)
        {
            _recentMinutes.Remove(_recentMinutes.First().Key);
        }
    }

    /// <summary>
    /// Re-aggregates an hour from its minutes: from this activation's own minute aggregates when the hour began
    /// after the activation took its first sample (every minute of it went through this grain), else from the store.
    /// </summary>
    private Task RollUpHourAsync(long hour) => _system.RollUpHourAsync(
        hour,
        hour >= _ringCompleteFromMs ? [.. _recentMinutes.Where(m => m.Key >= hour && m.Key < hour + HourMs).Select(m => m.Value)] : null);

    /// <summary>Re-aggregates every closed minute (within raw retention) whose stored aggregate disagrees with the raw samples stored for it.</summary>
    private async Task ReconcileSystemAsync(DateTimeOffset now)
    {
        var rawFrom = (now - Host.Settings.RawRetention).ToUnixTimeMilliseconds();
        var closedBefore = Resolutions.BucketOf((now - MinuteGrace).ToUnixTimeMilliseconds(), Resolutions.Minute) - MinuteMs;
        var from = Resolutions.BucketOf(rawFrom, Resolutions.Minute) + MinuteMs; // the first whole minute still in raw retention
        if (closedBefore <= from)
        {
            return;
        }

        var stale = await _system.StaleMinutesAsync(from, closedBefore + MinuteMs);
        if (stale.Count > 0)
        {
            LogReconciled(_logger, Host.Id, stale.Count);
            await RollUpMinutesAsync(stale);
            foreach (var hour in stale.Select(m => Resolutions.BucketOf(m, Resolutions.Hour)).Distinct())
            {
                await RollUpHourAsync(hour);
            }
        }
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Server {ServerId}: re-aggregated {Minutes} minutes whose aggregates missed stored samples")]
    private static partial void LogReconciled(ILogger logger, string serverId, int minutes);
}
