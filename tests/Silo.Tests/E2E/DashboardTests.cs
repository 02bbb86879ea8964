using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>The Orleans dashboard answers at /dashboard on the people listener of a real silo, for admins only.</summary>
public sealed class DashboardTests() : SiloTestBase("dash")
{
    [Fact]
    public async Task The_dashboard_answers_admins_and_refuses_everyone_else()
    {
        using var anonymous = new HttpClient();

        // Nobody: 401 with a Basic challenge, so a browser prompts for the user and password.
        using (var response = await anonymous.GetAsync($"{Silo.BaseUrl}/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        }

        // An admin with HTTP Basic: the page.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{Silo.BaseUrl}/dashboard/"))
        {
            request.Headers.Authorization = Basic("admin", SiloProcess.AdminPassword);
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Orleans Dashboard", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // An admin with a Bearer token: the cluster data the page polls shows this silo, active
        // (the dashboard samples once a second, so the first answers may have no hosts yet).
        string? status = null, address = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); status is null && DateTime.UtcNow < deadline;)
        {
            using var response = await Silo.Http.GetAsync($"{Silo.BaseUrl}/dashboard/DashboardCounters");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (json.RootElement.GetProperty("hosts").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } host)
            {
                status = host.GetProperty("status").GetString();
                address = host.GetProperty("siloAddress").GetString();
            }
            else
            {
                await Task.Delay(250);
            }
        }

        Assert.Equal("Active", status);
        Assert.EndsWith($":{Silo.SiloPort}", address!.Split('@')[0], StringComparison.Ordinal);

        // A viewer is a person but not an admin: 403.
        using (var created = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/users", new StringContent("""{"name":"dash-viewer","password":"viewer-password-1","groups":["viewers"]}""", Encoding.UTF8, "application/json")))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{Silo.BaseUrl}/dashboard/"))
        {
            request.Headers.Authorization = Basic("dash-viewer", "viewer-password-1");
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // A wrong password: 401.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{Silo.BaseUrl}/dashboard/"))
        {
            request.Headers.Authorization = Basic("admin", "not-the-password");
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}
