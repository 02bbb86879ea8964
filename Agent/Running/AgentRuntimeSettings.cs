using ManagedServers.Agent.State;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Running;

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

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Applies what the control plane sent (heartbeat ack or configure command) and logs what changed.</summary>
    public void Apply(int heartbeatIntervalSeconds, AgentMonitoringConfig? monitoring, Microsoft.Extensions.Logging.ILogger logger)
    {
        var old = Current;
        try
        {
            if (TrySetHeartbeatInterval(heartbeatIntervalSeconds))
            {
                logger.HeartbeatIntervalChanged(old.HeartbeatIntervalSeconds, heartbeatIntervalSeconds);
            }

            if (TrySetMonitoring(monitoring))
            {
                logger.MonitoringSettingsChanged(monitoring!.SystemMonitoring, monitoring.SystemIntervalSeconds, monitoring.DnsMonitoring, monitoring.DnsIntervalSeconds);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.SettingsSaveFailed(e.Message);
        }
    }

    /// <summary>Applies new monitoring settings; returns false when unchanged or invalid.</summary>
    public bool TrySetMonitoring(AgentMonitoringConfig? monitoring)
    {
        var current = Current;
        if (monitoring is null || monitoring.SystemIntervalSeconds <= 0 || monitoring.DnsIntervalSeconds <= 0 || monitoring == current.Monitoring)
        {
            return false;
        }

        Save(current with { Monitoring = monitoring });
        return true;
    }

    private void Save(AgentSettings updated)
    {
        Volatile.Write(ref _current, updated);
        var previous = Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
        state.WriteSettings(updated); // may throw IOException: the new settings are in force in memory anyway
    }

    /// <summary>Applies a new heartbeat interval; returns false when it is unchanged or invalid.</summary>
    public bool TrySetHeartbeatInterval(int seconds)
    {
        var current = Current;
        if (seconds <= 0 || seconds == current.HeartbeatIntervalSeconds)
        {
            return false;
        }

        Save(current with { HeartbeatIntervalSeconds = seconds });
        return true;
    }
}
