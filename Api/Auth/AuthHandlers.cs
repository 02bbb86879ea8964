using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using ManagedServers.Api.Infrastructure;
using ManagedServers.Api.Pki;
using ManagedServers.Grains.Interfaces.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace ManagedServers.Api.Auth;

/// <summary>Builds the principal of a person from their user record.</summary>
internal static class Principals
{
    public static ClaimsPrincipal Person(UserRecord user, string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, user.Name) };
        claims.AddRange(user.Groups.Select(g => new Claim(ClaimTypes.Role, g)));
        if (user.ServerId is not null)
        {
            claims.Add(new Claim(AuthNames.ServerIdClaim, user.ServerId));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }
}

/// <summary>
/// Bearer API tokens. A validated token is cached for a few seconds so a busy script does not
/// call the token grain on every request; revocation takes effect within that window.
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly TimeSpan CacheTtl = TimeSpan.FromSeconds(5);
    private static readonly ConcurrentDictionary<string, (UserRecord User, DateTimeOffset Until)> Cache = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (!Secrets.TryParseToken(header.Parameter, out var id, out var secret))
        {
            return Refuse("the token is not valid: it is not a ManagedServers API token (those start with 'mst_')");
        }

        var cacheKey = Secrets.Sha256Hex(header.Parameter);
        var now = time.GetUtcNow();
        if (Cache.TryGetValue(cacheKey, out var hit) && hit.Until > now)
        {
            return Success(hit.User);
        }

        var check = await grains.GetGrain<IApiTokenGrain>(id).CheckAsync(Secrets.Sha256Hex(secret));
        var user = check.User is null ? null : await grains.GetGrain<IUserGrain>(check.User).GetAsync();
        if (user is null)
        {
            Cache.TryRemove(cacheKey, out _);
            return Refuse(check.Status == TokenStatus.Expired
                ? $"the token has expired (at {check.ExpiresAt:u}): create a new one (POST /api/v1/tokens, or 'msctl login')"
                : $"the token is not valid (revoked, or not issued by this control plane): create a new one (POST /api/v1/tokens, or 'msctl login')");
        }

        if (Cache.Count > 10_000)
        {
            Cache.Clear();
        }

        // Cached a few seconds, never past the token's expiry.
        Cache[cacheKey] = (user, check.ExpiresAt is { } expires && expires < now + CacheTtl ? expires : now + CacheTtl);
        return Success(user);
    }

    private AuthenticateResult Refuse(string detail)
    {
        AuthNames.SetFailure(Context, detail);
        return AuthenticateResult.Fail(detail);
    }

    private AuthenticateResult Success(UserRecord user) =>
        AuthenticateResult.Success(new AuthenticationTicket(Principals.Person(user, Scheme.Name), Scheme.Name));
}

/// <summary>A person's name and password checked, under the login throttle: HTTP Basic and the web UI's sign-in form.</summary>
public static class PasswordCheck
{
    /// <summary>The user, or why not (and, when throttled, how long to wait).</summary>
    public sealed record Result(UserRecord? User, string? Error, TimeSpan? RetryAfter = null);

    public static async Task<Result> RunAsync(IGrainFactory grains, LoginThrottle throttle, string userName, string password, System.Net.IPAddress? address)
    {
        var name = userName.Trim().ToLowerInvariant();
        if (throttle.Blocked(name, address) is { } wait)
        {
            return new Result(null, $"too many failed logins for this user or from this address: try again in {LoginThrottle.RetryAfterSeconds(wait)} s", wait);
        }

        var user = name.Length == 0 ? null : await grains.GetGrain<IUserGrain>(name).GetAsync();

        // Server users have no password and never log in as people. An unknown user costs the same hashing work as a
        // known one (Secrets.VerifyPassword against a fixed hash), so the time to refuse says nothing about who exists.
        if (!Secrets.VerifyPassword(password, user?.PasswordHash) || user?.PasswordHash is null)
        {
            throttle.Failed(name, address);
            return new Result(null, "wrong user name or password");
        }

        return new Result(user, null);
    }
}

