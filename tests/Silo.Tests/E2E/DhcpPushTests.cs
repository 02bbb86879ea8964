using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ManagedServers.Agent.Engines;

namespace ManagedServers.Silo.Tests.E2E;

/// <summary>
/// DHCP end to end: a silo, a real agent and a real Kea (the exec runtime, and the docker runtime with our Kea image). A
/// configuration imported through the API is pushed as a job: the agent tests it with the running Kea, switches it, sets
/// it and checks it; what Kea then reports (<c>config-get</c>) has the hash the job recorded. A configuration the review
/// passes but Kea's <c>config-test</c> refuses fails the job with Kea's message and leaves Kea serving the previous one.
/// DHCP traffic (<c>perfdhcp</c>, relayed from 127.0.0.1) gets leases from the pushed pool, before and after the refusal;
/// versions are diffed and reverted. A configuration built with msctl is pushed; its leases are listed, searched and
/// deleted through the API; DHCP monitoring counts them exactly. DHCPv6 hands out addresses and prefixes, counted
/// exactly. An HA pair of two agents and two Keas is pushed as one operation, standby first, the partner in charge.
/// </summary>
public sealed class DhcpPushTests() : SiloTestBase("dhcp-push")
{
    // The document names no interface: the service's (lo, on a free port) are what Kea serves.
    private const string Config = """
        { "Dhcp4": {
            "interfaces-config": { "interfaces": [ ] },
            "valid-lifetime": 4000,
            "hooks-libraries": [ { "library": "libdhcp_lease_cmds.so" }, { "library": "libdhcp_stat_cmds.so" } ],
            "option-data": [ { "name": "domain-name-servers", "data": "192.0.2.1" } ],
            "subnet4": [
                { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ] },
                { "id": 2, "subnet": "198.51.100.0/24", "pools": [ { "pool": "198.51.100.10 - 198.51.100.20" } ] },
                { "id": 3, "subnet": "127.0.0.0/8", "pools": [ { "pool": "127.0.0.10 - 127.0.0.250" } ] } ] } }
        """;

    [Theory]
    [InlineData("exec")]
    [InlineData("docker")]
    public async Task A_dhcp_configuration_is_imported_pushed_and_served_by_kea_and_one_kea_refuses_changes_nothing(string runtime)
    {
        var name = "dhcp-e2e-" + runtime;
        var server = await Silo.CreateServerAsync(name, kind: "dhcp", runtime: runtime);
        var stateDir = await EnrolAsync(server.Id, "dhcp-state-" + runtime);
        using var agent = AgentProcess.RunVerbose(stateDir);
        await WaitRunningAsync(server.Id, agent);
        var port = Build.FreePort();
        var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dhcp4", Port: port, Interfaces: ["lo"])), agent);
        Assert.True(install.State == "succeeded", $"install failed: {install.Error}\nagent:\n{agent.Output}");
        Assert.Equal($"lo port {port}", (await Silo.GetServerAsync(server.Id))!.Services!.Single(s => s.Kind == "dhcp4").Listen);
        var socket = Path.Combine(stateDir, "services", "dhcp4", "run", "kea-dhcp4.sock");

        await ImportAsync(server.Id, Config);
        var push = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config", new PushRequest()), agent);
        Assert.True(push.State == "succeeded", $"push failed: {push.Error}\n{string.Join('\n', push.Steps.Select(s => s.Message))}\nagent:\n{agent.Output}");
        Assert.Contains(push.Steps, s => s.Message == "dhcp4 configuration version 1 is live (3 subnets)");

        // What Kea serves is what was pushed, and its hash is the one the job recorded.
        var (running, hash) = await ConfigGetAsync(socket);
        Assert.Equal(hash, push.Result!.Value.GetProperty("config_hash").GetString());
        Assert.Equal(["1 192.0.2.0/24", "2 198.51.100.0/24", "3 127.0.0.0/8"], Subnets(running));
        Assert.Equal("[\"lo\"]", running["Dhcp4"]!["interfaces-config"]!["interfaces"]!.ToJsonString());
        Assert.True(await PerfdhcpAsync(port) > 0, "no DHCPACK from the pushed configuration");
        var leases = await LeasesAsync(socket);
        Assert.NotEmpty(leases);
        Assert.All(leases, l => Assert.InRange(IPAddress.Parse(l).GetAddressBytes()[3], 10, 250));

        // The CLI: the review is clean; a broken file is one readable line naming where, and a non-zero exit.
        var (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "review", name);
        Assert.True(code == 0, text);
        Assert.Contains("Review: nothing to report", text, StringComparison.Ordinal);
        var broken = Path.Combine(Dir, "broken.json");
        await File.WriteAllTextAsync(broken, """{ "Dhcp4": { "subnet4": [ { "id": "one", "subnet": "192.0.2.0/24" } ] } }""");
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "import", name, broken);
        Assert.NotEqual(0, code);
        Assert.Contains("Dhcp4.subnet4[0].id", text, StringComparison.Ordinal);

