namespace ManagedServers.Grains.Interfaces.Identity;

/// <summary>The list of people users (server users are listed through the fleet index instead).</summary>
[Alias("ms.IUserDirectoryGrain")]
public interface IUserDirectoryGrain : IGrainWithStringKey
{
    Task AddAsync(string userName);

    Task RemoveAsync(string userName);

    [ReadOnly]
    Task<ImmutableArray<string>> ListAsync();
}
