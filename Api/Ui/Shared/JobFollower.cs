using ManagedServers.Grains.Interfaces.Servers;
using Orleans.Streams;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// A page following the job events of some servers (the stream behind /api/v1/jobs/events): any event makes the page
/// read again, on its dispatcher; events that arrive during a read make one more read after it, not one each.
/// </summary>
public sealed class JobFollower(IClusterClient cluster, Func<Func<Task>, Task> dispatch, Func<Task> reload) : IAsyncDisposable
{
    private readonly Dictionary<string, StreamSubscriptionHandle<JobEvent>> _subscriptions = new(StringComparer.Ordinal);
    private bool _reloading;
    private bool _reloadAgain;

    /// <summary>Follows these servers too (already followed ones are left as they are).</summary>
    public async Task FollowAsync(IEnumerable<string> serverIds)
    {
        var provider = cluster.GetStreamProvider(StreamNames.EventsProvider);
        foreach (var id in serverIds.Where(i => !_subscriptions.ContainsKey(i)).ToList())
        {
            var stream = provider.GetStream<JobEvent>(StreamId.Create(StreamNames.JobEventsNamespace, id));
            _subscriptions[id] = await stream.SubscribeAsync((_, _) => dispatch(ReloadAsync));
        }
    }

    /// <summary>Reads again now (coalesced with reads the events ask for).</summary>
    public async Task ReloadAsync()
    {
        if (_reloading)
        {
            _reloadAgain = true;
            return;
        }

        _reloading = true;
        try
        {
            do
            {
                _reloadAgain = false;
                await reload();
            }
            while (_reloadAgain);
        }
        finally
        {
            _reloading = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _subscriptions.Values)
        {
            try
            {
                await subscription.UnsubscribeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The circuit is going away; a subscription left behind ends with the stream's inactivity.
            }
        }

        _subscriptions.Clear();
    }
}
