using System.Security.Cryptography;
using System.Text;
using ManagedServers.Grains.Interfaces.Identity;
using ManagedServers.Grains.Servers;
using ManagedServers.Shared.Security;

namespace ManagedServers.Grains.Identity;

[GenerateSerializer, Alias("ms.ApiTokenState")]
public sealed class ApiTokenState
{
    [Id(0)]
    public ApiTokenRecord? Record { get; set; }
}

public sealed class ApiTokenGrain(
    [PersistentState("token", GrainNames.Storage)] IPersistentState<ApiTokenState> store,
    TimeProvider time)
    : Grain, IApiTokenGrain
{
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(5);

    public async Task CreateAsync(ApiTokenRecord record)
    {
        if (store.State.Record is not null)
        {
            throw new ConflictException("token id already in use");
        }

        store.State.Record = record;
        await store.WriteStateAsync();
    }

    public async Task<string?> ValidateAsync(string secretSha256) => (await CheckAsync(secretSha256)).User;

    public async Task<TokenCheck> CheckAsync(string secretSha256)
    {
        var record = store.State.Record;
        if (record is null
            || !SecretHash.Equal(record.SecretSha256, secretSha256))
        {
            return new TokenCheck(TokenStatus.NotValid, null, null);
        }

        var now = time.GetUtcNow();
        if (record.ExpiresAt is { } expires && expires <= now)
        {
            return new TokenCheck(TokenStatus.Expired, null, expires);
        }

        if (record.LastUsedAt is null || now - record.LastUsedAt > LastUsedResolution)
        {
            store.State.Record = record with { LastUsedAt = now };
            await store.WriteStateAsync();
        }

        return new TokenCheck(TokenStatus.Valid, record.User, record.ExpiresAt);
    }

    public Task<ApiTokenRecord?> GetAsync() => Task.FromResult(store.State.Record);

    public async Task RevokeAsync()
    {
        await store.ClearStateAsync();
        store.State = new ApiTokenState();
    }
}
