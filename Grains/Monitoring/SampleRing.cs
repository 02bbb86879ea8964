using ManagedServers.Grains.Interfaces.Monitoring;

namespace ManagedServers.Grains.Monitoring;

/// <summary>
/// The recent raw samples of one server, in memory, oldest first, bounded by a time window and a count.
/// Compact: metric names are interned once per ring (columns) and each sample is a time and an array of
/// values (NaN where a metric was absent), so an hour at 5 s of ~40 metrics costs about 250 KB.
/// Inserting keeps time order and ignores a sample whose time is already present (exactly once).
/// </summary>
public sealed class SampleRing(TimeSpan window, int maxSamples)
{
    private readonly List<string> _columns = [];
    private readonly Dictionary<string, int> _columnIndex = new(StringComparer.Ordinal);
    private readonly List<(long TimeMs, double[] Values)> _samples = [];
    private long _windowMs = (long)window.TotalMilliseconds;

    public int Count => _samples.Count;

    /// <summary>Oldest time held, or null when empty.</summary>
    public long? OldestMs => _samples.Count == 0 ? null : _samples[0].TimeMs;

    public TimeSpan Window
    {
        get => TimeSpan.FromMilliseconds(_windowMs);
        set => _windowMs = (long)value.TotalMilliseconds;
    }

    /// <summary>Adds a sample in time order; returns false when a sample with the same time is already held.</summary>
    public bool Add(StoredSample sample)
    {
        var index = Find(sample.TimeMs);
        if (index >= 0)
        {
            return false;
        }

        var values = new double[Math.Max(_columns.Count, 1)];
        Array.Fill(values, double.NaN);
        foreach (var (name, value) in sample.Values)
        {
            if (!_columnIndex.TryGetValue(name, out var column))
            {
                column = _columns.Count;
                _columns.Add(name);
                _columnIndex[name] = column;
            }

            if (column >= values.Length)
            {
                var grown = new double[_columns.Count];
                Array.Fill(grown, double.NaN);
                values.CopyTo(grown, 0);
                values = grown;
            }

            values[column] = value;
        }

        _samples.Insert(~index, (sample.TimeMs, values));
        return true;
    }

    /// <summary>Drops samples older than the window (relative to <paramref name="nowMs"/>) and beyond the count bound.</summary>
    public void Trim(long nowMs)
    {
        var cutoff = nowMs - _windowMs;
        var drop = 0;
        while (drop < _samples.Count && (_samples[drop].TimeMs < cutoff || _samples.Count - drop > maxSamples))
        {
            drop++;
        }

        if (drop > 0)
        {
            _samples.RemoveRange(0, drop);
        }
    }

    /// <summary>Whether a sample at this time is held.</summary>
    public bool Contains(long timeMs) => Find(timeMs) >= 0;

    /// <summary>Samples with fromMs ≤ time &lt; toMs, oldest first, optionally only the metrics <paramref name="keep"/> accepts.</summary>
    public List<StoredSample> Range(long fromMs, long toMs, Func<string, bool>? keep = null)
    {
        var result = new List<StoredSample>();
        var start = Find(fromMs);
        for (var i = start >= 0 ? start : ~start; i < _samples.Count && _samples[i].TimeMs < toMs; i++)
        {
            var (time, values) = _samples[i];
            var dict = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var c = 0; c < values.Length; c++)
            {
                if (!double.IsNaN(values[c]) && (keep is null || keep(_columns[c])))
                {
                    dict[_columns[c]] = values[c];
                }
            }

            result.Add(new StoredSample(time, dict));
        }

        return result;
    }

    private int Find(long timeMs)
    {
        int lo = 0, hi = _samples.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var t = _samples[mid].TimeMs;
            if (t == timeMs)
            {
                return mid;
            }

            if (t < timeMs)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }
}
