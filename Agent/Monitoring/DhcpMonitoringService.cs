using ManagedServers.Agent.Dhcp;
using ManagedServers.Agent.Engines;
using ManagedServers.Agent.Hosting;
using ManagedServers.Agent.Services;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// DHCP monitoring, when the server runs a DHCP service and <see cref="AgentMonitoringConfig.DhcpMonitoring"/> is on:
/// every <see cref="AgentMonitoringConfig.DhcpIntervalSeconds"/> one <c>statistic-get-all</c> to each running Kea
/// (<see cref="KeaStatistics"/>: per-subnet totals, assigned and declined addresses, packet counters), one
/// <see cref="DhcpMetricsBatch"/> spooled for the DHCP pipeline's shipper (<see cref="TelemetryPipelines.Dhcp"/>).
/// A Kea that does not answer is left out of that interval (and logged); its counters start again from its next answer.
/// </summary>
internal sealed partial class DhcpMonitoringService(
    TelemetrySpool<DhcpMetricsBatch> spool,
    IServiceInventory inventory,
    AgentRuntimeSettings settings,
    TimeProvider time,
    ILogger<DhcpMonitoringService> logger,
    LatestDhcp? latest = null) : IntervalCollector(settings, time)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly string[] Services = [ServiceKinds.Dhcp4, ServiceKinds.Dhcp6];
    private readonly Dictionary<string, IReadOnlyDictionary<string, long>> _previous = new(StringComparer.Ordinal);

    protected override bool Enabled(AgentMonitoringConfig config) => config.DhcpMonitoring && inventory.Statuses().Any(s => Services.Contains(s.Kind));

    protected override int IntervalSeconds(AgentMonitoringConfig config) => config.DhcpIntervalSeconds;

    protected override void OnOff() => _previous.Clear();

    protected override async Task CollectAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var subnets = new List<DhcpSubnetStats>();
        var packets = new Dictionary<string, long>(StringComparer.Ordinal);
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var service in Services)
        {
            if (inventory.Endpoints(service)?.ControlSocket is not { } socket || !File.Exists(socket))
            {
                _previous.Remove(service);
                continue;
            }

            try
            {
                var answer = await KeaControl.SendAsync(socket, "statistic-get-all", null, Timeout, cancellationToken);
                if (!answer.Ok)
                {
                    throw new KeaControlException(answer.Message);
                }

                var stats = KeaStatistics.Parse(answer.Arguments, service == ServiceKinds.Dhcp4 ? 4 : 6);
                subnets.AddRange(stats.Subnets);
                foreach (var (name, value) in KeaStatistics.Increase(stats.Packets, _previous.GetValueOrDefault(service)))
                {
                    packets[name] = value;
                }

                _previous[service] = stats.Packets;
                foreach (var (name, value) in stats.Packets)
                {
                    totals[name] = value;
                }
            }
            catch (Exception e) when (e is KeaControlException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                _previous.Remove(service);
                LogStatsFailed(logger, service, e.Message);
            }
        }

        latest?.Set(new DhcpReading(subnets, totals));
        var batch = new DhcpMetricsBatch(Settings.ServerId, Guid.NewGuid(), start, end, subnets, packets, spool.DroppedTotal);
        try
        {
            spool.Append(batch);
            LogIntervalSpooled(logger, subnets.Count);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSpoolFailed(logger, e.Message);
        }
    }

    [LoggerMessage(760, LogLevel.Debug, "DHCP interval spooled: {Subnets} subnets")]
    private static partial void LogIntervalSpooled(ILogger logger, int subnets);

    [LoggerMessage(761, LogLevel.Warning, "Kea's statistics could not be read from {Service}: {Error}")]
    private static partial void LogStatsFailed(ILogger logger, string service, string error);

    [LoggerMessage(762, LogLevel.Warning, "A DHCP interval could not be spooled: {Error}")]
    private static partial void LogSpoolFailed(ILogger logger, string error);
}
