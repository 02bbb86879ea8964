using System.Security.Cryptography;
using System.Text;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Servers;

namespace ManagedServers.Grains.Identity;

[GenerateSerializer, Alias("ms.ServerNameState")]
public sealed class ServerNameState
{
    [Id(0)]
    public string? ServerId { get; set; }
}

public sealed class ServerNameGrain(
    [PersistentState("serverName", GrainNames.Storage)] IPersistentState<ServerNameState> store)
    : Grain, IServerNameGrain
{
    public async Task<bool> TryClaimAsync(string serverId)
    {
        if (store.State.ServerId is { } holder)
        {
            return holder == serverId;
        }

        store.State.ServerId = serverId;
        await store.WriteStateAsync();
        return true;
    }

    public async Task ReleaseAsync(string serverId)
    {
        if (store.State.ServerId == serverId)
        {
            await store.ClearStateAsync();
            store.State = new ServerNameState();
        }
    }
}
