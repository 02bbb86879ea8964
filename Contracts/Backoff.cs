namespace ManagedServers.Contracts;

/// <summary>Exponential backoff with jitter: the n-th delay is drawn from [ceiling/2, ceiling], ceiling = min(max, initial·2ⁿ).</summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Random _random;
    private int _attempt;

    public Backoff(TimeSpan initial, TimeSpan max, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        _initial = initial;
        _max = max;
        _random = random ?? Random.Shared;
    }

    public int Failures => _attempt;

    public TimeSpan Next()
    {
        var ceiling = _initial.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30));
        ceiling = Math.Min(ceiling, _max.TotalMilliseconds);
        _attempt++;
        return TimeSpan.FromMilliseconds(ceiling / 2 + (_random.NextDouble() * ceiling / 2));
    }

    public void Reset() => _attempt = 0;
}
