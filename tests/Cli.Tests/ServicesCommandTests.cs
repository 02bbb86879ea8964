using System.Text.Json;
using ManagedServers.Contracts;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Cli.Tests;

/// <summary>msctl services / jobs / servers diagnose: a job followed to its end, --no-wait, -o json, a failed job as one error line.</summary>
public sealed class ServicesCommandTests() : FakeApiTests(useApi: true)
{
    private static JsonElement Service(string state) => JsonSerializer.SerializeToElement(
        new ServiceStatus("dns", state, FakeApi.Now, 0, "3.2.6-ms1", "docker", null, "127.0.0.1:5353"), ContractsJson.Default.ServiceStatus);

    [Fact]
    public async Task Add_follows_the_job_step_by_step_and_ends_with_the_service()
    {
        var server = Api.AddServer("dns-01");
        Api.NextJobScripts.Enqueue([
            FakeApi.Job("queued", 0, 1, steps: ["queued: add service dns"]),
            FakeApi.Job("running", 10, 2, steps: ["queued: add service dns", "delivered to the agent"]),
            FakeApi.Job("succeeded", 100, 3, Service("running"), steps: ["queued: add service dns", "delivered to the agent", "agent: answering after 0.3 s", "succeeded"])]);

        var run = await Cli.RunAsync("services", "add", "dns-01", "dns", "--port", "5353");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n');
        Assert.Single(lines, l => l.Contains("delivered to the agent")); // each step once, in order
        Assert.True(Array.FindIndex(lines, l => l.Contains("queued: add")) < Array.FindIndex(lines, l => l.Contains("agent: answering")));
        Assert.Contains("Done: dns is running, version 3.2.6-ms1 (docker), on 127.0.0.1:5353.", run.Stdout);
        Assert.Contains(Api.Requests, r => r.StartsWith($"GET /api/v1/jobs/{server.Id}-job-1?wait_seconds=20&version=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_listen_change_ends_with_where_the_service_answers_now()
    {
        Api.AddServer("dns-01");
        var result = JsonSerializer.SerializeToElement(new
        {
            config_version = 4,
            config_changed = true,
            zones = Array.Empty<object>(),
            listen = new[] { "127.0.0.1@5354", "::1@5354" },
            service = new ServiceStatus("dns", "running", FakeApi.Now, 0, "3.2.6-ms1", "docker", null, "127.0.0.1:5354, [::1]:5354"),
        });
        Api.NextJobScripts.Enqueue([FakeApi.Job("succeeded", 100, 1, result, steps: ["agent: listening on 127.0.0.1:5354, [::1]:5354: every entry answers", "succeeded"])]);

        var run = await Cli.RunAsync("services", "add", "dns-01", "dns", "--listen", "127.0.0.1@5354,::1@5354");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Done: dns answers on 127.0.0.1:5354, [::1]:5354 (each entry checked), configuration version 4.", System.Text.RegularExpressions.Regex.Replace(run.Stdout, @"\s+", " "));
    }

    [Fact]
    public async Task A_failed_job_is_one_error_line_and_a_non_zero_exit()
    {
        Api.AddServer("dns-01");
        Api.NextJobScripts.Enqueue([FakeApi.Job("failed", 10, 2, error: "the agent failed: knotd did not answer within 30 s; rolled back to 3.2.6-ms1", steps: ["failed: the agent failed"])]);

        var run = await Cli.RunAsync("services", "restart", "dns-01", "dns");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Matches("^error: restart dns on dns-01 failed \\(job srv-.*-job-1\\): the agent failed: knotd did not answer within 30 s; rolled back to 3.2.6-ms1$", run.ErrorLine);
    }

    [Fact]
    public async Task Push_zones_all_or_nothing_asks_for_it_and_a_refused_zone_is_named_with_a_non_zero_exit()
    {
        Api.AddServer("dns-01");
        Api.NextJobScripts.Enqueue([FakeApi.Job("failed", 100, 2, error: "zone bad.test refused, knotd would not load it: line 7 (invalid IPv4 address); the other zones were applied (configuration version 4 is live)")]);
        var run = await Cli.RunAsync("servers", "push-zones", "dns-01");
        Assert.Equal(1, run.ExitCode);
        Assert.EndsWith("zone bad.test refused, knotd would not load it: line 7 (invalid IPv4 address); the other zones were applied (configuration version 4 is live)", run.ErrorLine, StringComparison.Ordinal);
        Assert.True(Api.PushBodies.TryDequeue(out var plain));
        Assert.Equal(string.Empty, plain);

        var result = JsonSerializer.SerializeToElement(new { config_version = 5, config_changed = true, zones = new[] { new { zone = "a.test", serial = 2, sent = true } }, refused = Array.Empty<object>(), warnings = new[] { "a.test: [a.test.] missing glue record" } });
        Api.NextJobScripts.Enqueue([FakeApi.Job("succeeded", 100, 2, result)]);
        run = await Cli.RunAsync("servers", "push-zones", "dns-01", "--all-or-nothing");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(Api.PushBodies.TryDequeue(out var atomic));
        Assert.True(JsonDocument.Parse(atomic!).RootElement.GetProperty("atomic").GetBoolean());
        Assert.Contains("Done: configuration version 5 is live; 1 zone served, 1 sent.", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(["warning: a.test: [a.test.] missing glue record"], run.StderrLines);
    }

    [Fact]
    public async Task No_wait_prints_the_job_id_and_json_prints_only_the_job()
    {
        var server = Api.AddServer("dns-01");
        Api.NextJobScripts.Enqueue([FakeApi.Job("queued", 0, 1)]);
        var run = await Cli.RunAsync("services", "stop", "dns-01", "dns", "--no-wait");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"Started job {server.Id}-job-1", run.Stdout);
        Assert.Contains($"msctl jobs show {server.Id}-job-1 --wait", run.Stdout);
        Assert.DoesNotContain(Api.Requests, r => r.StartsWith("GET /api/v1/jobs/", StringComparison.Ordinal));

        Api.NextJobScripts.Enqueue([FakeApi.Job("running", 10, 1), FakeApi.Job("succeeded", 100, 2, Service("stopped"))]);
        run = await Cli.RunAsync("services", "stop", "dns-01", "dns", "-o", "json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var job = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal("stopped", job.GetProperty("result").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Diagnose_shows_every_check_and_exits_1_when_one_fails()
    {
        Api.AddServer("dns-01");
        var report = new DiagnosticsReport(FakeApi.Now, [
            new DiagnosticCheck("disk /", CheckStatuses.Pass, "40 % free"),
            new DiagnosticCheck("clock skew", CheckStatuses.Warn, "agent clock is 3.1 s ahead", "check NTP"),
            new DiagnosticCheck("service dns", CheckStatuses.Fail, "running, but no DNS answer", "read its log in a debug bundle")]);
        Api.NextJobScripts.Enqueue([FakeApi.Job("succeeded", 100, 1, JsonSerializer.SerializeToElement(report, ContractsJson.Default.DiagnosticsReport))]);

        var run = await Cli.RunAsync("servers", "diagnose", "dns-01");

        Assert.Equal(1, run.ExitCode);
        foreach (var expected in new[] { "disk /", "PASS", "clock skew", "WARN", "check NTP", "service dns", "FAIL", "read its log" })
        {
            Assert.Contains(expected, run.Stdout);
        }
    }

    [Fact]
    public async Task Servers_show_lists_the_services_or_says_how_to_add_one()
    {
        var dns = Api.AddServer("dns-01");
        Api.Servers[dns.Id] = dns with { Services = [new ServiceView("dns", "failed", FakeApi.Now.AddSeconds(-30), 3, "3.2.6-ms1", "docker", "exit code 1", "0.0.0.0:53")], ActiveJobs = 1 };
        var run = await Cli.RunAsync("servers", "show", "dns-01");
        Assert.True(run.ExitCode == 0, run.ToString());
        var line = Assert.Single(run.Stdout.Split('\n'), l => l.Contains("3.2.6-ms1"));
        foreach (var expected in new[] { "failed", "30s ago", " 3 ", "docker", "0.0.0.0:53", "exit code 1" })
        {
            Assert.Contains(expected, line);
        }

        Assert.Contains("msctl jobs list --server dns-01", run.Stdout);

        Api.AddServer("dhcp-01", kind: "dhcp");
        run = await Cli.RunAsync("servers", "show", "dhcp-01");
        Assert.Contains("runs no services yet. Add one with: msctl services add dhcp-01 dhcp4", run.Stdout);
    }

    [Fact]
    public async Task Jobs_show_of_an_unknown_job_is_one_readable_line()
    {
        var run = await Cli.RunAsync("jobs", "show", "srv-nope-job-1");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("job 'srv-nope-job-1' not found", run.ErrorLine);
    }
}
