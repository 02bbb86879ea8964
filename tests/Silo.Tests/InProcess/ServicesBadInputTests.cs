using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ManagedServers.Silo.Tests.E2E;

namespace ManagedServers.Silo.Tests.InProcess;

/// <summary>
/// Services, jobs, diagnostics and debug bundle through the API of a silo host in the test process (no process boundary is
/// tested here): bad input gets a problem that names the field
/// and starts nothing; an action for a server whose agent never enrolled is a job that fails saying so; a debug bundle
/// of an offline server is a clear error at once.
/// </summary>
public abstract class ServicesBadInputTests<THost>(THost host) : IClassFixture<THost>
    where THost : ApiHost
{
    private ISiloApi Silo => host;

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, Silo.BaseUrl + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: ContractsJson.WireOptions);
        }

        using var response = await Silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string[] FieldErrors(JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var list) ? [.. list.EnumerateArray().Select(e => e.GetString()!)] : [];

    private async Task AssertNoJobsAsync(string serverId)
    {
        var (status, jobs) = await SendAsync(HttpMethod.Get, $"/api/v1/jobs?server={serverId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, jobs.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Bad_service_requests_name_the_field_and_start_no_job()
    {
        var dns = await Silo.CreateServerAsync("svc-bad-dns");

        var (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services", new AddServiceRequest("ntp"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("unknown service 'ntp'", Assert.Single(FieldErrors(problem, "kind")), StringComparison.Ordinal);

        (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services", new AddServiceRequest(null, "bad version!", "not-an-ip", 70000, 0));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        foreach (var field in new[] { "kind", "version", "listen_address", "port", "wait_for_agent_seconds" })
        {
            Assert.NotEmpty(FieldErrors(problem, field));
        }

        (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services/dns/reboot");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("unknown action 'reboot'", Assert.Single(FieldErrors(problem, "action")), StringComparison.Ordinal);

        // A DHCP service on a DNS server, or managing a service that is not there: 409 / 404 with the reason.
        (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services", new AddServiceRequest("dhcp4"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("does not fit", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services/dns/restart");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("not installed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        (status, _) = await SendAsync(HttpMethod.Post, "/api/v1/servers/srv-nope/services", new AddServiceRequest("dns"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        (status, problem) = await SendAsync(HttpMethod.Get, "/api/v1/jobs/nonsense");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("job ids look like", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, problem) = await SendAsync(HttpMethod.Get, "/api/v1/jobs?state=done");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotEmpty(FieldErrors(problem, "state"));

        await AssertNoJobsAsync(dns.Id);
        Assert.Empty((await Silo.GetServerAsync(dns.Id))!.Services!);
    }

    [Fact]
    public async Task Bad_dns_server_requests_name_the_field_and_change_nothing()
    {
        var dns = await Silo.CreateServerAsync("dns-bad");
        var dhcp = await Silo.CreateServerAsync("dhcp-bad", "dhcp");

        // Listen entries: each bad one named by index; only for dns; not together with listen_address.
        var (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services", new AddServiceRequest("dns", Listen: ["127.0.0.1@15353", "127.0.0.1@99999", "example.org"]));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("between 1 and 65535", Assert.Single(FieldErrors(problem, "listen[1]")), StringComparison.Ordinal);
        Assert.Contains("'example.org' is not an address", Assert.Single(FieldErrors(problem, "listen[2]")), StringComparison.Ordinal);
        Assert.Empty(FieldErrors(problem, "listen[0]"));
        (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dhcp.Id}/services", new AddServiceRequest("dhcp4", Listen: ["127.0.0.1@67"]));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotEmpty(FieldErrors(problem, "listen"));

        // Zones: bad names by index; unknown zones 404 naming them; a DHCP server serves none.
        (status, problem) = await SendAsync(HttpMethod.Put, $"/api/v1/servers/{dns.Id}/zones", new[] { "ok.test", "bad..name", "-x.test" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotEmpty(FieldErrors(problem, "[1]"));
        Assert.NotEmpty(FieldErrors(problem, "[2]"));
        (status, problem) = await SendAsync(HttpMethod.Put, $"/api/v1/servers/{dns.Id}/zones", new[] { "missing.test" });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("missing.test", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, problem) = await SendAsync(HttpMethod.Put, $"/api/v1/servers/{dhcp.Id}/zones", Array.Empty<string>());
        Assert.Equal(HttpStatusCode.Conflict, status);
        (status, var zones) = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{dns.Id}/zones");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, zones.GetProperty("zones").GetArrayLength());

        // Pushes: a server without a dns service, a DHCP server, an unknown version: 409/404, no job.
        (status, problem) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/push-zones");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("runs no dns service", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, _) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dhcp.Id}/push-config");
        Assert.Equal(HttpStatusCode.Conflict, status);
        (status, _) = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{dns.Id}/config-versions/7");
        Assert.Equal(HttpStatusCode.NotFound, status);
        (status, _) = await SendAsync(HttpMethod.Post, "/api/v1/servers/srv-nope/push-zones");
        Assert.Equal(HttpStatusCode.NotFound, status);
        await AssertNoJobsAsync(dns.Id);
        await AssertNoJobsAsync(dhcp.Id);
    }

    [Fact]
    public async Task An_action_for_a_server_whose_agent_never_enrolled_is_a_failed_job_that_says_so()
    {
        var dns = await Silo.CreateServerAsync("svc-never");
        var (status, job) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/services", new AddServiceRequest("dns"));
        Assert.Equal(HttpStatusCode.Accepted, status);
        var view = job.Deserialize<JobView>(ContractsJson.WireOptions)!;
        Assert.Equal("failed", view.State);
        Assert.Contains("never enrolled", view.Error, StringComparison.Ordinal);

        (status, job) = await SendAsync(HttpMethod.Get, $"/api/v1/jobs/{view.JobId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("failed", job.GetProperty("state").GetString());

        // Diagnostics too; the fleet's active-jobs list stays empty.
        (status, job) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{dns.Id}/diagnostics");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("failed", job.GetProperty("state").GetString());
        (status, job) = await SendAsync(HttpMethod.Get, "/api/v1/jobs");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(job.GetProperty("items").EnumerateArray(), j => j.GetProperty("server_id").GetString() == dns.Id);

        // ?kind= keeps one kind of the server's jobs.
        (status, job) = await SendAsync(HttpMethod.Get, $"/api/v1/jobs?server={dns.Id}&kind=diagnostics");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["diagnostics"], job.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("kind").GetString()));
        Assert.Equal(1, job.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task The_openapi_document_has_the_services_jobs_diagnostics_and_debug_bundle_routes()
    {
        var (status, document) = await SendAsync(HttpMethod.Get, "/api/v1/openapi.json");
        Assert.Equal(HttpStatusCode.OK, status);
        var paths = document.GetProperty("paths");
        foreach (var (path, method) in new[]
        {
            ("/api/v1/servers/{id}/services", "post"),
            ("/api/v1/servers/{id}/services", "get"),
            ("/api/v1/servers/{id}/services/{service}/{action}", "post"),
            ("/api/v1/servers/{id}/services/{service}", "delete"),
            ("/api/v1/servers/{id}/diagnostics", "post"),
            ("/api/v1/servers/{id}/debug-bundle", "get"),
            ("/api/v1/jobs", "get"),
            ("/api/v1/jobs/{jobId}", "get"),
            ("/api/v1/servers/{id}/zones", "get"),
            ("/api/v1/servers/{id}/zones", "put"),
            ("/api/v1/servers/{id}/push-config", "post"),
            ("/api/v1/servers/{id}/push-zones", "post"),
            ("/api/v1/servers/{id}/config-versions", "get"),
            ("/api/v1/servers/{id}/config-versions/{version}/diff", "get"),
            ("/api/v1/servers/{id}/config-versions/{version}/apply", "post"),
        })
        {
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is not in the OpenAPI document");
        }
    }

    [Fact]
    public async Task A_debug_bundle_of_an_offline_server_is_a_clear_error_at_once()
    {
        var dns = await Silo.CreateServerAsync("svc-offline");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (status, problem) = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{dns.Id}/debug-bundle");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "an offline server's bundle must not wait for the agent");
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains("pending", detail, StringComparison.Ordinal);
        Assert.Contains("must be online", detail, StringComparison.Ordinal);
        await AssertNoJobsAsync(dns.Id);
    }
}

public sealed class SqliteServicesBadInputTests(SqliteApiHost host) : ServicesBadInputTests<SqliteApiHost>(host);

public sealed class PostgresServicesBadInputTests(PostgresApiHost host) : ServicesBadInputTests<PostgresApiHost>(host);
