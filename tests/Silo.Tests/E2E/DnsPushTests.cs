using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DnsClient;
using DnsClient.Protocol;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// Zones pushed to a real Knot by a real agent, through the control plane's API, on the docker runtime (the local Knot
/// image) and the exec runtime (host knotd): a zone imported, assigned and pushed answers its records on the listen
/// entry given at install; a changed record is pushed alone and answers; a second zone is a new configuration version
/// (diffable); re-applying the first version takes the second zone away; msctl push-zones follows the job.
/// </summary>
public sealed class DnsPushTests() : SiloTestBase("dnspush")
{
    [Fact]
    public Task Zones_pushed_to_knot_on_the_docker_runtime_answer() => PushAsync("docker");

    [Fact]
    public Task Zones_pushed_to_knot_on_the_exec_runtime_answer() => PushAsync("exec");

    [Fact]
    public Task A_listen_change_takes_effect_on_the_docker_runtime() => ListenChangeAsync("docker");

    [Fact]
    public Task A_listen_change_takes_effect_on_the_exec_runtime() => ListenChangeAsync("exec");

    /// <summary>
    /// A running dns service with a zone: msctl services add with another --listen moves it (the new port answers the
    /// zone, the old one nothing, a new configuration version, diagnostics find the zone's serial there); a port another
    /// socket holds cannot be bound: the job fails saying so, and the service stays on the port that answered.
    /// </summary>
    private async Task ListenChangeAsync(string runtime)
    {
        var server = await Silo.CreateServerAsync($"listen-{runtime}", "dns", runtime);
        var stateDir = await EnrolAsync(server.Id, "agent-listen-" + runtime);
        using var agent = AgentProcess.RunVerbose(stateDir);
        try
        {
            await WaitRunningAsync(server.Id, agent);
            var first = await InstallDnsAsync(server.Id, agent);
            var zone = $"listen-{runtime}.e2e.test";
            await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = zone, ["zone_file"] = ZoneFile(zone, 10, "192.0.2.1") }, HttpStatusCode.Created);
            await SendAsync(HttpMethod.Put, $"/api/v1/servers/{server.Id}/zones", new JsonArray(zone), HttpStatusCode.OK);
            var push = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-zones"), agent);
            Assert.True(push.State == "succeeded", Describe(push, agent));
            Assert.Equal("192.0.2.1", await AddressOfAsync(first, "www." + zone));

            // Another port through msctl: it answers the zone, the old one answers nothing; a new configuration version.
            var second = Build.FreePort();
            var (code, output) = await Msctl.RunAsync(Silo, Dir, true, "services", "add", server.Name, "dns", "--listen", $"127.0.0.1@{second}");
            Assert.True(code == 0, output + "\nagent:\n" + agent.Output);
            var unwrapped = System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "); // off a terminal msctl wraps at 80 columns
            Assert.True(unwrapped.Contains($"Done: dns answers on 127.0.0.1:{second} (each entry checked), configuration version 2.", StringComparison.Ordinal), output);
            Assert.Equal("192.0.2.1", await AddressOfAsync(second, "www." + zone));
            Assert.False(await ServicesTests.AnswersAsync(first), "the old port still answers");
            var dns = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/zones", null, HttpStatusCode.OK);
            Assert.Equal($"127.0.0.1@{second}", dns.GetProperty("listen")[0].GetString());
            var versions = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/config-versions", null, HttpStatusCode.OK);
            Assert.Equal(2, versions[0].GetProperty("version").GetInt32());
            var services = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/services", null, HttpStatusCode.OK);
            Assert.Equal($"127.0.0.1:{second}", services[0].GetProperty("listen").GetString());

            // Diagnostics probe the zone where the service now answers, with its serial.
            var diagnostics = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/diagnostics"), agent);
            var check = Assert.Single(diagnostics.Result!.Value.Deserialize(ContractsJson.Default.DiagnosticsReport)!.Checks, c => c.Name == "service dns");
            Assert.True(check.Status == "pass", $"{check.Message} {check.Hint}");
            Assert.Contains($"answering on 127.0.0.1:{second}: 1 of 1 zone answers with the serial applied ({zone} {await SerialOfAsync(second, zone)})", check.Message, StringComparison.Ordinal);

