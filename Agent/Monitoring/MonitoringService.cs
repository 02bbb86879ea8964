using System.Threading.Channels;
using ManagedServers.Agent.Collectors;
using ManagedServers.Agent.Hosting;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// System monitoring: every system interval the collectors take a sample, which goes to the on-disk spool
/// (and to the opt-in Prometheus endpoint); a second loop sends the spool oldest first, in batches, and
/// removes samples only once the control plane (HTTPS) or the broker (AMQP) accepted them. An outage
/// therefore delays samples but loses none until the spool bound, where the oldest are dropped and counted
/// (the count travels with every batch). Settings changes (interval, on/off) apply at once. In pull mode
/// (<see cref="AgentRunOptions.PullListen"/>) the send loop idles: samples leave only when the control plane
/// pulls them (<see cref="PullEndpoint"/>).
/// </summary>
internal sealed partial class MonitoringService(
    SystemCollectors collectors,
    SampleSpool spool,
    LatestSample latest,
    ITelemetrySender<MetricsBatch> sender,
    AgentRuntimeSettings settings,
    AgentRunOptions options,
    TimeProvider time,
    ILogger<MonitoringService> logger) : BackgroundService
{
    /// <summary>Samples per batch: a backfill after a long outage goes out in requests of this size.</summary>
    public const int BatchSize = 500;

    /// <summary>"Something was spooled": capacity one, so it never counts up, and the send loop needs no polling.</summary>
    private readonly Channel<bool> _spooled = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            Task.Run(() => CollectLoopAsync(stoppingToken), CancellationToken.None),
            Task.Run(() => options.PullListen is null ? SendLoopAsync(stoppingToken) : IdleAsync(stoppingToken), CancellationToken.None));

    /// <summary>Pull mode: nothing is pushed; the spool is drained by the control plane's pulls.</summary>
    private static async Task IdleAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

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
                _spooled.Writer.TryWrite(true);
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

    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        IReadOnlyList<SpooledSample> batch = [];
        MetricsBatch? message = null; // kept across failed attempts: the same batch id is retried, not rebuilt from disk
        while (!stoppingToken.IsCancellationRequested)
        {
            if (message is null)
            {
                batch = spool.PeekOldest(BatchSize);
                if (batch.Count == 0)
                {
                    try
                    {
                        await _spooled.Reader.ReadAsync(stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                message = new MetricsBatch(settings.ServerId, Guid.NewGuid(), [.. batch.Select(s => s.Sample)], spool.DroppedTotal);
            }

            var (outcome, error) = await sender.SendAsync(message, stoppingToken);
            switch (outcome)
            {
                case SendOutcome.Accepted:
                    spool.Remove(batch);
                    message = null;
                    if (backoff.Failures > 0)
                    {
                        LogSendRecovered(logger, backoff.Failures, spool.Count);
                    }

                    backoff.Reset();
                    break;
                case SendOutcome.Refused:
                    spool.Remove(batch);
                    message = null;
                    LogBatchRefused(logger, batch.Count, error ?? "refused");
                    break;
                default:
                    var delay = backoff.Next();
                    if (!stoppingToken.IsCancellationRequested)
                    {
                        LogSendFailed(logger, batch.Count, spool.Count, backoff.Failures, error ?? "failed", delay.TotalSeconds);
                    }

                    if (!await Delays.TryDelayAsync(delay, time, stoppingToken))
                    {
                        return;
                    }

                    break;
            }
        }
    }

    [LoggerMessage(704, LogLevel.Debug, "Sample {SampleTime} spooled ({Metrics} metrics)")]
    private static partial void LogSampleSpooled(ILogger logger, long sampleTime, int metrics);

    [LoggerMessage(700, LogLevel.Warning, "A system sample could not be spooled: {Error}")]
    private static partial void LogSpoolFailed(ILogger logger, string error);

    [LoggerMessage(701, LogLevel.Warning, "Sending {Count} samples failed ({Failures} in a row, {Spooled} spooled): {Error}; retrying in {RetryInSeconds:0.#} s")]
    private static partial void LogSendFailed(ILogger logger, int count, int spooled, int failures, string error, double retryInSeconds);

    [LoggerMessage(702, LogLevel.Information, "Samples are accepted again after {Failures} failures; {Spooled} still spooled")]
    private static partial void LogSendRecovered(ILogger logger, int failures, int spooled);

    [LoggerMessage(703, LogLevel.Error, "The control plane refused {Count} samples; they were dropped: {Error}")]
    private static partial void LogBatchRefused(ILogger logger, int count, string error);
}
