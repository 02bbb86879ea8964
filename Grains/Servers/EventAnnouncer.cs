using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// Publishes a grain's events on one stream, in order, without making the change that raised them wait: a change calls
/// <see cref="Announce"/> (synchronous) and a single flush loop, running on the activation's scheduler, sends what is
/// pending. A failed send is logged and dropped (events are notifications; the grain's state is the record).
/// <see cref="DrainAsync"/> waits for the pending ones (deactivation).
/// </summary>
public sealed partial class EventAnnouncer<T>(Func<IAsyncStream<T>> stream, ILogger logger)
{
    /// <summary>Events kept while the stream is slow; older ones are dropped beyond this.</summary>
    private const int MaxPending = 1000;

    private readonly Queue<T> _pending = new();
    private IAsyncStream<T>? _stream;
    private Task _flush = Task.CompletedTask;

    public void Announce(T item)
    {
        if (_pending.Count >= MaxPending)
        {
            _pending.Dequeue();
        }

        _pending.Enqueue(item);
        if (_flush.IsCompleted)
        {
            _flush = FlushAsync();
        }
    }

    public Task DrainAsync() => _flush;

    private async Task FlushAsync()
    {
        await Task.Yield(); // after the change that announced it has finished its turn
        while (_pending.TryDequeue(out var item))
        {
            try
            {
                _stream ??= stream();
                await _stream.OnNextAsync(item);
            }
            catch (Exception ex)
            {
                LogPublishFailed(logger, ex, typeof(T).Name);
            }
        }
    }

    [LoggerMessage(EventId = 1055, Level = LogLevel.Warning, Message = "An event ({Type}) could not be published on its stream; subscribers read the state instead")]
    private static partial void LogPublishFailed(ILogger logger, Exception ex, string type);
}