            // A port another socket holds (the older listen_address/port form): the job fails and says why; the
            // service stays where it answered, and no version is made.
            var busy = Build.FreePort();
            using (var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, busy)))
            {
                var tcp = new System.Net.Sockets.TcpListener(IPAddress.Loopback, busy);
                tcp.Start();
                try
                {
                    var taken = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dns", ListenAddress: "127.0.0.1", Port: busy)), agent);
                    Assert.True(taken.State == "failed", Describe(taken, agent));
                    Assert.Contains($"the new listen entries (127.0.0.1:{busy}) do not answer", taken.Error, StringComparison.Ordinal);
                    Assert.Contains("address already in use", taken.Error, StringComparison.Ordinal);
                    Assert.Contains("rolled back to version 2", taken.Error, StringComparison.Ordinal);
                }
                finally
                {
                    tcp.Stop();
                }
            }

            Assert.Equal("192.0.2.1", await AddressOfAsync(second, "www." + zone));
            versions = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/config-versions", null, HttpStatusCode.OK);
            Assert.Equal((2, true), (versions[0].GetProperty("version").GetInt32(), versions[0].GetProperty("live").GetBoolean()));
            dns = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/zones", null, HttpStatusCode.OK);
            Assert.Equal($"127.0.0.1@{second}", dns.GetProperty("listen")[0].GetString());
        }
        finally
        {
            ServicesTests.CleanUp(server.Id);
            ServicesTests.KillDaemons("knotd", stateDir);
        }
    }

    private async Task PushAsync(string runtime)
    {
        var server = await Silo.CreateServerAsync($"dns-{runtime}", "dns", runtime);
        var stateDir = await EnrolAsync(server.Id, "agent-" + runtime);
        using var agent = AgentProcess.RunVerbose(stateDir);
        try
        {
            await WaitRunningAsync(server.Id, agent);
            var port = await InstallDnsAsync(server.Id, agent);

            var zone = $"{runtime}.e2e.test";
            await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = zone, ["zone_file"] = ZoneFile(zone, 10, "192.0.2.1") }, HttpStatusCode.Created);
            var assigned = await SendAsync(HttpMethod.Put, $"/api/v1/servers/{server.Id}/zones", new JsonArray(zone), HttpStatusCode.OK);
            Assert.Equal("not_pushed", assigned.GetProperty("zones")[0].GetProperty("state").GetString());

            // First push: the zone and the configuration that serves it (version 1).
            var first = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-zones"), agent);
            Assert.True(first.State == "succeeded", Describe(first, agent));
            Assert.Equal(1, first.Result!.Value.GetProperty("config_version").GetInt32());
            Assert.Contains(first.Steps, s => s.Message.StartsWith("agent: ", StringComparison.Ordinal));
            // (ns1, not www: a www query here would be counted below when its dnstap interval starts within the window.)
            Assert.Equal("192.0.2.53", await AddressOfAsync(port, "ns1." + zone));
            var serial = await SerialOfAsync(port, zone);

            // DNS monitoring through the control plane: per-name hits equal the queries sent (dnstap → agent → silo).
            await SendAsync(HttpMethod.Put, "/api/v1/settings/monitoring", new JsonObject { ["dns_interval_seconds"] = 2 }, HttpStatusCode.OK);
            var since = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            var top = $"/api/v1/monitoring/dns/top?server={server.Id}&zone={zone}&n=50&from={Uri.EscapeDataString(since)}";
            await WaitAsync(
                async () =>
                {
                    await Client(port).QueryAsync("probe." + zone, QueryType.A); // until the pipeline is seen to count
                    return await SendAsync(HttpMethod.Get, top, null, HttpStatusCode.OK);
                },
                t => Hits(t, "probe." + zone) > 0,
                "dnstap hits reaching the control plane",
                agent);
            var sent = new Dictionary<string, int> { ["www." + zone] = 7, ["mail." + zone] = 3, ["nothere." + zone] = 2 };
            foreach (var (name, count) in sent)
            {
                for (var i = 0; i < count; i++)
                {
                    await Client(port).QueryAsync(name, QueryType.A);
                }
            }

            var counted = await WaitAsync(() => SendAsync(HttpMethod.Get, top, null, HttpStatusCode.OK), t => sent.All(q => Hits(t, q.Key) >= q.Value), "hits for www, mail, nothere", agent);
            Assert.Equal(sent, sent.ToDictionary(q => q.Key, q => (int)Hits(counted, q.Key)));

            // A changed record: the zone's serial moves; push-zones sends it (the configuration stays version 1).
            await SendAsync(HttpMethod.Put, $"/api/v1/zones/{zone}/file", new JsonObject { ["zone_file"] = ZoneFile(zone, 10, "192.0.2.99") }, HttpStatusCode.OK);
            var changed = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/zones", null, HttpStatusCode.OK);
            Assert.Equal("changed", changed.GetProperty("zones")[0].GetProperty("state").GetString());
            var second = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-zones"), agent);
            Assert.True(second.State == "succeeded", Describe(second, agent));
            Assert.False(second.Result!.Value.GetProperty("config_changed").GetBoolean());
            Assert.Equal("192.0.2.99", await AddressOfAsync(port, "www." + zone));
            Assert.True(await SerialOfAsync(port, zone) > serial, "the serial did not move");
            var inSync = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/zones", null, HttpStatusCode.OK);
            Assert.Equal("in_sync", inSync.GetProperty("zones")[0].GetProperty("state").GetString());

            // Nothing changed: a push sends nothing.
            var idle = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-zones"), agent);
            Assert.True(idle.State == "succeeded", Describe(idle, agent));
            Assert.Contains(idle.Steps, s => s.Message.Contains("0 to send", StringComparison.Ordinal));

            // A second zone: push-config makes version 2; the diff names the new zone; both answer.
            var other = "other-" + zone;
            await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = other, ["zone_file"] = ZoneFile(other, 1, "198.51.100.7") }, HttpStatusCode.Created);
            await SendAsync(HttpMethod.Put, $"/api/v1/servers/{server.Id}/zones", new JsonArray(zone, other), HttpStatusCode.OK);
            var config = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config"), agent);
            Assert.True(config.State == "succeeded", Describe(config, agent));
            Assert.Equal(2, config.Result!.Value.GetProperty("config_version").GetInt32());
            Assert.Equal("198.51.100.7", await AddressOfAsync(port, "www." + other));
            var diff = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/config-versions/2/diff", null, HttpStatusCode.OK);
            Assert.Contains("+", diff.GetProperty("diff").GetString(), StringComparison.Ordinal);
            Assert.Contains(other, diff.GetProperty("diff").GetString(), StringComparison.Ordinal);

            // Re-apply version 1: the second zone is no longer served, nor assigned.
            var revert = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/config-versions/1/apply"), agent);
            Assert.True(revert.State == "succeeded", Describe(revert, agent));
            Assert.Null(await AddressOfAsync(port, "www." + other));
            Assert.Equal("192.0.2.99", await AddressOfAsync(port, "www." + zone));
            var afterRevert = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/zones", null, HttpStatusCode.OK);
            Assert.Equal([zone], afterRevert.GetProperty("zones").EnumerateArray().Select(z => z.GetProperty("zone").GetString()));
            var versions = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/config-versions", null, HttpStatusCode.OK);
            Assert.Equal(3, versions[0].GetProperty("version").GetInt32());
            Assert.True(versions[0].GetProperty("live").GetBoolean());

            // msctl follows a full push to its end.
            var (code, output) = await Msctl.RunAsync(Silo, Dir, true, "servers", "push-zones", server.Name, "--full");
            Assert.True(code == 0, output);
            Assert.Contains("Done: configuration version 3", output, StringComparison.Ordinal);
        }
        finally
        {
            ServicesTests.CleanUp(server.Id);
            ServicesTests.KillDaemons("knotd", stateDir);
        }
    }

    /// <summary>
    /// The case that held every push back: an in-zone NS target without an address (missing glue). knotd loads such a
    /// zone and only kzonecheck's optional checks report it: the import warns, the push applies it beside the other zones
    /// and the job's steps carry the warning. An RFC 2317 classless zone and the root zone travel the same way.
    /// </summary>
    [Fact]
    public async Task A_zone_with_missing_glue_warns_at_import_and_pushes_with_the_others()
    {
        var server = await Silo.CreateServerAsync("dns-glue", "dns", "exec");
        var stateDir = await EnrolAsync(server.Id, "agent-glue");
        using var agent = AgentProcess.RunVerbose(stateDir);
        try
        {
            await WaitRunningAsync(server.Id, agent);
            var port = await InstallDnsAsync(server.Id, agent);

            const string glue = "glue.e2e.test";
            const string classless = "0/25.2.0.192.in-addr.arpa";
            var imported = await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = glue, ["zone_file"] = ZoneFile(glue, 1, "192.0.2.1") + "@ IN NS ns2\n" }, HttpStatusCode.Created);
            Assert.Contains("missing glue", imported.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
            await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = "ok.e2e.test", ["zone_file"] = ZoneFile("ok.e2e.test", 1, "192.0.2.2") }, HttpStatusCode.Created);
            await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = classless, ["zone_file"] = $"$ORIGIN {classless}.\n$TTL 300\n@ SOA ns1.example. hm.example. 1 3600 600 86400 300\n@ NS ns1.example.\n1 PTR host.example.\n" }, HttpStatusCode.Created);
            await SendAsync(HttpMethod.Post, "/api/v1/zones", new JsonObject { ["name"] = ".", ["zone_file"] = "$ORIGIN .\n$TTL 300\n. SOA a.root-servers.net. hm. 1 3600 600 86400 300\n. NS a.root-servers.net.\na.root-servers.net. A 198.41.0.4\n" }, HttpStatusCode.Created);
            await SendAsync(HttpMethod.Put, $"/api/v1/servers/{server.Id}/zones", new JsonArray(glue, "ok.e2e.test", classless, "."), HttpStatusCode.OK);

            var push = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-zones"), agent);
            Assert.True(push.State == "succeeded", Describe(push, agent));
            Assert.Contains(push.Steps, s => s.Message.StartsWith($"warning: {glue}: ", StringComparison.Ordinal) && s.Message.Contains("missing glue", StringComparison.Ordinal));
            Assert.Equal("192.0.2.1", await AddressOfAsync(port, "www." + glue));
            Assert.Equal("192.0.2.2", await AddressOfAsync(port, "www.ok.e2e.test"));
            Assert.Equal(1, await SerialOfAsync(port, classless));
            Assert.Equal(1, await SerialOfAsync(port, "."));
            var zones = await SendAsync(HttpMethod.Get, $"/api/v1/servers/{server.Id}/zones", null, HttpStatusCode.OK);
            Assert.All(zones.GetProperty("zones").EnumerateArray(), z => Assert.Equal("in_sync", z.GetProperty("state").GetString()));

            // The push-config body's all-or-nothing travels too (nothing to refuse here).
            var atomic = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config", new PushRequest(Atomic: true)), agent);
            Assert.True(atomic.State == "succeeded", Describe(atomic, agent));
            Assert.Contains(atomic.Steps, s => s.Message.Contains("all or nothing", StringComparison.Ordinal));
        }
        finally
        {
            ServicesTests.CleanUp(server.Id);
            ServicesTests.KillDaemons("knotd", stateDir);
        }
    }

    internal static string ZoneFile(string zone, int serial, string www) => $"""
        $ORIGIN {zone}.
        $TTL 300
        @       IN SOA ns1.{zone}. hostmaster.{zone}. ( {serial} 3600 600 86400 300 )
                IN NS  ns1.{zone}.
        ns1     IN A   192.0.2.53
        www     IN A   {www}
        mail    IN MX  10 mx.{zone}.
        mx      IN A   192.0.2.25
        @       IN TXT "v=spf1 mx -all"

        """;

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, JsonNode? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, Silo.BaseUrl + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await Silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static long Hits(JsonElement top, string name) => top.GetProperty("items").EnumerateArray()
        .Where(i => i.GetProperty("name").GetString()!.TrimEnd('.') == name)
        .Sum(i => i.GetProperty("hits").GetInt64());

    private static string Describe(JobView job, ChildProcess agent) =>
        $"{job.Kind} {job.State}: {job.Error}\n{string.Join('\n', job.Steps.Select(s => s.Message))}\nagent:\n{agent.Output}";

    private static LookupClient Client(int port) => new(new LookupClientOptions(new NameServer(IPAddress.Loopback, port))
    {
        UseCache = false,
        Retries = 1,
        Timeout = TimeSpan.FromSeconds(2),
        ThrowDnsErrors = false,
    });

    /// <summary>The A record of <paramref name="name"/>, or null when the server does not answer it (REFUSED, NXDOMAIN).</summary>
    internal static async Task<string?> AddressOfAsync(int port, string name)
    {
        var answer = await Client(port).QueryAsync(name, QueryType.A);
        return answer.Answers.OfType<ARecord>().FirstOrDefault()?.Address.ToString();
    }

    internal static async Task<long> SerialOfAsync(int port, string zone)
    {
        var answer = await Client(port).QueryAsync(zone, QueryType.SOA);
        return answer.Answers.OfType<SoaRecord>().Single().Serial;
    }
}
