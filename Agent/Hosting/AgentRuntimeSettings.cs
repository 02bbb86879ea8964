using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Hosting;

/// <summary>The settings in force, starting from <c>agent.json</c>; changes the control plane sends are saved back.</summary>
internal sealed class AgentRuntimeSettings(AgentSettings initial, StateDirectory state)
{
    private AgentSettings _current = initial;

    public AgentSettings Current => Volatile.Read(ref _current);

    public string ServerId => Current.ServerId;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(Current.HeartbeatIntervalSeconds);

    public AgentMonitoringConfig Monitoring => Current.Monitoring;

    /// <summary>Completes when the settings change (then a new task is handed out), so loops can re-plan at once.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Applies what the control plane sent (heartbeat ack or configure command) as one change: one save of
    /// <c>agent.json</c>, one <see cref="Changed"/>, and no lost update when an ack and a command arrive together.
    /// Non-positive intervals are ignored. Logs what changed.
    /// </summary>
    public void Apply(int heartbeatIntervalSeconds, AgentMonitoringConfig? monitoring, Microsoft.Extensions.Logging.ILogger logger)
    {
        AgentSettings old, updated;
        string? saveError = null;
        lock (_lock)
        {
            old = Current;
            updated = old;
            if (heartbeatIntervalSeconds > 0)
            {
                updated = updated with { HeartbeatIntervalSeconds = heartbeatIntervalSeconds };
            }

            if (monitoring is { SystemIntervalSeconds: > 0, DnsIntervalSeconds: > 0, DhcpIntervalSeconds: > 0 })
            {
                updated = updated with { Monitoring = monitoring };
            }

            if (updated == old)
            {
                return;
            }

            Volatile.Write(ref _current, updated);
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            try
            {
                state.WriteSettings(updated); // under the lock: the file never ends on an older update
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                saveError = e.Message; // the new settings are in force in memory anyway
            }
        }

        if (updated.HeartbeatIntervalSeconds != old.HeartbeatIntervalSeconds)
        {
            logger.HeartbeatIntervalChanged(old.HeartbeatIntervalSeconds, updated.HeartbeatIntervalSeconds);
        }

        if (updated.Monitoring != old.Monitoring)
        {
            var m = updated.Monitoring;
            logger.MonitoringSettingsChanged(m.SystemMonitoring, m.SystemIntervalSeconds, m.DnsMonitoring, m.DnsIntervalSeconds);
        }

        if (saveError is not null)
        {
            logger.SettingsSaveFailed(saveError);
        }
    }
}
