using System.Security.Claims;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Configuration;
using MudBlazor.Services;

namespace ManagedServers.Api.Ui;

/// <summary>
/// The web UI: a Blazor Web App in this host (server-rendered pages with their data, interactive over SignalR once the
/// script runs). People sign in with a plain form post and get a session cookie (HttpOnly, SameSite=Strict, Secure over
/// HTTPS, sliding expiry); the cookie opens the UI only: the REST API keeps to Bearer tokens, so a page can never be
/// made to call it on a person's behalf. Pages call the grains, as the API's handlers do.
/// </summary>
public static class UiSetup
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string Policy = "ui";
    public const string CookieName = "ms_session";

    public static IServiceCollection AddManagedServersUi(this IServiceCollection services, AuthenticationBuilder authentication)
    {
        // A pasted zone file reaches the page as one circuit message: up to 4 MB (SignalR's default is 32 KB); larger
        // zones are uploaded (InputFile streams in chunks) or go through the API.
        services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(o => o.MaximumReceiveMessageSize = Shared.ZoneText.MaxPaste);
        services.AddMudServices(o => o.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, SessionRevalidation>();
        services.AddOptions<CookieAuthenticationOptions>(CookieScheme).Configure<IConfiguration>((o, configuration) =>
            o.ExpireTimeSpan = configuration.GetValue("Ui:SessionLifetime", TimeSpan.FromHours(8)));
        authentication.AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.SlidingExpiration = true;
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.AccessDeniedPath = "/denied";
            o.ReturnUrlParameter = "return";
            o.Events.OnValidatePrincipal = ValidateAsync;
        });
        return services;
    }

    /// <summary>The UI's policies: <see cref="Policy"/> (any person), and one per API permission (<see cref="PolicyFor"/>) over the session cookie.</summary>
    public static void AddUiPolicy(this Microsoft.AspNetCore.Authorization.AuthorizationBuilder builder)
    {
        builder.AddPolicy(Policy, p => p.AddAuthenticationSchemes(CookieScheme).RequireRole(AuthNames.PeopleGroups));
        foreach (var (permission, roles) in Permissions.Roles)
        {
            builder.AddPolicy(PolicyFor(permission), p => p.AddAuthenticationSchemes(CookieScheme).RequireRole(roles));
        }
    }

    /// <summary>The UI policy for one of the API's <see cref="Permissions"/>.</summary>
    public static string PolicyFor(string permission) => "ui:" + permission;

    public static WebApplication MapManagedServersUi(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .RequireAuthorization(Policy);
        app.MapPost("/logout", async Task<IResult> (HttpContext context, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery) =>
            {
                // A sign-out another site's form posts would end the session: the page's anti-forgery token is required.
                // It was issued to the signed-in person, so the session is read before the token is checked.
                if ((await context.AuthenticateAsync(CookieScheme)).Principal is { } person)
                {
                    context.User = person;
                }

                if (!await antiforgery.IsRequestValidAsync(context))
                {
                    return TypedResults.Problem("the sign-out form's anti-forgery token is missing or wrong: sign out from a page of this site", statusCode: 400);
                }

                await context.SignOutAsync(CookieScheme);
                return TypedResults.LocalRedirect("/login");
            })
            .DisableAntiforgery()
            .AllowAnonymous()
            .ExcludeFromDescription();

        // Downloads a page links to: the API's handlers behind the session cookie.
        var files = app.MapGroup("/ui").ExcludeFromDescription();
        files.MapGet("/servers/{id}/setup-bundle", (string id, IGrainFactory grains, Pki.CertificateIssuer issuer, IConfiguration configuration) =>
                Endpoints.ServersEndpoints.BundleAsync(id, grains, issuer, configuration))
            .RequireAuthorization(PolicyFor(Permissions.ServersWrite));
        files.MapGet("/zones/{zone}/export", (string zone, IGrainFactory grains, HttpResponse response) => Endpoints.ZonesEndpoints.ExportAsync(zone, grains, response))
            .RequireAuthorization(PolicyFor(Permissions.ZonesRead));
        return app;
    }

    /// <summary>The signed-in principal for a user record.</summary>
    public static ClaimsPrincipal PrincipalOf(UserRecord user) => Principals.Person(user, CookieScheme);

    /// <summary>Each request: the user must still exist, with the groups the cookie says (a removed user's session ends at once).</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var grains = context.HttpContext.RequestServices.GetRequiredService<IGrainFactory>();
        var name = context.Principal?.Identity?.Name;
        var user = name is null ? null : await grains.GetGrain<IUserGrain>(name).GetAsync();
        if (user?.PasswordHash is null || !SameGroups(user, context.Principal!))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
        }
    }

    internal static bool SameGroups(UserRecord user, ClaimsPrincipal principal) =>
        user.Groups.Order(StringComparer.Ordinal).SequenceEqual(principal.FindAll(ClaimTypes.Role).Select(c => c.Value).Order(StringComparer.Ordinal));
}
