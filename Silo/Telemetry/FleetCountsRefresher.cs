using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Shared.Telemetry;

namespace ManagedServers.Silo.Telemetry;

/// <summary>
/// Keeps the <c>managedservers_agents</c> gauge's numbers: every <see cref="Interval"/> it asks the
/// fleet index shards (all in parallel, read-only, a few numbers each) for their counts by state and
/// kind and publishes the sum. A scrape only reads the last sum: it never waits for a grain, and no
/// server grain is ever activated for it. A failed round keeps the previous numbers.
/// </summary>
public sealed partial class FleetCountsRefresher(IGrainFactory grains, FleetCountsRefresher.Interval interval, ILogger<FleetCountsRefresher> logger)
    : BackgroundService
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Time between two rounds (<c>Metrics:FleetRefreshSeconds</c>).</summary>
    public sealed record Interval(TimeSpan Period);

    /// <summary>One round: the fleet's counts from every shard.</summary>
    public static async Task<FleetCounts> CountFleetAsync(IGrainFactory grains) =>
        FleetCounts.Merge(await FleetIndex.AskAllAsync(grains, shard => shard.CountAsync()));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval.Period);
        do
        {
            try
            {
                FleetMetrics.PublishAgentCounts(await CountFleetAsync(grains).WaitAsync(RoundTimeout, stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogRefreshFailed(logger, ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "Counting the fleet for /metrics failed; keeping the previous numbers: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
