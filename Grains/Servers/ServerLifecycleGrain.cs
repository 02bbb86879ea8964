using System.Security.Cryptography;
using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Identity;

namespace ManagedServers.Grains.Servers;

/// <inheritdoc cref="IServerLifecycleGrain"/>
[StatelessWorker]
public sealed partial class ServerLifecycleGrain(IAgentBrokerUsers broker, ILogger<ServerLifecycleGrain> logger) : Grain, IServerLifecycleGrain
{
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(15);

    public async Task<ServerSnapshot> CreateAsync(ServerDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var id = ServerIds.New();
        var nameGrain = GrainFactory.GetGrain<IServerNameGrain>(definition.Name.ToLowerInvariant());
        if (!await nameGrain.TryClaimAsync(id))
        {
            throw new ConflictException($"a server named '{definition.Name}' already exists") { Field = "name" };
        }

        var serverUser = string.IsNullOrEmpty(definition.ServerUser)
            ? "srv-user-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))
            : definition.ServerUser;
        var userGrain = GrainFactory.GetGrain<IUserGrain>(serverUser);
        var createdUser = false;
        try
        {
            if (await userGrain.GetAsync() is null)
            {
                await userGrain.CreateAsync(null, [Groups.Servers], id);
                createdUser = true;
            }
            else
            {
                await userGrain.BindServerAsync(id);
            }

            return await GrainFactory.GetGrain<IManagedServerGrain>(id).CreateAsync(definition with { ServerUser = serverUser });
        }
        catch
        {
            // Undo in reverse order; the server grain itself wrote nothing when it threw.
            if (createdUser)
            {
                await userGrain.DeleteAsync();
            }

            await nameGrain.ReleaseAsync(id);
            throw;
        }
    }

    public async Task<ServerDeletion> DeleteAsync(string serverId)
    {
        var server = GrainFactory.GetGrain<IManagedServerGrain>(serverId);
        var current = await server.GetAsync() ?? throw new NotFoundException($"server '{serverId}' not found");

        // The server first: from this moment its agent is refused; what follows only tidies up.
        await server.DeleteAsync();
        await GrainFactory.GetGrain<IServerNameGrain>(current.Definition.Name.ToLowerInvariant()).ReleaseAsync(serverId);
        var user = GrainFactory.GetGrain<IUserGrain>(current.Definition.ServerUser);
        if ((await user.GetAsync())?.ServerId == serverId)
        {
            await user.DeleteAsync();
        }

        return new ServerDeletion(serverId, await RemoveBrokerUserAsync(current));
    }

    public async Task<CertificateRevocation> RevokeCertificatesAsync(string serverId)
    {
        var server = GrainFactory.GetGrain<IManagedServerGrain>(serverId);
        var current = await server.GetAsync() ?? throw new NotFoundException($"server '{serverId}' not found");
        var revoked = await server.RevokeCertificatesAsync();
        return new CertificateRevocation(current, revoked, await RemoveBrokerUserAsync(current));
    }

    /// <summary>
    /// Best effort, for an AMQP server: null when it has no broker user, false when the broker could not be reached
    /// (logged; a broker user left behind can reach only its own queue).
    /// </summary>
    private async Task<bool?> RemoveBrokerUserAsync(ServerSnapshot server)
    {
        if (server.Definition.Communication != CommunicationMode.Amqp)
        {
            return null;
        }

        using var timeout = new CancellationTokenSource(BrokerTimeout);
        try
        {
            await broker.RemoveAsync(server.Id, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogBrokerUserLeft(logger, server.Id, ex.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 1056, Level = LogLevel.Warning, Message = "Broker user of server {ServerId} could not be removed (it can reach only its own queue): {Reason}")]
    private static partial void LogBrokerUserLeft(ILogger logger, string serverId, string reason);
}
