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
/// interval's name hits, builds one <see cref="DnsMetricsBatch"/> and spools it for the DNS pipeline's shipper
/// (<see cref="TelemetryPipelines.Dns"/>). Settings changes apply at once. Pull mode sends nothing (the spool keeps
/// the last week; pulling DNS intervals is not implemented).
/// </summary>
internal sealed partial class DnsMonitoringService(
    TelemetrySpool<DnsMetricsBatch> spool,
    IServiceInventory inventory,
    ServiceManagerOptions serviceOptions,
    AgentRuntimeSettings settings,
    TimeProvider time,
    ILogger<DnsMonitoringService> logger,
    IKnotStatsReader statsReader,
    IDnsZoneSource? zoneSource = null) : IntervalCollector(settings, time)
{
    private DnstapServer? _dnstap;
    private KnotStats? _previous;

    /// <summary>The dnstap socket path of the DNS service.</summary>
    public string SocketPath => Path.Combine(Engines.KnotEngine.LayoutIn(serviceOptions.ServicesRoot).RunDirectory, "dnstap.sock");

    protected override bool Enabled(AgentMonitoringConfig config) => config.DnsMonitoring && inventory.Statuses().Any(s => s.Kind == ServiceKinds.Dns);

    protected override int IntervalSeconds(AgentMonitoringConfig config) => config.DnsIntervalSeconds;

    protected override void OnOff() => _previous = null;

    protected override void BeforeInterval() => EnsureDnstap();

    protected override async ValueTask OnStoppedAsync()
    {
        if (_dnstap is not null)
        {
            await _dnstap.DisposeAsync();
        }
    }

    protected override async Task CollectAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        KnotStats? current = null;
        try
        {
            current = KnotStats.Parse(await statsReader.ReadAsync(cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogStatsFailed(logger, e.Message);
        }

        var hits = _dnstap?.Snapshot() ?? new DnsHitSnapshot();
        var batch = DnsIntervalBuilder.Build(Settings.ServerId, start, end, _previous, current, hits, zoneSource?.Zones ?? [], spool.DroppedTotal);
        _previous = current ?? _previous;
        try
        {
            spool.Append(batch);
            LogIntervalSpooled(logger, batch.FramesSeen, batch.Names.Count, batch.FramesDropped);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSpoolFailed(logger, e.Message);
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

    [LoggerMessage(750, LogLevel.Debug, "DNS interval spooled: {Frames} dnstap frames, {Names} names, {Dropped} frames dropped by Knot")]
    private static partial void LogIntervalSpooled(ILogger logger, long frames, int names, long dropped);

    [LoggerMessage(751, LogLevel.Warning, "Knot's counters could not be read: {Error}")]
    private static partial void LogStatsFailed(ILogger logger, string error);

    [LoggerMessage(752, LogLevel.Warning, "A DNS interval could not be spooled: {Error}")]
    private static partial void LogSpoolFailed(ILogger logger, string error);

    [LoggerMessage(755, LogLevel.Information, "dnstap socket listening at {Path}")]
    private static partial void LogDnstapListening(ILogger logger, string path);

    [LoggerMessage(756, LogLevel.Warning, "dnstap socket {Path} could not be opened: {Error}")]
    private static partial void LogDnstapFailed(ILogger logger, string path, string error);
}
