using ManagedServers.Api.Broker;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Silo.Broker;

/// <summary>The agents' broker users for grains (deleting a server removes its user), over RabbitMQ's management API.</summary>
public sealed class GrainBrokerUsers(AgentBrokerAccounts accounts) : IAgentBrokerUsers
{
    public Task RemoveAsync(string serverId, CancellationToken cancellationToken) => accounts.RemoveAsync(serverId, cancellationToken);
}
