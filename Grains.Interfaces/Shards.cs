namespace ManagedServers.Grains.Interfaces;

/// <summary>Scatter-gather over integer-keyed shard grains (fleet index, zone catalog).</summary>
public static class Shards
{
    /// <summary>Asks shards 0..<paramref name="count"/>-1 at once and returns their answers in shard order.</summary>
    public static Task<T[]> AskAllAsync<TGrain, T>(IGrainFactory grains, int count, Func<TGrain, Task<T>> ask)
        where TGrain : IGrainWithIntegerKey
    {
        var tasks = new Task<T>[count];
        for (var shard = 0; shard < tasks.Length; shard++)
        {
            tasks[shard] = ask(grains.GetGrain<TGrain>(shard));
        }

        return Task.WhenAll(tasks);
    }
}
