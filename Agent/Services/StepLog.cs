using ManagedServers.Agent.Commands;

namespace ManagedServers.Agent.Services;

/// <summary>The steps a service command takes: kept for its result, and reported as they happen (heartbeat progress).</summary>
internal sealed class StepLog : List<string>
{
    public new void Add(string step)
    {
        base.Add(step);
        CommandProgressBoard.Report(step);
    }
}
