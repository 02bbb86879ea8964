namespace ManagedServers.Agent.Hosting;

internal static class Delays
{
    private static readonly TimeSpan MaxChunk = TimeSpan.FromHours(12);

    /// <summary>
    /// Waits until <paramref name="due"/> on <paramref name="time"/>'s clock, in chunks (Task.Delay cannot
    /// wait 60 days in one go, and the wall clock may jump). Throws when cancelled.
    /// </summary>
    public static async Task UntilAsync(DateTimeOffset due, TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            var remaining = due - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(remaining < MaxChunk ? remaining : MaxChunk, time, cancellationToken);
        }
    }

    /// <summary>Waits; returns false instead of throwing when cancelled.</summary>
    public static async Task<bool> TryDelayAsync(TimeSpan delay, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, time, cancellationToken);
            }

            return !cancellationToken.IsCancellationRequested;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
