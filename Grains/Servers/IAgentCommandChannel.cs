using ManagedServers.Contracts.Agent;

namespace ManagedServers.Grains.Servers;

/// <summary>
/// Pushes commands to agents that talk AMQP (each agent's own durable queue). Agents on HTTPS
/// long-poll their grain instead and never touch this.
/// </summary>
public interface IAgentCommandChannel
{
    /// <summary>False when the silo has no broker configured: AMQP servers' commands wait until it has.</summary>
    bool Available { get; }

    /// <summary>Completes once the broker has the command on disk; the command id is the idempotency key.</summary>
    Task PublishAsync(string serverId, AgentCommand command, CancellationToken cancellationToken);
}

/// <summary>The embedded default: no broker.</summary>
public sealed class NoAgentCommandChannel : IAgentCommandChannel
{
    public bool Available => false;

    public Task PublishAsync(string serverId, AgentCommand command, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("RabbitMQ is not configured on this silo");
}
