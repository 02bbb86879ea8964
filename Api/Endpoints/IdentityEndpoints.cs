using System.Security.Claims;
using ManagedServers.Api.Auth;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Grains.Interfaces.Identity;
using Microsoft.Extensions.Options;

namespace ManagedServers.Api.Endpoints;

/// <summary>/api/v1/tokens, /api/v1/users, /api/v1/groups.</summary>
public static class IdentityEndpoints
{
    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/v1/tokens").WithTags("Tokens");
        tokens.MapPost("/", CreateTokenAsync).RequireAuthorization(AuthNames.TokenCreation)
            .WithName("CreateToken").WithSummary("Create an API token (HTTP Basic or Bearer); the token is shown once. expires_in: \"30d\", \"12h\", … or \"never\" (default: Tokens:DefaultLifetime, 30d)");
        tokens.MapGet("/", ListTokensAsync).RequireAuthorization(Permissions.TokensOwn).WithName("ListTokens").WithSummary("Your tokens (never their secrets)");
        tokens.MapDelete("/{tokenId}", RevokeTokenAsync).RequireAuthorization(Permissions.TokensOwn).WithName("RevokeToken").WithSummary("Revoke one of your tokens (admins: any)");

        app.MapGet("/api/v1/users", ListUsersAsync).WithTags("Users").RequireAuthorization(Permissions.UsersManage).WithName("ListUsers").WithSummary("People users");
        app.MapPost("/api/v1/users", CreateUserAsync).WithTags("Users").RequireAuthorization(Permissions.UsersManage).WithName("CreateUser").WithSummary("Create a user");
        app.MapGet("/api/v1/groups", ListGroups).WithTags("Users").RequireAuthorization(Permissions.ServersRead).WithName("ListGroups").WithSummary("Built-in groups");
        return app;
    }

    public static async Task<Results<Created<CreatedToken>, ValidationProblem>> CreateTokenAsync(
        ClaimsPrincipal user, IGrainFactory grains, TimeProvider time, IOptions<TokenOptions> options, CreateTokenRequest? body = null)
    {
        var errors = new FieldErrors();
        var lifetime = options.Value.Lifetime;
        if (body?.ExpiresIn is { } expiresIn && !TokenLifetimes.TryParse(expiresIn, out lifetime))
        {
            errors.Add("expires_in", $"'{expiresIn}' is not {TokenLifetimes.Hint}");
        }

        if (body?.Name is { Length: > 100 })
        {
            errors.Add("name", "at most 100 characters");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var owner = user.Identity!.Name!;
        var (token, id, secretHash) = Secrets.NewToken();
        var now = time.GetUtcNow();
        DateTimeOffset? expires = lifetime is { } l ? now + l : null;
        var name = string.IsNullOrWhiteSpace(body?.Name) ? $"token-{id[..6]}" : body.Name.Trim();
        await grains.GetGrain<IApiTokenGrain>(id).CreateAsync(new ApiTokenRecord(id, name, owner, secretHash, now, expires, null));
        await grains.GetGrain<IUserGrain>(owner).AddTokenAsync(id);
        return TypedResults.Created($"/api/v1/tokens/{id}", new CreatedToken(token, id, name, owner, expires));
    }

    public static async Task<Ok<TokenView[]>> ListTokensAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var record = await grains.GetGrain<IUserGrain>(user.Identity!.Name!).GetAsync();
        var views = new List<TokenView>();
        foreach (var id in record?.TokenIds ?? [])
        {
            if (await grains.GetGrain<IApiTokenGrain>(id).GetAsync() is { } t)
            {
                views.Add(new TokenView(t.Id, t.Name, t.User, t.CreatedAt, t.ExpiresAt, t.LastUsedAt));
            }
        }

        return TypedResults.Ok(views.ToArray());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(string tokenId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var token = grains.GetGrain<IApiTokenGrain>(tokenId);
        var record = await token.GetAsync();
        if (record is null || (record.User != user.Identity!.Name && !user.IsInRole(Groups.Admins)))
        {
            return Problem.NotFound($"token '{tokenId}' not found");
        }

        await token.RevokeAsync();
        await grains.GetGrain<IUserGrain>(record.User).RemoveTokenAsync(tokenId);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<UserView[]>> ListUsersAsync(IGrainFactory grains)
    {
        var names = await grains.GetGrain<IUserDirectoryGrain>("people").ListAsync();
        var users = await Task.WhenAll(names.Select(n => grains.GetGrain<IUserGrain>(n).GetAsync()));
        return TypedResults.Ok(users.OfType<UserRecord>().Select(u => new UserView(u.Name, u.Groups, u.ServerId is not null, u.ServerId)).ToArray());
    }

    public static async Task<Results<Created<UserView>, ValidationProblem>> CreateUserAsync(CreateUserRequest body, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var name = body.Name?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(name) || !ServersEndpoints.UserNamePattern().IsMatch(name))
        {
            errors.Add("name", "use 1 to 64 characters: a-z, 0-9, '.', '_' or '-'");
        }

        if (body.Password is null || body.Password.Length < 12)
        {
            errors.Add("password", "at least 12 characters");
        }

        var groups = body.Groups is { Count: > 0 } g ? g.Select(x => x.ToLowerInvariant()).Distinct().ToImmutableArray() : [Groups.Viewers];
        foreach (var group in groups.Where(x => x is not (Groups.Admins or Groups.Viewers)))
        {
            errors.Add("groups", $"'{group}' is not a group people can join; use admins or viewers");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var record = await grains.GetGrain<IUserGrain>(name!).CreateAsync(Secrets.HashPassword(body.Password!), groups, null);
        await grains.GetGrain<IUserDirectoryGrain>("people").AddAsync(name!);
        return TypedResults.Created($"/api/v1/users/{name}", new UserView(record.Name, record.Groups, false, null));
    }

    public static Ok<GroupView[]> ListGroups() => TypedResults.Ok(new[]
    {
        new GroupView(Groups.Admins, "Full control of servers, settings, users and tokens"),
        new GroupView(Groups.Viewers, "Read-only access to servers, monitoring and settings"),
        new GroupView(Groups.Servers, "Server users: each acts only for its own managed server (agents)"),
    });
}
