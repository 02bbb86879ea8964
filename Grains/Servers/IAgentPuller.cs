using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// Where the control plane pulls a server's agent: the server's address and pull port (null: the silo's default port).
/// </summary>
public sealed record PullTarget(string ServerId, string Address, int? Port);

/// <summary>
/// Pull mode's connection to agents (the agent's <c>run --pull-listen</c> endpoint, mutual TLS): implemented by the
/// silo host, which holds the CA. Server grains call it from their own timers, so pulls of different servers run
/// concurrently, bounded per silo by the implementation.
/// </summary>
public interface IAgentPuller
{
    /// <summary>False when this silo cannot pull (no implementation registered): pull servers' grains then wait.</summary>
    bool Available { get; }

    /// <summary>
    /// <c>GET /pull/v1/samples?ack=&amp;max=</c>: the agent first forgets its samples with time ≤ <paramref name="ackMs"/>
    /// (0: none), then answers its oldest up to <paramref name="max"/>. Throws on any failure (connection, TLS, the
    /// agent's certificate not being the server's, a bad answer).
    /// </summary>
    Task<MetricsBatch> PullSamplesAsync(PullTarget target, long ackMs, int max, CancellationToken cancellationToken);

    /// <summary><c>GET /pull/v1/heartbeat</c>: the agent's heartbeat. Throws like <see cref="PullSamplesAsync"/>.</summary>
    Task<Heartbeat> PullHeartbeatAsync(PullTarget target, CancellationToken cancellationToken);
}

/// <summary>The embedded default (and test clusters'): this silo does not pull.</summary>
public sealed class NoAgentPuller : IAgentPuller
{
    public bool Available => false;

    public Task<MetricsBatch> PullSamplesAsync(PullTarget target, long ackMs, int max, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("this silo has no agent puller");

    public Task<Heartbeat> PullHeartbeatAsync(PullTarget target, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("this silo has no agent puller");
}
