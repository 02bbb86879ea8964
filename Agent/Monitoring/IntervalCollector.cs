using ManagedServers.Agent.Hosting;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// A collector that works in intervals (DNS, DHCP): while it is on (its setting and its service), it waits out each
/// interval of the length the settings give and collects at its end; a settings change is applied at once (the running
/// interval keeps its start); while it is off it checks again every few seconds and the next interval starts when it
/// comes back on. Collection runs off the host's start-up path.
/// </summary>
internal abstract class IntervalCollector(AgentRuntimeSettings settings, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan OffCheck = TimeSpan.FromSeconds(5);

    protected TimeProvider Time => time;

    protected AgentRuntimeSettings Settings => settings;

    /// <summary>Whether the collector runs now: its monitoring setting is on and its service is installed.</summary>
    protected abstract bool Enabled(AgentMonitoringConfig config);

    protected abstract int IntervalSeconds(AgentMonitoringConfig config);

    /// <summary>Called on each pass while it is off (forget the counters the next interval's deltas would use).</summary>
    protected virtual void OnOff()
    {
    }

    /// <summary>Called before each interval's wait (open what the interval listens on).</summary>
    protected virtual void BeforeInterval()
    {
    }

    /// <summary>Collects the interval [<paramref name="start"/>, <paramref name="end"/>) and spools it.</summary>
    protected abstract Task CollectAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken);

    /// <summary>Called once when the collector stops.</summary>
    protected virtual ValueTask OnStoppedAsync() => ValueTask.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None);
        }
        finally
        {
            await OnStoppedAsync();
        }
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        var intervalStart = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = settings.Changed;
            var config = settings.Monitoring;
            if (!Enabled(config))
            {
                OnOff();
                await WaitAsync(changed, OffCheck, stoppingToken);
                intervalStart = time.GetUtcNow();
                continue;
            }

            BeforeInterval();
            var next = intervalStart + TimeSpan.FromSeconds(Math.Max(1, IntervalSeconds(config)));
            var wait = next - time.GetUtcNow();
            if (wait > TimeSpan.Zero && await WaitAsync(changed, wait, stoppingToken))
            {
                continue; // settings changed: re-evaluate; the interval keeps its start
            }

            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            var end = time.GetUtcNow();
            await CollectAsync(intervalStart, end, stoppingToken);
            intervalStart = end;
        }
    }

    private async Task<bool> WaitAsync(Task changed, TimeSpan delay, CancellationToken stoppingToken)
    {
        var delayTask = Task.Delay(delay, time, stoppingToken);
        var first = await Task.WhenAny(changed, delayTask);
        return first == changed;
    }
}
