using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Silo.Streaming;

/// <summary>Commands for AMQP agents, published with confirms to each agent's own queue.</summary>
public sealed class RabbitMqCommandChannel(RabbitMqPublisher publisher) : IAgentCommandChannel
{
    public bool Available => true;

    public Task PublishAsync(string serverId, AgentCommand command, CancellationToken cancellationToken) =>
        publisher.PublishCommandAsync(serverId, command, cancellationToken);
}
