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

/// <summary>Kea's statistics as the DHCP collector last read them (for the agent's Prometheus endpoint).</summary>
internal sealed record DhcpReading(IReadOnlyList<DhcpSubnetStats> Subnets, IReadOnlyDictionary<string, long> PacketTotals);

/// <summary>The latest <see cref="DhcpReading"/>, set by the DHCP collector at the end of each interval.</summary>
internal sealed class LatestDhcp
{
    private DhcpReading? _current;

    public DhcpReading? Current => Volatile.Read(ref _current);

    public void Set(DhcpReading reading) => Volatile.Write(ref _current, reading);
}