        // The review passes this one (it checks values of options given by name; this one is by code); Kea's config-test refuses it.
        var refusedFile = Path.Combine(Dir, "refused.json");
        await File.WriteAllTextAsync(refusedFile, Config.Replace("{ \"name\": \"domain-name-servers\", \"data\": \"192.0.2.1\" }", "{ \"code\": 6, \"data\": \"192.0.2.300\" }", StringComparison.Ordinal).Replace("198.51.100.0/24", "203.0.113.0/24", StringComparison.Ordinal).Replace("198.51.100.", "203.0.113.", StringComparison.Ordinal));
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "import", name, refusedFile);
        Assert.True(code == 0, text);
        Assert.Contains($"Imported the DHCPv4 configuration of {name}: 3 subnets", text, StringComparison.Ordinal);
        var refused = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config", new PushRequest()), agent);
        Assert.Equal("failed", refused.State);
        Assert.Contains("Kea refused the configuration (config-test)", refused.Error, StringComparison.Ordinal);
        Assert.Contains("192.0.2.300", refused.Error, StringComparison.Ordinal);
        var (after, afterHash) = await ConfigGetAsync(socket);
        Assert.Equal(hash, afterHash);
        Assert.Equal(["1 192.0.2.0/24", "2 198.51.100.0/24", "3 127.0.0.0/8"], Subnets(after));
        Assert.True(await PerfdhcpAsync(port) > 0, "no DHCPACK after the refused push: Kea should still serve the previous configuration");

        // Versions: a second change is version 2, its diff shows what changed, and reverting to 1 serves version 1 again.
        await ImportAsync(server.Id, Config.Replace("\"valid-lifetime\": 4000", "\"valid-lifetime\": 5000", StringComparison.Ordinal));
        var second = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config", new PushRequest()), agent);
        Assert.True(second.State == "succeeded", second.Error);
        var versions = await GetJsonAsync($"/api/v1/servers/{server.Id}/config-versions?service=dhcp4");
        Assert.Equal([(2, true), (1, false)], versions.EnumerateArray().Select(v => (v.GetProperty("version").GetInt32(), v.GetProperty("live").GetBoolean())));
        Assert.Equal(3, versions[0].GetProperty("items").GetInt32());
        var diff = await GetJsonAsync($"/api/v1/servers/{server.Id}/config-versions/2/diff?service=dhcp4");
        Assert.Contains("-        \"valid-lifetime\": 4000", diff.GetProperty("diff").GetString(), StringComparison.Ordinal);
        Assert.Contains("+        \"valid-lifetime\": 5000", diff.GetProperty("diff").GetString(), StringComparison.Ordinal);
        using (var bad = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/config-versions?service=dns"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        var revert = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/config-versions/1/apply?service=dhcp4"), agent);
        Assert.True(revert.State == "succeeded", revert.Error);
        var (reverted, revertedHash) = await ConfigGetAsync(socket);
        Assert.Equal(hash, revertedHash);
        Assert.Equal(4000, (int)reverted["Dhcp4"]!["valid-lifetime"]!);
    }

    [Fact]
    public async Task A_configuration_built_with_msctl_is_pushed_and_its_leases_are_listed_searched_and_deleted_through_the_api()
    {
        await PutAsync("/api/v1/settings/monitoring", """{ "dhcp_interval_seconds": 2 }""");
        var server = await Silo.CreateServerAsync("dhcp-leases", kind: "dhcp", runtime: "exec");
        var stateDir = await EnrolAsync(server.Id, "dhcp-leases-state");
        var metricsPort = Build.FreePort();
        using var agent = AgentProcess.RunVerbose(stateDir, "--metrics-listen", $"127.0.0.1:{metricsPort}");
        await WaitRunningAsync(server.Id, agent);
        var port = Build.FreePort();
        var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dhcp4", Port: port, Interfaces: ["lo"])), agent);
        Assert.True(install.State == "succeeded", $"install failed: {install.Error}\nagent:\n{agent.Output}");
        var socket = Path.Combine(stateDir, "services", "dhcp4", "run", "kea-dhcp4.sock");

        // Built object by object with msctl (the configuration starts with lease_cmds and stat_cmds), then pushed.
        var (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "subnets", "add", "--id", "3", "--subnet", "127.0.0.0/8", "--pool", "127.0.0.10-127.0.0.250", "--option", "routers=127.0.0.1", "-s", "dhcp-leases");
        Assert.True(code == 0, text);
        Assert.Contains("Added DHCPv4 subnet 3 (127.0.0.0/8) on dhcp-leases", text, StringComparison.Ordinal);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "subnets", "add", "--id", "4", "--subnet", "127.0.0.0/16", "-s", "dhcp-leases");
        Assert.Equal(1, code);
        Assert.Contains("overlaps subnet 3 (127.0.0.0/8)", text, StringComparison.Ordinal);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "reservations", "add", "3", "--hw-address", "1a:1b:1c:1d:1e:1f", "--ip", "127.0.0.5", "--hostname", "printer", "-s", "dhcp-leases");
        Assert.True(code == 0, text);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "subnets", "list", "dhcp-leases");
        Assert.True(code == 0, text);
        Assert.Contains("127.0.0.10-127.0.0.250", text, StringComparison.Ordinal);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "shared-networks", "add", "loopback", "--subnet", "3", "--option", "domain-name=example.test", "-s", "dhcp-leases");
        Assert.True(code == 0, text);
        Assert.Contains("Added DHCPv4 shared network loopback with subnets 3 on dhcp-leases", text, StringComparison.Ordinal);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "classes", "add", "printers", "--test", "substring(option[60].hex,0,7) == 'printer'", "-s", "dhcp-leases");
        Assert.True(code == 0, text);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "classes", "list", "dhcp-leases");
        Assert.True(code == 0 && text.Contains("printers", StringComparison.Ordinal), text);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "shared-networks", "list", "dhcp-leases", "-o", "json");
        Assert.True(code == 0, text);
        Assert.Equal([3L], System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("items")[0].GetProperty("subnets").EnumerateArray().Select(i => i.GetInt64()));
        var push = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config", new PushRequest()), agent);
        Assert.True(push.State == "succeeded", $"push failed: {push.Error}\n{string.Join('\n', push.Steps.Select(s => s.Message))}\nagent:\n{agent.Output}");

        // A first interval with the subnet and no lease: the packet counters' baseline (a first reading counts no increase).
        await WaitAsync(
            () => GetJsonAsync($"/api/v1/monitoring/dhcp/utilisation?server={server.Id}"),
            u => u.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("subnet_id").GetInt64() == 3),
            "a DHCP interval reporting subnet 3",
            agent);
        var kstatus = await GetJsonAsync($"/api/v1/servers/{server.Id}/dhcp/status?family=4");
        Assert.True(kstatus.GetProperty("sockets_ready").GetBoolean(), kstatus.ToString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, kstatus.GetProperty("ha_state").ValueKind);
        var acks = await PerfdhcpAsync(port);
        Assert.True(acks > 0, "no DHCPACK from the configuration built with msctl");
        var kea = await LeasesAsync(socket);
        Assert.NotEmpty(kea);

        // DHCP monitoring counts them exactly: Kea's statistics → agent → silo, per subnet; and the fleet-wide listing has it.
        var utilisation = await WaitAsync(
            () => GetJsonAsync($"/api/v1/monitoring/dhcp/utilisation?server={server.Id}"),
            u => u.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("subnet_id").GetInt64() == 3 && i.GetProperty("assigned").GetDouble() == kea.Count),
            $"subnet 3 reported with {kea.Count} assigned addresses",
            agent);
        var subnet3 = utilisation.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("subnet_id").GetInt64() == 3);
        Assert.Equal(("127.0.0.0/8", 241.0, "ok"), (subnet3.GetProperty("subnet").GetString(), subnet3.GetProperty("total").GetDouble(), subnet3.GetProperty("level").GetString()));
        Assert.Equal(Math.Round(100.0 * kea.Count / 241, 2), subnet3.GetProperty("utilisation").GetDouble());
        await WaitAsync(
            () => GetJsonAsync("/api/v1/monitoring/dhcp/utilisation?n=50"),
            u => u.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("server_id").GetString() == server.Id && i.GetProperty("assigned").GetDouble() == kea.Count),
            "the fleet-wide listing (from the fleet index) showing the subnet",
            agent);
        using (var prometheus = new HttpClient())
        {
            var exposition = await prometheus.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            Assert.Contains($"managedservers_agent_dhcp_subnet_assigned{{family=\"4\",subnet_id=\"3\"}} {kea.Count}\n", exposition, StringComparison.Ordinal);
            Assert.Contains("managedservers_agent_dhcp_packets_total{type=\"pkt4-ack-sent\"}", exposition, StringComparison.Ordinal);
        }

        var raw = await GetJsonAsync($"/api/v1/monitoring/dhcp/raw?server={server.Id}");
        var acked = raw.GetProperty("items").EnumerateArray().Sum(r => r.GetProperty("metrics").TryGetProperty("dhcp.pkt4-ack-sent", out var v) ? v.GetDouble() : 0);
        Assert.True(acked >= acks, $"the intervals count {acked} DHCPACKs sent; perfdhcp received {acks}");

        // The whole list through the API is what Kea holds; pages of 3 add up to it.
        var all = await GetLeasesAsync(server.Id, "family=4");
        Assert.Equal(kea.Order(), all.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("address").GetString()!).Order());
        var paged = new List<string>();
        string? from = null;
        for (var page = 0; page < 20; page++)
        {
            var body = await GetLeasesAsync(server.Id, "family=4&limit=3" + (from is null ? string.Empty : "&from=" + from));
            paged.AddRange(body.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("address").GetString()!));
            from = body.GetProperty("next").GetString();
            if (from is null)
            {
                break;
            }
        }

        Assert.Equal(kea.Order(), paged.Order());

        // Search by MAC and by address find that client's lease, with its subnet and expiry.
        var lease = all.GetProperty("items")[0];
        var (address, mac) = (lease.GetProperty("address").GetString()!, lease.GetProperty("hw_address").GetString()!);
        Assert.Equal(3, lease.GetProperty("subnet_id").GetInt64());
        Assert.True(lease.GetProperty("expires_at").GetDateTimeOffset() > DateTimeOffset.UtcNow, lease.ToString());
        var byMac = await GetLeasesAsync(server.Id, "search=" + Uri.EscapeDataString(mac));
        Assert.Equal("hw-address", byMac.GetProperty("searched_by").GetString());
        Assert.Equal(address, Assert.Single(byMac.GetProperty("items").EnumerateArray()).GetProperty("address").GetString());
        var byAddress = await GetLeasesAsync(server.Id, "search=" + address);
        Assert.Equal(mac, Assert.Single(byAddress.GetProperty("items").EnumerateArray()).GetProperty("hw_address").GetString());
        Assert.Empty((await GetLeasesAsync(server.Id, "search=127.1.2.3")).GetProperty("items").EnumerateArray());
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "leases", "dhcp-leases", "--search", mac);
        Assert.True(code == 0, text);
        Assert.Contains(address, text, StringComparison.Ordinal);

        // Deleting it: Kea forgets it; a second delete is 404; msctl asks first (refuses without a terminal or --yes).
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "lease-delete", "dhcp-leases", address);
        Assert.NotEqual(0, code);
        Assert.Contains("--yes", text, StringComparison.Ordinal);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "lease-delete", "dhcp-leases", address, "--yes");
        Assert.True(code == 0, text);
        Assert.DoesNotContain(address, await LeasesAsync(socket));
        await WaitAsync(
            () => GetJsonAsync($"/api/v1/monitoring/dhcp/utilisation?server={server.Id}"),
            u => u.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("subnet_id").GetInt64() == 3 && i.GetProperty("assigned").GetDouble() == kea.Count - 1),
            "the deleted lease no longer counted",
            agent);
        using (var again = await Silo.Http.DeleteAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/leases/{address}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        using (var bad = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/leases?family=5&from=x"))
        {
            var problem = await bad.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("\"family\"", problem, StringComparison.Ordinal);
            Assert.Contains("\"from\"", problem, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// An HA pair of two servers, each with its own agent and Kea, configured through the API and pushed as one operation:
    /// the standby first, each peer's push with its partner in charge (Kea's ha-maintenance-start, then cancel); both
    /// peers then serve as a hot-standby pair (the primary answers DHCP traffic and the standby holds the same leases). A
    /// change Kea refuses stops at the standby: the primary is not pushed, the partner hands back, both keep serving.
    /// </summary>
    [Fact]
    public async Task An_ha_pair_of_two_agents_is_pushed_as_one_operation_standby_first_with_the_partner_in_charge()
    {
        var primary = await Silo.CreateServerAsync("dhcp-ha-1", kind: "dhcp", runtime: "exec");
        var standby = await Silo.CreateServerAsync("dhcp-ha-2", kind: "dhcp", runtime: "exec");
        var (dir1, dir2) = (await EnrolAsync(primary.Id, "ha-1-state"), await EnrolAsync(standby.Id, "ha-2-state"));
        using var agent1 = AgentProcess.RunVerbose(dir1);
        using var agent2 = AgentProcess.RunVerbose(dir2);
        await WaitRunningAsync(primary.Id, agent1);
        await WaitRunningAsync(standby.Id, agent2);
        var port1 = Build.FreePort();
        foreach (var (id, agent, port) in new[] { (primary.Id, agent1, port1), (standby.Id, agent2, Build.FreePort()) })
        {
            var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{id}/services", new AddServiceRequest("dhcp4", Port: port, Interfaces: ["lo"])), agent);
            Assert.True(install.State == "succeeded", $"install failed: {install.Error}\nagent:\n{agent.Output}");
        }

        var (socket1, socket2) = (Path.Combine(dir1, "services", "dhcp4", "run", "kea-dhcp4.sock"), Path.Combine(dir2, "services", "dhcp4", "run", "kea-dhcp4.sock"));
        await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets", $$"""{ "family": 4, "id": 3, "subnet": "127.0.0.0/8", "pools": ["127.0.0.10-127.0.0.250"], "servers": ["{{primary.Id}}", "{{standby.Id}}"] }""", HttpStatusCode.Created);
        await SendAsync(HttpMethod.Put, "/api/v1/dhcp/ha", $$"""
            { "family": 4, "mode": "hot-standby", "heartbeat_delay_ms": 1000, "max_response_delay_ms": 3000, "max_ack_delay_ms": 1000, "max_unacked_clients": 0,
              "peers": [ { "server": "{{primary.Id}}", "url": "http://127.0.0.1:{{Build.FreePort()}}/", "role": "primary" },
                         { "server": "{{standby.Id}}", "url": "http://127.0.0.1:{{Build.FreePort()}}/", "role": "standby" } ] }
            """, HttpStatusCode.OK);

        // The first push of the pair (no HA running yet, so the hand-overs have nothing to do): the primary is named, its partner comes along.
        var first = await PushPairAsync(primary.Id, agent1, agent2);
        Assert.True(first.GetProperty("state").GetString() == "succeeded", first.ToString());
        Assert.Equal([(standby.Id, "succeeded"), (primary.Id, "succeeded")], Results(first));
        await AssertStandbyFirstAsync(first, standby.Id, primary.Id);
        await HaStateAsync(primary.Id, "hot-standby", agent1);
        await HaStateAsync(standby.Id, "hot-standby", agent2);

        // DHCP traffic: the primary answers, and the standby holds the same leases (Kea's HA lease updates).
        Assert.True(await PerfdhcpAsync(port1) > 0, "no DHCPACK from the pair's primary");
        var leases = await LeasesAsync(socket1);
        Assert.NotEmpty(leases);
        await WaitAsync(() => LeasesAsync(socket2), l => l.Order().SequenceEqual(leases.Order()), $"the standby holding the primary's {leases.Count} leases", agent2);

        // A change: pushed again as one operation, now with the partner in charge while each peer changes.
        await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets/3/pools", $$"""{ "family": 4, "pool": "127.1.0.10-127.1.0.20", "servers": ["{{standby.Id}}"] }""", HttpStatusCode.OK);
        var (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "push", "dhcp-ha-2", "-o", "json"); // msctl follows the operation to its end
        Assert.True(code == 0, text);
        var second = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.True(second.GetProperty("state").GetString() == "succeeded", second.ToString());
        var handOver = await GetJsonAsync($"/api/v1/jobs/{StepJob(second, primary.Id, "dhcp_ha_maintenance")}");
        Assert.Contains(handOver.GetProperty("steps").EnumerateArray(), s => s.GetProperty("message").GetString()!.Contains("partner-in-maintenance", StringComparison.Ordinal));
        foreach (var socket in new[] { socket1, socket2 })
        {
            var (config, _) = await ConfigGetAsync(socket);
            Assert.Contains("127.1.0.10-127.1.0.20", config.ToJsonString(), StringComparison.Ordinal);
        }

        await HaStateAsync(primary.Id, "hot-standby", agent1);
        await HaStateAsync(standby.Id, "hot-standby", agent2);

        // A change Kea refuses (the review checks options given by name; this one is by code): the standby refuses and
        // rolls back, the primary is not pushed, the hand-back runs; both keep serving their previous configuration.
        var (_, hash1) = await ConfigGetAsync(socket1);
        var (_, hash2) = await ConfigGetAsync(socket2);
        await SendAsync(HttpMethod.Put, "/api/v1/dhcp/options", $$"""{ "family": 4, "options": [ { "code": 6, "data": "192.0.2.300" } ], "servers": ["{{primary.Id}}"] }""", HttpStatusCode.OK);
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "dhcp", "push", "dhcp-ha-1");
        Assert.True(code == 1, text);
        Assert.True(text.Contains("the dhcp push failed on 2 of 2 server(s): dhcp-ha-2:", StringComparison.Ordinal), text);
        var operationId = System.Text.RegularExpressions.Regex.Match(text, "Operation (op-[0-9a-f]{20})").Groups[1].Value;
        (code, text) = await Msctl.RunAsync(Silo, Dir, true, "jobs", "operation", operationId);
        Assert.True(code == 1 && text.Contains("skipped: push dhcp4 to dhcp-ha-2 (standby) failed", StringComparison.Ordinal), text);
        var refused = await GetJsonAsync($"/api/v1/operations/{operationId}");
        Assert.Equal("failed", refused.GetProperty("state").GetString());
        Assert.Equal([(standby.Id, "failed"), (primary.Id, "skipped")], Results(refused));
        Assert.Contains("config-test", refused.GetProperty("servers")[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains(refused.GetProperty("steps").EnumerateArray(), s => s.GetProperty("mode").GetString() == "always" && s.GetProperty("server_id").GetString() == primary.Id && s.GetProperty("state").GetString() == "succeeded");
        Assert.Equal(hash1, (await ConfigGetAsync(socket1)).Hash);
        Assert.Equal(hash2, (await ConfigGetAsync(socket2)).Hash);
        await HaStateAsync(primary.Id, "hot-standby", agent1);
        await HaStateAsync(standby.Id, "hot-standby", agent2);
        Assert.True(await PerfdhcpAsync(port1) > 0, "no DHCPACK from the primary after the refused push");
    }

    /// <summary>
    /// DHCPv6 end to end: a dhcp6 service on ::1, a configuration with an address pool and a prefix-delegation pool pushed
    /// through the API, and DHCPv6 traffic (<c>perfdhcp -6</c> relaying from ::1, addresses and prefixes) getting both; the
    /// lease API lists exactly what Kea holds (IA_NA and IA_PD), and DHCP monitoring counts both exactly.
    /// </summary>
    [Fact]
    public async Task A_dhcpv6_configuration_is_pushed_and_hands_out_addresses_and_prefixes_counted_exactly()
    {
        await PutAsync("/api/v1/settings/monitoring", """{ "dhcp_interval_seconds": 2 }""");
        var server = await Silo.CreateServerAsync("dhcp6-e2e", kind: "dhcp", runtime: "exec");
        var stateDir = await EnrolAsync(server.Id, "dhcp6-state");
        using var agent = AgentProcess.RunVerbose(stateDir);
        await WaitRunningAsync(server.Id, agent);
        var port = Build.FreePort();
        var install = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/services", new AddServiceRequest("dhcp6", Port: port, Interfaces: ["lo/::1"])), agent);
        Assert.True(install.State == "succeeded", $"install failed: {install.Error}\nagent:\n{agent.Output}");
        var socket = Path.Combine(stateDir, "services", "dhcp6", "run", "kea-dhcp6.sock");

        // perfdhcp relays from ::1: the subnet is chosen by that relay address.
        await ImportAsync(server.Id, """
            { "Dhcp6": {
                "interfaces-config": { "interfaces": [ ] },
                "hooks-libraries": [ { "library": "libdhcp_lease_cmds.so" } ],
                "subnet6": [ { "id": 1, "subnet": "2001:db8:1::/64", "relay": { "ip-addresses": [ "::1" ] },
                               "pools": [ { "pool": "2001:db8:1::100 - 2001:db8:1::1ff" } ],
                               "pd-pools": [ { "prefix": "2001:db8:8::", "prefix-len": 48, "delegated-len": 56 } ] } ] } }
            """);
        var push = await FinishAsync(await StartJobAsync(HttpMethod.Post, $"/api/v1/servers/{server.Id}/push-config", new PushRequest(Family: 6)), agent);
        Assert.True(push.State == "succeeded", $"push failed: {push.Error}\n{string.Join('\n', push.Steps.Select(s => s.Message))}\nagent:\n{agent.Output}");
        Assert.Contains(push.Steps, s => s.Message == "dhcp6 configuration version 1 is live (1 subnets)");

        await WaitAsync(
            () => GetJsonAsync($"/api/v1/monitoring/dhcp/utilisation?server={server.Id}"),
            u => u.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("family").GetInt32() == 6),
            "a DHCP interval reporting the DHCPv6 subnet",
            agent);
        var replies = await Perfdhcp6Async(port);
        Assert.True(replies > 0, "no DHCPv6 REPLY from the pushed configuration");

        var answer = await KeaControl.SendAsync(socket, "lease6-get-all", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(answer.Ok, answer.Message);
        var kea = ((JsonArray)answer.Arguments!["leases"]!).Select(l => ((string)l!["ip-address"]!, (string)l["type"]!)).ToList();
        var (addresses, prefixes) = (kea.Count(l => l.Item2 == "IA_NA"), kea.Count(l => l.Item2 == "IA_PD"));
        Assert.True(addresses > 0 && prefixes > 0, $"Kea holds {addresses} addresses and {prefixes} prefixes");
        Assert.All(kea.Where(l => l.Item2 == "IA_PD"), l => Assert.StartsWith("2001:db8:8:", l.Item1, StringComparison.Ordinal));

        var listed = await GetLeasesAsync(server.Id, "family=6");
        Assert.Equal(kea.Select(l => l.Item1).Order(), listed.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("address").GetString()!).Order());
        Assert.Equal(prefixes, listed.GetProperty("items").EnumerateArray().Count(l => l.GetProperty("type").GetString() == "IA_PD"));

        // Monitoring: the addresses in the utilisation, the delegated prefixes in the raw interval.
        await WaitAsync(
            () => GetJsonAsync($"/api/v1/monitoring/dhcp/utilisation?server={server.Id}"),
            u => u.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("family").GetInt32() == 6 && i.GetProperty("assigned").GetDouble() == addresses),
            $"the DHCPv6 subnet reported with {addresses} assigned addresses",
            agent);
        await WaitAsync(
            () => GetJsonAsync($"/api/v1/monitoring/dhcp/raw?server={server.Id}"),
            r => r.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("metrics").TryGetProperty("dhcp6.subnet[1].assigned_pd", out var pd) && pd.GetDouble() == prefixes),
            $"the DHCPv6 subnet reported with {prefixes} delegated prefixes",
            agent);
    }

    /// <summary>Ten DHCPv6 exchanges (addresses and prefixes) from <c>perfdhcp -6</c> relaying from ::1 to Kea on <paramref name="port"/>; returns the REPLYs received.</summary>
    private static Task<int> Perfdhcp6Async(int port) =>
        PerfdhcpAsync("REQUEST-REPLY", "-6", "-N", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-L", "547", "-l", "lo", "-A", "1", "-e", "address-and-prefix", "-R", "10", "-n", "10", "-r", "10", "-p", "5", "::1");

    /// <summary>POST /api/v1/dhcp/push for <paramref name="server"/> (202 with the operation), followed until it is over.</summary>
    private async Task<System.Text.Json.JsonElement> PushPairAsync(string server, ChildProcess agent1, ChildProcess agent2)
    {
        var started = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/push", $$"""{ "family": 4, "servers": ["{{server}}"] }""", HttpStatusCode.Accepted);
        var id = started.GetProperty("operation_id").GetString();
        try
        {
            return await WaitAsync(() => GetJsonAsync($"/api/v1/operations/{id}"), o => o.GetProperty("state").GetString() != "running", $"operation {id} to finish", agent1);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"{e.Message}\nother agent:\n{agent2.Output}", e);
        }
    }

    private static (string, string)[] Results(System.Text.Json.JsonElement operation) =>
        [.. operation.GetProperty("servers").EnumerateArray().Select(s => (s.GetProperty("server_id").GetString()!, s.GetProperty("state").GetString()!))];

    private static string StepJob(System.Text.Json.JsonElement operation, string server, string kind) =>
        operation.GetProperty("steps").EnumerateArray().First(s => s.GetProperty("server_id").GetString() == server && s.GetProperty("job_kind").GetString() == kind).GetProperty("job_id").GetString()!;

    /// <summary>The standby's push job was over before the primary's push job was created.</summary>
    private async Task AssertStandbyFirstAsync(System.Text.Json.JsonElement operation, string standby, string primary)
    {
        var first = await GetJsonAsync($"/api/v1/jobs/{StepJob(operation, standby, "dhcp_push")}");
        var second = await GetJsonAsync($"/api/v1/jobs/{StepJob(operation, primary, "dhcp_push")}");
        Assert.True(first.GetProperty("finished_at").GetDateTimeOffset() <= second.GetProperty("created_at").GetDateTimeOffset(), $"{first}\n{second}");
    }

    /// <summary>Waits until the server's Kea reports <paramref name="state"/> as its HA state.</summary>
    private Task<System.Text.Json.JsonElement> HaStateAsync(string server, string state, ChildProcess agent) => WaitAsync(
        () => GetJsonAsync($"/api/v1/servers/{server}/dhcp/status?family=4"),
        s => s.GetProperty("ha_state").ValueKind == System.Text.Json.JsonValueKind.String && s.GetProperty("ha_state").GetString() == state,
        $"server {server} in HA state {state}",
        agent);

    private async Task<System.Text.Json.JsonElement> SendAsync(HttpMethod method, string path, string body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, Silo.BaseUrl + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await Silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    private Task<System.Text.Json.JsonElement> GetLeasesAsync(string serverId, string query) => GetJsonAsync($"/api/v1/servers/{serverId}/leases?{query}");

    private async Task<System.Text.Json.JsonElement> GetJsonAsync(string path)
    {
        using var response = await Silo.Http.GetAsync(Silo.BaseUrl + path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task PutAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Silo.Http.PutAsync(Silo.BaseUrl + path, content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Ten DORA exchanges from <c>perfdhcp</c> acting as a relay on 127.0.0.1 (it listens on port 67, where Kea answers
    /// relays) to Kea on <paramref name="port"/>; returns the DHCPACKs received.
    /// </summary>
    private static Task<int> PerfdhcpAsync(int port) =>
        PerfdhcpAsync("REQUEST-ACK", "-4", "-N", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-L", "67", "-l", "127.0.0.1", "-R", "10", "-n", "10", "-r", "10", "-p", "5", "127.0.0.1");

    /// <summary>Runs perfdhcp with <paramref name="args"/> (60 s at most); returns the answers to the second exchange (<paramref name="exchange"/>).</summary>
    private static async Task<int> PerfdhcpAsync(string exchange, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/usr/sbin/perfdhcp", args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var perf = System.Diagnostics.Process.Start(start)!;
        var output = perf.StandardOutput.ReadToEndAsync();
        var errors = perf.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await perf.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            perf.Kill();
            Assert.Fail("perfdhcp did not finish");
        }

        var text = await output + await errors;
        var answered = System.Text.RegularExpressions.Regex.Match(text, $@"Statistics for: {exchange}\*+\s+sent packets: \d+\s+received packets: (\d+)");
        Assert.True(answered.Success, $"perfdhcp printed no {exchange} statistics:\n" + text);
        return int.Parse(answered.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The addresses of Kea's IPv4 leases (<c>lease4-get-all</c>, from the lease_cmds hook).</summary>
    private static async Task<List<string>> LeasesAsync(string socketPath)
    {
        var answer = await KeaControl.SendAsync(socketPath, "lease4-get-all", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(answer.Ok, answer.Message);
        return [.. ((JsonArray)answer.Arguments!["leases"]!).Select(l => (string)l!["ip-address"]!)];
    }

    private async Task ImportAsync(string serverId, string document)
    {
        using var content = new StringContent(document, Encoding.UTF8, "application/json");
        using var response = await Silo.Http.PostAsync($"{Silo.BaseUrl}/api/v1/servers/{serverId}/dhcp/import", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Kea's <c>config-get</c> through the agent's control client, and the sha256 of its compact JSON (as the agent hashes it).</summary>
    private static async Task<(JsonObject Config, string Hash)> ConfigGetAsync(string socketPath)
    {
        var answer = await KeaControl.SendAsync(socketPath, "config-get", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(answer.Ok, answer.Message);
        var config = (JsonObject)answer.Arguments!;
        return (config, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config.ToJsonString()))));
    }

    private static string[] Subnets(JsonObject config) =>
        [.. ((JsonArray)config["Dhcp4"]!["subnet4"]!).Select(s => $"{s!["id"]} {s["subnet"]}").Order(StringComparer.Ordinal)];
}
