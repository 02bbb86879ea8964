using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ManagedServers.Api.Endpoints;
using ManagedServers.Grains.Interfaces.Fleet;
using ManagedServers.Shared.Fleet;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// Prometheus on a real silo process: <c>/metrics</c> without a token (Orleans' meter, the fleet gauge,
/// the ingest counter) and the http_sd targets of agents that report a metrics address. The facts of
/// this class share one silo; each uses server kinds the other does not, so their counts stay apart.
/// </summary>
public sealed class PrometheusTests() : SiloTestBase("prom", FastMetrics)
{

    /// <summary>Fleet counts every second and no scrape cache, so a test does not wait 15 s.</summary>
    internal static Dictionary<string, string> FastMetrics => new()
    {
        ["Metrics:FleetRefreshSeconds"] = "1",
        ["Metrics:ScrapeCacheMilliseconds"] = "0",
    };

    [Fact]
    public async Task Metrics_need_no_token_and_show_orleans_the_fleet_by_state_and_kind_and_ingested_heartbeats()
    {
        using var anonymous = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var response = await anonymous.GetAsync($"{Silo.BaseUrl}/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("otel_scope_name=\"Microsoft.Orleans\"", text, StringComparison.Ordinal);
            Assert.Matches(new Regex("^orleans_", RegexOptions.Multiline), text);
            Assert.Matches(new Regex("^dotnet_gc_", RegexOptions.Multiline), text);
            Assert.Contains("# TYPE managedservers_agents gauge", text, StringComparison.Ordinal);
        }

