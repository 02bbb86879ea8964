using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Interfaces.Servers;

/// <summary>
/// The pull side of a managed server's grain (same grain, same key as the server). The grain pulls a pull-mode
/// server's agent on its own timer; the pulled samples go through <see cref="Monitoring.IServerMetricsGrain.IngestAsync"/>
/// like pushed ones, the pulled heartbeat through this interface.
/// </summary>
[Alias("ms.IServerPullGrain")]
public interface IServerPullGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records a heartbeat pulled from the agent exactly as a pushed one (liveness, versions, uptime); one of another
    /// server, without a boot id or with a sequence below 1 is ignored.
    /// </summary>
    Task RecordPulledHeartbeatAsync(Heartbeat heartbeat);
}
