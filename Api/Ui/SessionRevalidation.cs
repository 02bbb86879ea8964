using ManagedServers.Grains.Interfaces.Identity;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace ManagedServers.Api.Ui;

/// <summary>
/// A live page (a SignalR circuit) outlives the request that opened it: every minute it checks that its user still exists
/// with the same groups, and signs the page out when not (the page then shows the sign-in link).
/// </summary>
internal sealed class SessionRevalidation(ILoggerFactory loggerFactory, IGrainFactory grains) : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var principal = authenticationState.User;
        if (principal.Identity?.Name is not { Length: > 0 } name)
        {
            return false;
        }

        var user = await grains.GetGrain<IUserGrain>(name).GetAsync();
        return user?.PasswordHash is not null && UiSetup.SameGroups(user, principal);
    }
}
