using System.Threading.Channels;
using ManagedServers.Agent.Dns;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// DNS monitoring, when the server runs a DNS service and <see cref="AgentMonitoringConfig.DnsMonitoring"/> is on: the
/// dnstap socket (<c>run/dnstap.sock</c> in the DNS service directory) is open as soon as the service directory exists,
/// and every <see cref="AgentMonitoringConfig.DnsIntervalSeconds"/> the service reads Knot's counters, takes the
/// interval's name hits, builds one <see cref="DnsMetricsBatch"/> and spools it (<see cref="DnsBatchSpool"/>); a send
/// loop sends the spool oldest first and removes an interval only once it was accepted. Settings changes apply at
/// once. Pull mode sends nothing (the spool keeps the last week; pulling DNS intervals is not implemented).
/// </summary>
internal sealed partial class DnsMonitoringService(
    DnsBatchSpool spool,
    ITelemetrySender<DnsMetricsBatch> sender,
    IServiceInventory inventory,
    ServiceManagerOptions serviceOptions,
    AgentRuntimeSettings settings,
    AgentRunOptions options,
    TimeProvider time,
    ILogger<DnsMonitoringService> logger,
    IKnotStatsReader statsReader,
    IDnsZoneSource? zoneSource = null) : BackgroundService
{
    private static readonly TimeSpan ServiceCheck = TimeSpan.FromSeconds(5);
    private readonly Channel<bool> _spooled = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private DnstapServer? _dnstap;

    /// <summary>The dnstap socket path of the DNS service.</summary>
    public string SocketPath => Path.Combine(Engines.KnotEngine.LayoutIn(serviceOptions.ServicesRoot).RunDirectory, "dnstap.sock");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(
                Task.Run(() => CollectLoopAsync(stoppingToken), CancellationToken.None),
                Task.Run(() => options.PullListen is null ? SendLoopAsync(stoppingToken) : Task.CompletedTask, CancellationToken.None));
        }
        finally
        {
            if (_dnstap is not null)
            {
                await _dnstap.DisposeAsync();
            }
        }
    }

    private bool DnsInstalled() => inventory.Statuses().Any(s => s.Kind == ServiceKinds.Dns);

    private async Task CollectLoopAsync(CancellationToken stoppingToken)
    {
        KnotStats? previous = null;
        var intervalStart = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = settings.Changed;
            var config = settings.Monitoring;
            if (!config.DnsMonitoring || !DnsInstalled())
            {
                previous = null;
                await WaitAsync(changed, ServiceCheck, stoppingToken);
                intervalStart = time.GetUtcNow();
                continue;
            }

            EnsureDnstap();
            var next = intervalStart + TimeSpan.FromSeconds(Math.Max(1, config.DnsIntervalSeconds));
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
            KnotStats? current = null;
            try
            {
                current = KnotStats.Parse(await statsReader.ReadAsync(stoppingToken));
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogStatsFailed(logger, e.Message);
            }

            var hits = _dnstap?.Snapshot() ?? new DnsHitSnapshot();
            var batch = DnsIntervalBuilder.Build(settings.ServerId, intervalStart, end, previous, current, hits, zoneSource?.Zones ?? [], spool.DroppedTotal);
            previous = current ?? previous;
            intervalStart = end;
            try
            {
                spool.Append(batch);
                LogIntervalSpooled(logger, batch.FramesSeen, batch.Names.Count, batch.FramesDropped);
                _spooled.Writer.TryWrite(true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogSpoolFailed(logger, e.Message);
            }
        }
    }

    private void EnsureDnstap()
    {
        if (_dnstap is not null || !Directory.Exists(Path.GetDirectoryName(SocketPath)))
        {
            return;
        }

        try
        {
            _dnstap = DnstapServer.Start(SocketPath, logger);
            LogDnstapListening(logger, SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            LogDnstapFailed(logger, SocketPath, e.Message);
        }
    }

    private async Task<bool> WaitAsync(Task changed, TimeSpan delay, CancellationToken stoppingToken)
    {
        var delayTask = Task.Delay(delay, time, stoppingToken);
        var first = await Task.WhenAny(changed, delayTask);
        return first == changed;
    }

    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        while (!stoppingToken.IsCancellationRequested)
        {
            if (spool.PeekOldest() is not { } entry)
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

            var (outcome, error) = await sender.SendAsync(entry.Batch, stoppingToken);
            if (outcome == SendOutcome.Failed)
            {
                var delay = backoff.Next();
                if (!stoppingToken.IsCancellationRequested)
                {
                    LogSendFailed(logger, spool.Count, backoff.Failures, error ?? "failed", delay.TotalSeconds);
                }

                if (!await Delays.TryDelayAsync(delay, time, stoppingToken))
                {
                    return;
                }

                continue;
            }

            spool.Remove(entry.Id);
            backoff.Reset();
            if (outcome == SendOutcome.Refused)
            {
                LogRefused(logger, error ?? "refused");
            }
        }
    }

    [LoggerMessage(750, LogLevel.Debug, "DNS interval spooled: {Frames} dnstap frames, {Names} names, {Dropped} frames dropped by Knot")]
    private static partial void LogIntervalSpooled(ILogger logger, long frames, int names, long dropped);

    [LoggerMessage(751, LogLevel.Warning, "Knot's counters could not be read: {Error}")]
    private static partial void LogStatsFailed(ILogger logger, string error);

    [LoggerMessage(752, LogLevel.Warning, "A DNS interval could not be spooled: {Error}")]
    private static partial void LogSpoolFailed(ILogger logger, string error);

    [LoggerMessage(753, LogLevel.Warning, "Sending DNS intervals failed ({Failures} in a row, {Spooled} spooled): {Error}; retrying in {RetryInSeconds:0.#} s")]
    private static partial void LogSendFailed(ILogger logger, int spooled, int failures, string error, double retryInSeconds);

    [LoggerMessage(754, LogLevel.Error, "The control plane refused a DNS interval; it was dropped: {Error}")]
    private static partial void LogRefused(ILogger logger, string error);

    [LoggerMessage(755, LogLevel.Information, "dnstap socket listening at {Path}")]
    private static partial void LogDnstapListening(ILogger logger, string path);

    [LoggerMessage(756, LogLevel.Warning, "dnstap socket {Path} could not be opened: {Error}")]
    private static partial void LogDnstapFailed(ILogger logger, string path, string error);
}