        // Not on the agent listener, whatever the token.
        using (var agentSide = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator }))
        using (var response = await agentSide.GetAsync($"https://127.0.0.1:{Silo.AgentPort}/metrics"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        // Three pending dns servers.
        var servers = new List<ServerView>();
        for (var i = 0; i < 3; i++)
        {
            servers.Add(await Silo.CreateServerAsync($"prom-dns-{i}"));
        }

        await WaitForMetricAsync(anonymous, "managedservers_agents", new() { ["kind"] = "dns", ["state"] = "pending" }, v => v == 3);

        // One of them heartbeats over HTTPS: running, and counted as ingested.
        var before = Value(await ScrapeAsync(anonymous), "managedservers_ingest_messages_total", new() { ["kind"] = "heartbeat", ["transport"] = "https" }) ?? 0;
        var stateDir = await EnrollAsync(servers[0].Id);
        using var agent = AgentTls.ClientFor(stateDir, $"https://127.0.0.1:{Silo.AgentPort}");
        var boot = Guid.NewGuid();
        for (var sequence = 1; sequence <= 3; sequence++)
        {
            using var posted = await AgentTls.PostHeartbeatAsync(agent, Beat(servers[0].Id, boot, sequence));
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        }

        await WaitForMetricAsync(anonymous, "managedservers_ingest_messages_total", new() { ["kind"] = "heartbeat", ["transport"] = "https" }, v => v >= before + 3);
        await WaitForMetricAsync(anonymous, "managedservers_agents", new() { ["kind"] = "dns", ["state"] = "running" }, v => v == 1);
        var scrape = await ScrapeAsync(anonymous);
        Assert.Equal(2, Value(scrape, "managedservers_agents", new() { ["kind"] = "dns", ["state"] = "pending" }));
        Assert.Equal(0, Value(scrape, "managedservers_agents", new() { ["kind"] = "dns", ["state"] = "unreachable" }));
    }

    [Fact]
    public async Task Targets_list_the_agents_that_report_a_metrics_address_with_their_labels()
    {
        using var anonymous = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var response = await anonymous.GetAsync($"{Silo.BaseUrl}/api/v1/prometheus/targets"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var wildcard = await Silo.CreateServerAsync("prom-wild", "dhcp", address: "10.20.30.40");
        var explicitHost = await Silo.CreateServerAsync("prom-explicit", "backup", address: "10.20.30.41");
        var silent = await Silo.CreateServerAsync("prom-silent", "dhcp", address: "10.20.30.42");
        var boots = new Dictionary<string, Guid>();
        var clients = new Dictionary<string, HttpClient>();
        try
        {
            foreach (var server in new[] { wildcard, explicitHost, silent })
            {
                clients[server.Id] = AgentTls.ClientFor(await EnrollAsync(server.Id), $"https://127.0.0.1:{Silo.AgentPort}");
                boots[server.Id] = Guid.NewGuid();
            }

            await BeatAsync(clients[wildcard.Id], wildcard.Id, boots[wildcard.Id], 1, "0.0.0.0:9120");
            await BeatAsync(clients[explicitHost.Id], explicitHost.Id, boots[explicitHost.Id], 1, "10.20.30.41:9100");
            await BeatAsync(clients[silent.Id], silent.Id, boots[silent.Id], 1, null);

            var targets = await WaitForTargetsAsync(t => t.Length == 2);
            var wild = Assert.Single(targets, t => t.Labels["server_id"] == wildcard.Id);
            Assert.Equal(["10.20.30.40:9120"], wild.Targets);
            Assert.Equal("prom-wild", wild.Labels["server_name"]);
            Assert.Equal("dhcp", wild.Labels["kind"]);
            var named = Assert.Single(targets, t => t.Labels["server_id"] == explicitHost.Id);
            Assert.Equal(["10.20.30.41:9100"], named.Targets);
            Assert.Equal("backup", named.Labels["kind"]);
            Assert.DoesNotContain(targets, t => t.Labels["server_id"] == silent.Id);

            // The raw form is Prometheus' http_sd: an array of {targets, labels}.
            using (var raw = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/prometheus/targets"))
            {
                using var json = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
                var first = json.RootElement.EnumerateArray().First();
                Assert.Equal(JsonValueKind.Array, first.GetProperty("targets").ValueKind);
                Assert.Equal(JsonValueKind.String, first.GetProperty("labels").GetProperty("server_id").ValueKind);
            }

            // An agent that reports an address not of its server (a cloud metadata address here) leaves the list, and the
            // silo says why; one that starts exposing metrics joins it.
            await BeatAsync(clients[explicitHost.Id], explicitHost.Id, boots[explicitHost.Id], 2, "169.254.169.254:80");
            await BeatAsync(clients[silent.Id], silent.Id, boots[silent.Id], 2, "[::]:9200");
            targets = await WaitForTargetsAsync(t => t.Length == 2 && t.Any(g => g.Labels["server_id"] == silent.Id));
            Assert.DoesNotContain(targets, t => t.Labels["server_id"] == explicitHost.Id);
            Assert.Equal(["10.20.30.42:9200"], Assert.Single(targets, t => t.Labels["server_id"] == silent.Id).Targets);
            Assert.Contains($"Server {explicitHost.Id}: its agent reports metrics at 169.254.169.254:80, which Prometheus discovery does not list: 169.254.169.254 is not the server's address (10.20.30.41)", Silo.Output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    private async Task<string> EnrollAsync(string serverId)
    {
        var bundle = await Silo.WriteBundleAsync(serverId, Path.Combine(Dir, "bundles"));
        var stateDir = Path.Combine(Dir, "agent-" + serverId);
        var (code, text) = await AgentProcess.EnrollAsync(bundle, stateDir);
        Assert.True(code == 0, $"enroll failed ({code}): {text}");
        return stateDir;
    }

    private static Heartbeat Beat(string serverId, Guid boot, long sequence, string? metricsAddress = null) =>
        new(serverId, Guid.NewGuid(), boot, sequence, DateTimeOffset.UtcNow, "test", sequence, "probe-" + serverId, "Debian", MetricsAddress: metricsAddress);

    private static async Task BeatAsync(HttpClient client, string serverId, Guid boot, long sequence, string? metricsAddress)
    {
        using var response = await AgentTls.PostHeartbeatAsync(client, Beat(serverId, boot, sequence, metricsAddress));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<PrometheusTargetGroup[]> WaitForTargetsAsync(Func<PrometheusTargetGroup[], bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        PrometheusTargetGroup[] last = [];
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/prometheus/targets");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            last = (await response.Content.ReadFromJsonAsync<PrometheusTargetGroup[]>(ContractsJson.WireOptions))!;
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("targets never matched; last: " + JsonSerializer.Serialize(last, ContractsJson.WireOptions));
    }

    private async Task WaitForMetricAsync(HttpClient client, string name, Dictionary<string, string> labels, Func<double, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = Value(await ScrapeAsync(client), name, labels);
            if (last is { } value && condition(value))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{name}{{{string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"))}}} never matched; last {last}");
    }

    private async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync($"{Silo.BaseUrl}/metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sum of the series of <paramref name="name"/> that carry all of <paramref name="labels"/>, or null when there is none.</summary>
    internal static double? Value(string exposition, string name, Dictionary<string, string> labels)
    {
        double? sum = null;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length || line[name.Length] is not ('{' or ' '))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var found = Regex.Matches(series, "(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            if (labels.All(l => found.TryGetValue(l.Key, out var v) && v == l.Value))
            {
                sum = (sum ?? 0) + double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}

/// <summary><c>Metrics:RequireToken=true</c>: <c>/metrics</c> answers people with a read token only.</summary>
public sealed class PrometheusTokenTests() : SiloTestBase("promtok", new Dictionary<string, string> { ["Metrics:RequireToken"] = "true" })
{
    [Fact]
    public async Task Metrics_refuse_a_request_without_a_token()
    {
        using var anonymous = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var response = await anonymous.GetAsync($"{Silo.BaseUrl}/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{Silo.BaseUrl}/metrics"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var response = await Silo.Http.GetAsync($"{Silo.BaseUrl}/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("managedservers_agents", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}

/// <summary>Where Prometheus scrapes an agent, from what the agent reported: only at an address of the server.</summary>
public sealed class PrometheusTargetAddressTests
{
    [Theory]
    [InlineData("10.0.0.5:9120", "10.0.0.5", "10.0.0.5:9120")]
    [InlineData("127.0.0.1:9120", "127.0.0.1", "127.0.0.1:9120")]
    [InlineData("127.0.0.2:9120", "localhost", "127.0.0.2:9120")]
    [InlineData("[::1]:9120", "127.0.0.1", "[::1]:9120")]
    [InlineData("0.0.0.0:9120", "10.0.0.5", "10.0.0.5:9120")]
    [InlineData("[::]:9120", "10.0.0.5", "10.0.0.5:9120")]
    [InlineData(":9120", "dns1.example.net", "dns1.example.net:9120")]
    [InlineData("DNS1.example.net:9120", "dns1.example.net", "DNS1.example.net:9120")]
    [InlineData("0.0.0.0:9120", "2001:db8::5", "[2001:db8::5]:9120")]
    [InlineData("[2001:db8::5]:9120", "2001:db8::5", "[2001:db8::5]:9120")]
    public void The_servers_own_address_is_listed(string reported, string address, string expected)
    {
        Assert.Equal(expected, MetricsTarget.Resolve(reported, address, out var why));
        Assert.Null(why);
    }

    [Theory]
    [InlineData("169.254.169.254:80", "10.0.0.5", "is not the server's address")]
    [InlineData("127.0.0.1:9120", "10.0.0.5", "is not the server's address")]
    [InlineData("192.0.2.7:9100", "10.0.0.5", "is not the server's address")]
    [InlineData("agent.example.net:9120", "10.0.0.5", "is not the server's address")]
    [InlineData("[2001:db8::7]:9120", "10.0.0.5", "is not the server's address")]
    [InlineData("*:9120", "", "has no address")]
    [InlineData("0.0.0.0:9120", "", "has no address")]
    [InlineData("10.0.0.5", "10.0.0.5", "port")]
    [InlineData("10.0.0.5:0", "10.0.0.5", "port")]
    [InlineData("10.0.0.5:70000", "10.0.0.5", "port")]
    [InlineData("2001:db8::7:9120", "10.0.0.5", "brackets")]
    public void Anything_else_is_not_listed_and_says_why(string reported, string address, string reason)
    {
        Assert.Null(MetricsTarget.Resolve(reported, address, out var why));
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_reported_is_nothing_to_list()
    {
        Assert.Null(MetricsTarget.Resolve(null, "10.0.0.5", out var why));
        Assert.Null(why);
    }
}
