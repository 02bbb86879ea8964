namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// A page's periodic re-read (lists and the dashboard, which have no event stream yet): every <c>period</c> it runs the
/// page's refresh on the page's dispatcher; disposing stops it. One place for the timer, its loop and its end.
/// </summary>
public sealed class Refresher : IDisposable
{
    private readonly PeriodicTimer _timer;

    private Refresher(TimeSpan period, Func<Func<Task>, Task> dispatch, Func<Task> refresh)
    {
        _timer = new PeriodicTimer(period);
        _ = Task.Run(async () =>
        {
            while (await _timer.WaitForNextTickAsync())
            {
                await dispatch(refresh);
            }
        });
    }

    /// <summary>Starts refreshing: <paramref name="dispatch"/> is the component's <c>InvokeAsync</c>.</summary>
    public static Refresher Every(TimeSpan period, Func<Func<Task>, Task> dispatch, Func<Task> refresh) => new(period, dispatch, refresh);

    public void Dispose() => _timer.Dispose();
}