/// <summary>HTTP Basic with a user's password: accepted only where a policy names it (token creation).</summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains,
    LoginThrottle throttle)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    internal const string RetryAfterKey = "managedservers.login-retry-after";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return AuthenticateResult.NoResult();
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return Refuse("the Basic credentials are not base64 of 'user:password'");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return Refuse("the Basic credentials are not base64 of 'user:password'");
        }

        var check = await PasswordCheck.RunAsync(grains, throttle, decoded[..colon], decoded[(colon + 1)..], Context.Connection.RemoteIpAddress);
        if (check.RetryAfter is { } wait)
        {
            Context.Items[RetryAfterKey] = wait;
        }

        return check.User is { } user
            ? AuthenticateResult.Success(new AuthenticationTicket(Principals.Person(user, Scheme.Name), Scheme.Name))
            : Refuse(check.Error!);
    }

    private AuthenticateResult Refuse(string detail)
    {
        AuthNames.SetFailure(Context, detail);
        return AuthenticateResult.Fail(detail);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Basic realm=\"ManagedServers\", charset=\"UTF-8\"";
        return base.HandleChallengeAsync(properties);
    }
}

/// <summary>
/// Agents: the TLS layer already checked the client certificate chains to our CA; here the
/// certificate must still speak for a live server (not deleted, serial issued to it).
/// </summary>
public sealed class AgentCertificateHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains,
    CertificateIssuer issuer)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string RevokedKey = "ms:agent-revoked";
    private const string ConnectionServerIdKey = "ms:agent-server-id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var certificate = Context.Connection.ClientCertificate;
        if (certificate is null)
        {
            return AuthenticateResult.NoResult();
        }

        // The chain check is done once per TLS connection; later requests on it reuse the result.
        var connectionItems = Context.Features.Get<IConnectionItemsFeature>()?.Items;
        var serverId = connectionItems?.TryGetValue(ConnectionServerIdKey, out var cached) == true ? cached as string : null;
        if (serverId is null)
        {
            serverId = await issuer.ValidateAgentCertificateAsync(certificate);
            if (serverId is null)
            {
                return AuthenticateResult.Fail("client certificate was not issued by this control plane");
            }

            if (connectionItems is not null)
            {
                connectionItems[ConnectionServerIdKey] = serverId;
            }
        }

        var grain = grains.GetGrain<IManagedServerGrain>(serverId);
        switch (await grain.AuthorizeAgentAsync(certificate.SerialNumber))
        {
            case AgentAuthorization.Allowed:
                break;
            case AgentAuthorization.AllowedFirstUse:
                await grain.PromoteCertificateAsync(certificate.SerialNumber); // the agent switched to its renewed certificate
                break;
            case AgentAuthorization.NoServer:
                Context.Items[RevokedKey] = $"server '{serverId}' was deleted";
                return AuthenticateResult.Fail("server deleted");
            default:
                // Replaced by a later enrolment or renewal, revoked, or never issued: whoever holds it is not the agent.
                await grain.ReportRefusedCertificateAsync(certificate.SerialNumber, Context.Connection.RemoteIpAddress?.ToString());
                Context.Items[RevokedKey] = $"this certificate no longer speaks for server '{serverId}' (replaced by a later enrolment or renewal, or revoked)";
                return AuthenticateResult.Fail("certificate superseded or revoked");
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, $"agent:{serverId}"), new Claim(ClaimTypes.Role, Groups.Servers), new Claim(AuthNames.ServerIdClaim, serverId)],
            Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var revoked = Context.Items.ContainsKey(RevokedKey);
        await Problem.Of(
                revoked ? 403 : 401,
                revoked ? "Agent refused" : "Client certificate required",
                revoked
                    ? $"{Context.Items[RevokedKey]}; enrol again with a new setup bundle"
                    : "this endpoint needs the agent's client certificate issued at enrolment",
                revoked ? ProblemTypes.AgentRevoked : ProblemTypes.Unauthorized)
            .ExecuteAsync(Context);
    }
}
