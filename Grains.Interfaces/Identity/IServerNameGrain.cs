namespace ManagedServers.Grains.Interfaces.Identity;

/// <summary>The names a server name is claimed under (key: lower-case name): keeps names unique cluster-wide.</summary>
[Alias("ms.IServerNameGrain")]
public interface IServerNameGrain : IGrainWithStringKey
{
    /// <summary>Claims the name for <paramref name="serverId"/>; false when another server holds it.</summary>
    Task<bool> TryClaimAsync(string serverId);

    /// <summary>Releases the name if <paramref name="serverId"/> holds it.</summary>
    Task ReleaseAsync(string serverId);
}
