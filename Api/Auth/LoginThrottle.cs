using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Configuration;

namespace ManagedServers.Api.Auth;

/// <summary>
/// Failed password logins (HTTP Basic) are limited per user name and per client address, with token buckets from
/// System.Threading.RateLimiting (what ASP.NET Core's rate-limiting middleware is built on; the middleware itself counts
/// every request, and only failures must count here). Each failure takes a token from both buckets; a login is refused
/// with 429 and Retry-After while either bucket is empty, before the password is checked, so guessing gets no answer
/// either way. Successful logins take nothing. Buckets refill one token per <c>Auth:FailedLogins:RefillSeconds</c>.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public LoginThrottle(IConfiguration configuration)
    {
        PerUser = Math.Max(1, configuration.GetValue("Auth:FailedLogins:PerUser", 10));
        PerAddress = Math.Max(1, configuration.GetValue("Auth:FailedLogins:PerAddress", 50));
        Refill = TimeSpan.FromSeconds(Math.Max(1, configuration.GetValue("Auth:FailedLogins:RefillSeconds", 30)));
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, k => new TokenBucketRateLimiterOptions
        {
            TokenLimit = k[0] == 'u' ? PerUser : PerAddress,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = Refill,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public int PerUser { get; }

    public int PerAddress { get; }

    public TimeSpan Refill { get; }

    /// <summary>Null while <paramref name="user"/> from <paramref name="address"/> may try; else how long to wait.</summary>
    public TimeSpan? Blocked(string user, IPAddress? address)
    {
        foreach (var key in Keys(user, address))
        {
            if (_limiter.GetStatistics(key) is { CurrentAvailablePermits: <= 0 })
            {
                return Refill; // one token comes back per refill period
            }
        }

        return null;
    }

    public void Failed(string user, IPAddress? address)
    {
        foreach (var key in Keys(user, address))
        {
            _limiter.AttemptAcquire(key, 1).Dispose();
        }
    }

    public static string RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _limiter.Dispose();

    private static string[] Keys(string user, IPAddress? address) =>
        ["u:" + user, "a:" + (address is null ? "-" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString())];
}

/// <summary>A login refused by <see cref="LoginThrottle"/> answers 429 with Retry-After (whatever other schemes the policy names would challenge with).</summary>
public sealed class LoginThrottleResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged && context.Items.TryGetValue(BasicAuthenticationHandler.RetryAfterKey, out var wait) && wait is TimeSpan retryAfter)
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = LoginThrottle.RetryAfterSeconds(retryAfter);
            return Task.CompletedTask; // the problem body comes from the status-code pages, with the refusal's detail
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
