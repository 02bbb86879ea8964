using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.State;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// One kind of telemetry from collector to control plane: the collector appends items to the kind's spool (on disk,
/// bounded), and <see cref="TelemetryShipper{TItem, TBatch}"/> sends them oldest first, packed into batches of at most
/// <see cref="BatchSize"/> items, over the agent's transport (<see cref="ITelemetrySender{TBatch}"/>: HTTPS or AMQP),
/// removing them only once they were accepted. A new kind (DHCP statistics next) is one instance here, one
/// <see cref="TelemetryKind{TBatch}"/>, one <see cref="PipelineRegistration.AddTelemetryPipeline"/> line and its collector.
/// </summary>
/// <param name="Spool">How items are kept on disk.</param>
/// <param name="Kind">How batches are sent.</param>
/// <param name="Items">What the items are called in log messages ("samples").</param>
/// <param name="BatchSize">Items per batch at most: a backfill after a long outage goes out in batches of this size.</param>
/// <param name="Pack">The batch sent for spooled items (server id, items oldest first, the spool's dropped total).</param>
internal sealed record TelemetryPipeline<TItem, TBatch>(
    SpoolFormat<TItem> Spool,
    TelemetryKind<TBatch> Kind,
    string Items,
    int BatchSize,
    Func<string, IReadOnlyList<TItem>, long, TBatch> Pack)
    where TItem : class;

/// <summary>The telemetry pipelines of this agent.</summary>
internal static class TelemetryPipelines
{
    private const long MiB = 1024 * 1024;

    /// <summary>System samples: up to 50,000 (≈ 2 days at 5 s) or 256 MiB spooled, sent 500 to a batch.</summary>
    public static readonly TelemetryPipeline<SystemSample, MetricsBatch> System = new(
        new SpoolFormat<SystemSample>("spool", ContractsJson.Default.SystemSample, s => s.Time, s => s.Values is not null, 50_000, 256 * MiB),
        TelemetryKinds.System,
        "samples",
        500,
        (server, samples, dropped) => new MetricsBatch(server, Guid.NewGuid(), samples, dropped));

    /// <summary>
    /// DNS intervals: a week of one-minute intervals or 256 MiB spooled; each interval is its own batch (built, with its
    /// batch id, when the interval ends).
    /// </summary>
    public static readonly TelemetryPipeline<DnsMetricsBatch, DnsMetricsBatch> Dns = new(
        new SpoolFormat<DnsMetricsBatch>("spool-dns", ContractsJson.Default.DnsMetricsBatch, b => b.IntervalStart, b => b.Counters is not null && b.Names is not null, 7 * 24 * 60, 256 * MiB),
        TelemetryKinds.Dns,
        "DNS intervals",
        1,
        (_, intervals, _) => intervals[0]);

    /// <summary>DHCP intervals: like DNS ones, a week of one-minute intervals or 64 MiB, each interval its own batch.</summary>
    public static readonly TelemetryPipeline<DhcpMetricsBatch, DhcpMetricsBatch> Dhcp = new(
        new SpoolFormat<DhcpMetricsBatch>("spool-dhcp", ContractsJson.Default.DhcpMetricsBatch, b => b.IntervalStart, b => b.Subnets is not null && b.Packets is not null, 7 * 24 * 60, 64 * MiB),
        TelemetryKinds.Dhcp,
        "DHCP intervals",
        1,
        (_, intervals, _) => intervals[0]);
}

/// <summary>Registers telemetry pipelines.</summary>
internal static class PipelineRegistration
{
    /// <summary>The pipeline's spool (a singleton its collector appends to) and its shipper (a hosted service).</summary>
    public static IServiceCollection AddTelemetryPipeline<TItem, TBatch>(this IServiceCollection services, TelemetryPipeline<TItem, TBatch> pipeline, StateDirectory state)
        where TItem : class
    {
        services.AddSingleton(pipeline);
        services.AddSingleton(pipeline.Kind);
        services.AddSingleton(sp => new TelemetrySpool<TItem>(pipeline.Spool, state.SpoolDirectory(pipeline.Spool), logger: sp.GetRequiredService<ILogger<TelemetrySpool<TItem>>>()));
        services.AddHostedService<TelemetryShipper<TItem, TBatch>>();
        return services;
    }
}

/// <summary>
/// The send loop of one pipeline: peeks the oldest spooled items, packs them, sends, and removes them once accepted
/// (or refused for good: a batch the control plane will never take is dropped and logged). On failure the same batch
/// (same batch id) is retried with backoff, so the control plane can tell a retry from new data. Idle in pull mode
/// (<see cref="AgentRunOptions.PullListen"/>): samples then leave only when the control plane pulls them
/// (<see cref="PullEndpoint"/>).
/// </summary>
internal sealed class TelemetryShipper<TItem, TBatch>(
    TelemetryPipeline<TItem, TBatch> pipeline,
    TelemetrySpool<TItem> spool,
    ITelemetrySender<TBatch> sender,
    AgentRuntimeSettings settings,
    AgentRunOptions options,
    TimeProvider time,
    ILogger<TelemetryShipper<TItem, TBatch>> logger) : BackgroundService
    where TItem : class
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.PullListen is not null)
        {
            return;
        }

        await Task.Yield(); // the loop runs off the host's start-up path
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        IReadOnlyList<Spooled<TItem>> items = [];
        var batch = default(TBatch); // kept across failed attempts: the same batch id is retried, not rebuilt from disk
        while (!stoppingToken.IsCancellationRequested)
        {
            if (batch is null)
            {
                items = spool.PeekOldest(pipeline.BatchSize);
                if (items.Count == 0)
                {
                    try
                    {
                        await spool.WaitForItemsAsync(stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                batch = pipeline.Pack(settings.ServerId, [.. items.Select(i => i.Item)], spool.DroppedTotal);
            }

            var (outcome, error) = await sender.SendAsync(batch, stoppingToken);
            switch (outcome)
            {
                case SendOutcome.Accepted:
                    spool.Remove(items);
                    batch = default;
                    if (backoff.Failures > 0)
                    {
                        logger.TelemetrySendRecovered(pipeline.Items, backoff.Failures, spool.Count);
                    }

                    backoff.Reset();
                    break;
                case SendOutcome.Refused:
                    spool.Remove(items);
                    batch = default;
                    logger.TelemetryRefused(items.Count, pipeline.Items, error ?? "refused");
                    break;
                default:
                    var delay = backoff.Next();
                    if (!stoppingToken.IsCancellationRequested)
                    {
                        logger.TelemetrySendFailed(items.Count, pipeline.Items, backoff.Failures, spool.Count, error ?? "failed", delay.TotalSeconds);
                    }

                    if (!await Delays.TryDelayAsync(delay, time, stoppingToken))
                    {
                        return;
                    }

                    break;
            }
        }
    }
}
