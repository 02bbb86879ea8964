namespace ManagedServers.Grains.Servers;

/// <summary>The agents' broker users, as far as grains need them (the API host implements it over RabbitMQ's management API).</summary>
public interface IAgentBrokerUsers
{
    /// <summary>Deletes the broker user of <paramref name="serverId"/>; throws when the broker cannot be reached.</summary>
    Task RemoveAsync(string serverId, CancellationToken cancellationToken);
}

/// <summary>No broker configured on this host: there is no broker user to remove.</summary>
public sealed class NoAgentBrokerUsers : IAgentBrokerUsers
{
    public Task RemoveAsync(string serverId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("no broker is reachable from this silo");
}
