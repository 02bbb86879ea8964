namespace ManagedServers.Grains.Servers;

/// <summary>
/// Counts events in a sliding window (default two minutes) with 10-second buckets:
/// constant memory, O(1) per event. Not thread-safe: owned by one grain activation.
/// </summary>
public sealed class RequestCounter(TimeProvider time, TimeSpan? window = null)
{
    private static readonly TimeSpan Bucket = TimeSpan.FromSeconds(10);
    private readonly int[] _counts = new int[(int)Math.Ceiling((window ?? TimeSpan.FromMinutes(2)) / Bucket)];
    private readonly long[] _bucketIds = new long[(int)Math.Ceiling((window ?? TimeSpan.FromMinutes(2)) / Bucket)];

    public void Add()
    {
        var id = CurrentBucket();
        var slot = (int)(id % _counts.Length);
        if (_bucketIds[slot] != id)
        {
            _bucketIds[slot] = id;
            _counts[slot] = 0;
        }

        _counts[slot]++;
    }

    /// <summary>Events in the window ending now.</summary>
    public int Count()
    {
        var current = CurrentBucket();
        var oldest = current - _counts.Length + 1;
        var total = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_bucketIds[i] >= oldest && _bucketIds[i] <= current)
            {
                total += _counts[i];
            }
        }

        return total;
    }

    private long CurrentBucket() => time.GetUtcNow().UtcTicks / Bucket.Ticks;
}
