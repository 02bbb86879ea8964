using ManagedServers.Agent.State;

namespace ManagedServers.Agent.Running;

/// <summary>The settings in force, starting from <c>agent.json</c>; changes the control plane sends are saved back.</summary>
internal sealed class AgentRuntimeSettings(AgentSettings initial, StateDirectory state)
{
    private AgentSettings _current = initial;

    public AgentSettings Current => Volatile.Read(ref _current);

    public string ServerId => Current.ServerId;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(Current.HeartbeatIntervalSeconds);

    /// <summary>Applies a new heartbeat interval; returns false when it is unchanged or invalid.</summary>
    public bool TrySetHeartbeatInterval(int seconds)
    {
        var current = Current;
        if (seconds <= 0 || seconds == current.HeartbeatIntervalSeconds)
        {
            return false;
        }

        var updated = current with { HeartbeatIntervalSeconds = seconds };
        Volatile.Write(ref _current, updated);
        state.WriteSettings(updated);
        return true;
    }
}
