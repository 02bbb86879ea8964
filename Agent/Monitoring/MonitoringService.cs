using ManagedServers.Agent.Collectors;
using ManagedServers.Agent.Hosting;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// System monitoring: every system interval the collectors take a sample, which goes to the system pipeline's
/// spool (<see cref="TelemetryPipelines.System"/>; its shipper sends it) and to the opt-in Prometheus endpoint. An
/// outage therefore delays samples but loses none until the spool bound, where the oldest are dropped and counted
/// (the count travels with every batch). Settings changes (interval, on/off) apply at once.
/// </summary>
internal sealed partial class MonitoringService(
    SystemCollectors collectors,
    TelemetrySpool<SystemSample> spool,
    LatestSample latest,
    AgentRuntimeSettings settings,
    TimeProvider time,
    ILogger<MonitoringService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => CollectLoopAsync(stoppingToken), CancellationToken.None);

    private async Task CollectLoopAsync(CancellationToken stoppingToken)
    {
        var next = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = settings.Changed;
            var config = settings.Monitoring;
            if (!config.SystemMonitoring)
            {
                await WaitAsync(changed, Timeout.InfiniteTimeSpan, stoppingToken);
                next = time.GetUtcNow();
                continue;
            }

            var wait = next - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                if (await WaitAsync(changed, wait, stoppingToken))
                {
                    next = time.GetUtcNow(); // new interval or switched on: sample now, then follow the new interval
                    continue;
                }
            }

            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            var interval = TimeSpan.FromSeconds(config.SystemIntervalSeconds);
            next += interval;
            if (next < time.GetUtcNow())
            {
                next = time.GetUtcNow() + interval; // late (suspended host, slow disk): skip, never catch up in a burst
            }

            try
            {
                var sample = collectors.Collect();
                latest.Set(sample);
                spool.Append(sample);
                LogSampleSpooled(logger, sample.Time.ToUnixTimeMilliseconds(), sample.Values.Count);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogSpoolFailed(logger, e.Message);
            }
        }
    }

    /// <summary>Waits for a settings change or the delay; true when the settings changed.</summary>
    private async Task<bool> WaitAsync(Task changed, TimeSpan delay, CancellationToken stoppingToken)
    {
        var delayTask = Task.Delay(delay, time, stoppingToken);
        var first = await Task.WhenAny(changed, delayTask);
        return first == changed;
    }

    [LoggerMessage(704, LogLevel.Debug, "Sample {SampleTime} spooled ({Metrics} metrics)")]
    private static partial void LogSampleSpooled(ILogger logger, long sampleTime, int metrics);

    [LoggerMessage(700, LogLevel.Warning, "A system sample could not be spooled: {Error}")]
    private static partial void LogSpoolFailed(ILogger logger, string error);
}
