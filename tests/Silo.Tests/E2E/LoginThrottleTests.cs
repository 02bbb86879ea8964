using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// Password guessing over HTTP Basic (POST /api/v1/tokens): failures are limited per user and per address (429 with
/// Retry-After, before the password is checked), the right password works again once the bucket refills, and an
/// unknown user takes as long to refuse as a known one.
/// </summary>
public sealed class LoginThrottleTests() : SiloTestBase("throttle", new Dictionary<string, string>
{
    ["Auth:FailedLogins:PerUser"] = "3",
    ["Auth:FailedLogins:PerAddress"] = "6",
    ["Auth:FailedLogins:RefillSeconds"] = "2",
})
{
    private async Task<HttpResponseMessage> LoginAsync(string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Silo.BaseUrl}/api/v1/tokens") { Content = JsonContent.Create(new { name = "throttle" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var anonymous = new HttpClient();
        return await anonymous.SendAsync(request);
    }

    [Fact]
    public async Task Failed_logins_are_limited_per_user_and_per_address()
    {
        // Three wrong passwords for admin: 401 each; the fourth try, even with the right password: 429 with Retry-After.
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await LoginAsync("admin", "wrong-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var blocked = await LoginAsync("admin", SiloProcess.AdminPassword))
        {
            var text = await blocked.Content.ReadAsStringAsync();
            Assert.True(blocked.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)blocked.StatusCode} {text}");
            Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
            Assert.Contains("too many failed logins", text, StringComparison.Ordinal);
            Assert.True(blocked.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero, blocked.Headers.ToString());
        }

        // Tokens still work meanwhile (only password logins are limited); the right password works after a refill.
        using (var servers = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers"))
        {
            Assert.Equal(HttpStatusCode.OK, servers.StatusCode);
        }

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using (var ok = await LoginAsync("admin", SiloProcess.AdminPassword))
        {
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        // Per address: failures spread over many user names from one address run out too (six, then 429).
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await LoginAsync($"nobody-{i}", "x");
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.DoesNotContain(statuses, s => s is not (HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task An_unknown_user_takes_as_long_to_refuse_as_a_known_one()
    {
        // Alternate known/unknown wrong logins, spaced so the buckets never empty (refill 1 per 2 s; 3 per user, 6 per address).
        var known = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            foreach (var (user, times) in new[] { ("admin", known), ($"ghost-{i}", unknown) })
            {
                var clock = Stopwatch.StartNew();
                using var response = await LoginAsync(user, "wrong");
                times.Add(clock.Elapsed.TotalMilliseconds);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }

            await Task.Delay(TimeSpan.FromSeconds(2.2));
        }

        // Minimums: the work each path does (PBKDF2, 100,000 rounds, dominates both) without the noise of a busy machine,
        // which only ever adds time (a full test run once measured medians of 142 vs 48 ms while a build ran beside it).
        var ratio = unknown.Min() / known.Min();
        Console.WriteLine($"refusal time, fastest of 4: known user {known.Min():F1} ms, unknown user {unknown.Min():F1} ms, ratio {ratio:F2}; medians {Median(known):F1} / {Median(unknown):F1} ms");
        Assert.True(ratio > 0.5, $"an unknown user is refused {1 / ratio:F1}x faster than a known one ({unknown.Min():F1} vs {known.Min():F1} ms)");
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
