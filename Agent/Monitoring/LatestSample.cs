using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Monitoring;

/// <summary>The most recent system sample, shared between the collection loop and readers such as the Prometheus endpoint.</summary>
internal sealed class LatestSample
{
    private SystemSample? _current;

    /// <summary>The latest sample, null until the first is set.</summary>
    public SystemSample? Current => Volatile.Read(ref _current);

    public void Set(SystemSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Volatile.Write(ref _current, sample);
    }
}
