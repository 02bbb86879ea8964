using System.Security.Claims;
using ManagedServers.Api.Auth;
using ManagedServers.Grains.Interfaces.Servers;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>
/// A page of the UI: who is signed in, what they may do (the API's permissions, <see cref="Permissions"/>), and the
/// caller every grain call records (jobs' requested_by), as the API's requests do.
/// </summary>
public abstract class UiPage : ComponentBase
{
    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    protected ClaimsPrincipal User { get; private set; } = new();

    /// <summary>Whether the signed-in person holds <paramref name="permission"/>.</summary>
    protected bool Can(string permission) =>
        Permissions.Roles.TryGetValue(permission, out var roles) && roles.Any(User.IsInRole);

    protected override async Task OnInitializedAsync()
    {
        if (AuthenticationState is not null)
        {
            User = (await AuthenticationState).User;
        }

        AsCaller();
        await OnPageInitializedAsync();
    }

    /// <summary>The page's own initialisation, after <see cref="User"/> is known.</summary>
    protected virtual Task OnPageInitializedAsync() => Task.CompletedTask;

    /// <summary>
    /// A form's action through the API's handler (<see cref="UiCall"/>), on behalf of the signed-in person. The form's
    /// fields lose their last messages first (<paramref name="clear"/>, then a render): MudBlazor's inputs keep their
    /// own error state and take Error from the page only when it changes, so a field refused twice in a row would
    /// otherwise not show the second message.
    /// </summary>
    protected async Task<UiOutcome> SubmitAsync(Action clear, Func<Task<IResult>> call)
    {
        clear();
        StateHasChanged();
        await Task.Yield();
        AsCaller();
        return await UiCall.RunAsync(call);
    }

    /// <summary>Grain calls from here on (in this async flow) are made on behalf of the signed-in person.</summary>
    protected void AsCaller()
    {
        if (User.Identity?.Name is { Length: > 0 } name)
        {
            Caller.Set(name);
        }
    }
}
