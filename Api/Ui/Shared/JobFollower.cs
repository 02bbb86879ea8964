using ManagedServers.Grains.Interfaces.Servers;
using Orleans.Streams;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// A page following the job events of some servers (the stream behind /api/v1/jobs/events), not polling: an event (that
/// <c>wanted</c> keeps, when given) makes the page read again, on its dispatcher (<c>dispatch</c>: the component's
/// InvokeAsync); events that arrive during a read make one more read after it, not one each.
/// </summary>
public sealed class JobFollower(IClusterClient cluster, Func<Func<Task>, Task> dispatch, Func<Task> reload, Func<JobEvent, bool>? wanted = null) : IAsyncDisposable
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
            _subscriptions[id] = await stream.SubscribeAsync((e, _) => wanted is null || wanted(e) ? dispatch(ReloadAsync) : Task.CompletedTask);
        }
    }

    /// <summary>Whether any server is followed (the page is live).</summary>
    public bool Live => _subscriptions.Count > 0;

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

    public ValueTask DisposeAsync() => UnfollowAllAsync();

    /// <summary>Stops following every server (a page whose filter changed follows others next).</summary>
    public async ValueTask UnfollowAllAsync()
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
