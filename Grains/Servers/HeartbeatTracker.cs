using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Servers;

/// <summary>What a heartbeat did to the liveness state.</summary>
public enum HeartbeatOutcome
{
    /// <summary>Duplicate or older than one already seen: ignored.</summary>
    Ignored,

    /// <summary>Accepted; the state did not change.</summary>
    Accepted,

    /// <summary>Accepted and the state changed.</summary>
    StateChanged,
}

/// <summary>
/// The liveness state machine of one server, kept apart from the grain so it is tested with a
/// fake clock: pending → running on the first heartbeat; running → stopped when the agent says
/// it is stopping; running → unreachable when no heartbeat arrives within the timeout; any → running
/// again on a fresh heartbeat. Duplicates and stale messages are dropped by (boot id, sequence).
/// </summary>
public sealed class HeartbeatTracker(TimeProvider time)
{
    public ServerState State { get; private set; } = ServerState.Pending;

    public DateTimeOffset? StateSince { get; private set; }

    public DateTimeOffset? LastHeartbeat { get; private set; }

    public Guid BootId { get; private set; }

    public long Sequence { get; private set; }

    /// <summary>When this tracker started watching (activation time): a grace start for the timeout.</summary>
    public DateTimeOffset WatchingSince { get; private set; } = time.GetUtcNow();

    public void Restore(ServerState state, DateTimeOffset? stateSince, DateTimeOffset? lastHeartbeat, Guid bootId, long sequence)
    {
        State = state;
        StateSince = stateSince;
        LastHeartbeat = lastHeartbeat;
        BootId = bootId;
        Sequence = sequence;
        WatchingSince = time.GetUtcNow();
    }

    public HeartbeatOutcome Observe(Heartbeat heartbeat)
    {
        if (heartbeat.BootId == BootId && heartbeat.Sequence <= Sequence)
        {
            return HeartbeatOutcome.Ignored;
        }

        BootId = heartbeat.BootId;
        Sequence = heartbeat.Sequence;
        LastHeartbeat = time.GetUtcNow();
        var next = heartbeat.Stopping ? ServerState.Stopped : ServerState.Running;
        return Transition(next) ? HeartbeatOutcome.StateChanged : HeartbeatOutcome.Accepted;
    }

    /// <summary>Marks the server unreachable when it is running and the timeout has passed. Returns whether the state changed.</summary>
    public bool CheckTimeout(TimeSpan timeout)
    {
        if (State != ServerState.Running)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var lastSign = LastHeartbeat is { } last && last > WatchingSince ? last : WatchingSince;
        return now - lastSign > timeout && Transition(ServerState.Unreachable);
    }

    /// <summary>When the timeout would fire if nothing arrives.</summary>
    public DateTimeOffset? Deadline(TimeSpan timeout)
    {
        if (State != ServerState.Running)
        {
            return null;
        }

        var lastSign = LastHeartbeat is { } last && last > WatchingSince ? last : WatchingSince;
        return lastSign + timeout;
    }

    private bool Transition(ServerState next)
    {
        if (State == next)
        {
            return false;
        }

        State = next;
        StateSince = time.GetUtcNow();
        return true;
    }
}
