using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Silo.Tests.E2E;
using Microsoft.Extensions.DependencyInjection;

namespace ManagedServers.Silo.Tests.InProcess;

/// <summary>
/// The DHCP configuration routes through the API of a silo host in the test process, SQLite and PostgreSQL: import (a
/// summary, or 400 naming where; nothing changes), the rendered document, the review, and push-config refusing what does
/// not fit with a message, starting nothing.
/// </summary>
public abstract class DhcpApiTests<THost>(THost host) : IClassFixture<THost>
    where THost : ApiHost
{
    private const string Config = """
        # a DHCPv4 server, as Kea writes them
        { "Dhcp4": {
            "interfaces-config": { "interfaces": [ "lo" ] },
            "hooks-libraries": [ { "library": "libdhcp_lease_cmds.so" } ],
            "valid-lifetime": 4000,
            "subnet4": [
                { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.100" } ],
                  "reservations": [ { "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.50" } ] },
                { "subnet": "198.51.100.0/24" },
            ] } }
        """;

    private ISiloApi Silo => host;

    [Fact]
    public async Task Import_render_and_review_and_bad_documents_name_where()
    {
        var server = await Silo.CreateServerAsync("dhcp-api-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");

        var (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/dhcp/import", """{ "Dhcp4": { "subnet4": [ { "id": 1, "subnet": 5 } ] } }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("must be a string", Field(body, "Dhcp4.subnet4[0].subnet"), StringComparison.Ordinal);
        (status, _) = await GetAsync($"/api/v1/servers/{server.Id}/dhcp/rendered?family=4");
        Assert.Equal(HttpStatusCode.NotFound, status);

        (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/dhcp/import", Config);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal((4, 2, 1, 1), (body.GetProperty("family").GetInt32(), body.GetProperty("subnets").GetInt32(), body.GetProperty("pools").GetInt32(), body.GetProperty("reservations").GetInt32()));
        Assert.Contains("Dhcp4.interfaces-config", body.GetProperty("verbatim").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("Dhcp4.subnet4[1] (198.51.100.0/24) had no id: it now has id 2", Assert.Single(body.GetProperty("notes").EnumerateArray()).GetString());
        var finding = Assert.Single(body.GetProperty("findings").EnumerateArray());
        Assert.Equal(("warning", "reservation-in-pool"), (finding.GetProperty("severity").GetString(), finding.GetProperty("check").GetString()));

        using var rendered = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/dhcp/rendered?family=4");
        Assert.Equal(HttpStatusCode.OK, rendered.StatusCode);
        var text = await rendered.Content.ReadAsStringAsync();
        Assert.StartsWith("{\n    \"Dhcp4\": {\n        \"interfaces-config\"", text, StringComparison.Ordinal);
        Assert.Contains("\"id\": 2,", text, StringComparison.Ordinal);
        using var again = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/dhcp/rendered?family=4");
        Assert.Equal(text, await again.Content.ReadAsStringAsync());

        (status, body) = await GetAsync($"/api/v1/servers/{server.Id}/dhcp/review?family=4");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("reservation hw-address 01:02:03:04:05:06 in subnet 1 (192.0.2.0/24)", Assert.Single(body.EnumerateArray()).GetProperty("object").GetString());
        (status, body) = await GetAsync($"/api/v1/servers/{server.Id}/dhcp/review?family=5");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("must be 4 or 6", Field(body, "family"), StringComparison.Ordinal);

        // A broken document later changes nothing.
        (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/dhcp/import", "{ \"Dhcp4\": {\n  \"subnet4\": [ \n } }");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid JSON", Field(body, "line 3, column 2"), StringComparison.Ordinal);
        using var unchanged = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}/dhcp/rendered?family=4");
        Assert.Equal(text, await unchanged.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Push_config_of_a_dhcp_server_is_refused_until_it_fits_and_other_kinds_cannot_import()
    {
        var server = await Silo.CreateServerAsync("dhcp-push-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/push-config", "{}");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("has no dhcp4 service", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/push-config", """{ "family": 5 }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("must be 4 or 6", Field(body, "family"), StringComparison.Ordinal);
        var (_, jobs) = await GetAsync($"/api/v1/jobs?server={server.Id}");
        Assert.Equal(0, jobs.GetProperty("total").GetInt32());

        (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/services", """{ "kind": "dhcp4", "interfaces": [ "lo", "way-too-long-interface-name", "eth0/300.1.1.1" ], "port": 10067 }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is not an interface name", Field(body, "interfaces[1]"), StringComparison.Ordinal);
        Assert.Contains("is not an interface name", Field(body, "interfaces[2]"), StringComparison.Ordinal);

        var dns = await Silo.CreateServerAsync("dns-import-" + Guid.NewGuid().ToString("N")[..6]);
        (status, body) = await PostAsync($"/api/v1/servers/{dns.Id}/services", """{ "kind": "dns", "interfaces": [ "lo" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("only a dhcp4 or dhcp6 service takes interfaces", Field(body, "interfaces"), StringComparison.Ordinal);
        (status, body) = await PostAsync($"/api/v1/servers/{dns.Id}/dhcp/import", Config);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not a DHCP server", Field(body, "id"), StringComparison.Ordinal);
        (status, _) = await PostAsync("/api/v1/servers/srv-0000000000000000/dhcp/import", Config);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Subnets_pools_and_reservations_are_edited_on_several_servers_and_a_refusal_changes_none()
    {
        var a = await Silo.CreateServerAsync("dhcp-obj-a-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var b = await Silo.CreateServerAsync("dhcp-obj-b-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var dns = await Silo.CreateServerAsync("dhcp-obj-dns-" + Guid.NewGuid().ToString("N")[..6]);

        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets",
            $$"""{ "family": 4, "id": 1, "subnet": "192.0.2.0/24", "pools": [ "192.0.2.10-192.0.2.200" ], "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        Assert.Equal(("192.0.2.0/24", "192.0.2.10-192.0.2.200"), (body.GetProperty("subnet").GetString(), Assert.Single(body.GetProperty("pools").EnumerateArray()).GetString()));
        Assert.Equal([a.Id, b.Id], body.GetProperty("servers").EnumerateArray().Select(s => s.GetString()));

        // Bad input names the field and changes nothing on either server.
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets",
            $$"""{ "family": 4, "id": 2, "subnet": "198.51.100.7/24", "pools": [ "198.51.100.10-198.51.100.5", "2001:db8::/64" ], "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("host bits set: the subnet is 198.51.100.0/24", Field(body, "subnet"), StringComparison.Ordinal);
        Assert.Contains("is not an IPv4 pool", Field(body, "pools[0]"), StringComparison.Ordinal);
        Assert.Contains("is not an IPv4 pool", Field(body, "pools[1]"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets", """{ "family": 4, "subnet": "198.51.100.0/24" }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is required", Field(body, "id"), StringComparison.Ordinal);
        Assert.Contains("is required", Field(body, "servers"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets",
            $$"""{ "family": 4, "id": 2, "subnet": "198.51.100.0/24", "servers": [ "{{a.Id}}", "{{dns.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is not a DHCP server", Field(body, "servers"), StringComparison.Ordinal);

        // The review of each edited configuration: overlapping subnets, a taken id, a pool outside the subnet.
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets",
            $$"""{ "family": 4, "id": 2, "subnet": "192.0.2.128/25", "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("subnet 2 (192.0.2.128/25) overlaps subnet 1 (192.0.2.0/24)", Field(body, "subnet"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets",
            $$"""{ "family": 4, "id": 1, "subnet": "198.51.100.0/24", "servers": [ "{{b.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("subnet 1 (192.0.2.0/24) already exists", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets/1/pools", $$"""{ "family": 4, "pool": "198.51.100.1-198.51.100.9", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is not inside 192.0.2.0/24", Field(body, "pools"), StringComparison.Ordinal);

        // A subnet only b has: a change to both is refused on b before a is touched.
        (status, _) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets", $$"""{ "family": 4, "id": 3, "subnet": "203.0.113.0/24", "servers": [ "{{b.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.Created, status);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets/3/reservations",
            $$"""{ "family": 4, "hw_address": "1a:1b:1c:1d:1e:1f", "ip_address": "203.0.113.5", "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains($"server '{a.Id}': there is no DHCPv4 subnet with id 3", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (_, body) = await GetAsync($"/api/v1/dhcp/subnets/3?family=4&server={b.Id}");
        Assert.Equal(0, body.GetProperty("reservations").GetArrayLength());

        // Reservations: a bad one names its field; a good one lands on both servers and is rendered.
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets/1/reservations",
            $$"""{ "family": 4, "hw_address": "1a:1b:1c", "ip_address": "192.0.2.300", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is not a MAC address", Field(body, "hw_address"), StringComparison.Ordinal);
        Assert.Contains("is not an IPv4 address", Field(body, "ip_address"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets/1/reservations",
            $$"""{ "family": 4, "hw_address": "1a:1b:1c:1d:1e:1f", "ip_address": "192.0.2.5", "hostname": "printer", "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets/1/reservations",
            $$"""{ "family": 4, "hw_address": "2a:2b:2c:2d:2e:2f", "ip_address": "192.0.2.5", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("reserves 192.0.2.5, already reserved for hw-address 1a:1b:1c:1d:1e:1f", Field(body, "reservations"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/options",
            $$"""{ "family": 4, "options": [ { "name": "domain-name-servers", "data": "192.0.2.1" } ], "servers": [ "{{a.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());

        using (var rendered = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{a.Id}/dhcp/rendered?family=4"))
        {
            var text = await rendered.Content.ReadAsStringAsync();
            Assert.Contains("\"hw-address\": \"1a:1b:1c:1d:1e:1f\"", text, StringComparison.Ordinal);
            Assert.Contains("\"pool\": \"192.0.2.10-192.0.2.200\"", text, StringComparison.Ordinal);
            Assert.Contains("libdhcp_lease_cmds.so", text, StringComparison.Ordinal);
            Assert.Contains("domain-name-servers", text, StringComparison.Ordinal);
        }

        (_, body) = await GetAsync($"/api/v1/dhcp/subnets?server={b.Id}");
        Assert.Equal([1L, 3L], body.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
        Assert.Equal("printer", Assert.Single(body.GetProperty("items")[0].GetProperty("reservations").EnumerateArray()).GetProperty("hostname").GetString());

        // Replace, remove a pool and a reservation, delete.
        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/subnets/1",
            $$"""{ "family": 4, "subnet": "192.0.2.0/24", "pools": [ "192.0.2.10-192.0.2.20", "192.0.2.100-192.0.2.120" ], "servers": [ "{{b.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(0, body.GetProperty("reservations").GetArrayLength());
        (status, body) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/subnets/1/pools?family=4&pool=192.0.2.10 - 192.0.2.20&server={b.Id}", null);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("192.0.2.100-192.0.2.120", Assert.Single(body.GetProperty("pools").EnumerateArray()).GetString());
        (status, body) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/subnets/1/reservations?family=4&identifier_type=hw_address&identifier=1A:1B:1C:1D:1E:1F&server={a.Id}", null);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(0, body.GetProperty("reservations").GetArrayLength());
        (status, _) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/subnets/1?family=4&server={a.Id}&server={b.Id}", null);
        Assert.Equal(HttpStatusCode.NoContent, status);
        (status, _) = await GetAsync($"/api/v1/dhcp/subnets/1?family=4&server={a.Id}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        (_, body) = await GetAsync($"/api/v1/dhcp/subnets?server={b.Id}&family=4");
        Assert.Equal(3, Assert.Single(body.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Dhcp_intervals_show_as_utilisation_per_server_and_fleet_wide_with_levels_and_a_repeated_interval_counts_once()
    {
        var server = await Silo.CreateServerAsync("dhcp-util-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var (status, body) = await PostAsync($"/api/v1/servers/{server.Id}/dhcp/import", Config);
        Assert.Equal(HttpStatusCode.OK, status);
        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/settings/monitoring", """{ "dhcp_utilisation_warning": 95, "dhcp_utilisation_critical": 90 }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("must not be above the critical level", Field(body, "dhcp_utilisation_warning"), StringComparison.Ordinal);

        var grains = host.Services.GetRequiredService<IGrainFactory>();
        var start = DateTimeOffset.UtcNow.AddMinutes(-2);
        var batch = new Contracts.Agent.DhcpMetricsBatch(
            server.Id, Guid.NewGuid(), start, start.AddMinutes(1),
            [new(4, 1, 91, 82, 1), new(4, 2, 256, 3, 0), new(6, 7, 1000, 10, 0, TotalPd: 256, AssignedPd: 240)],
            new Dictionary<string, long> { ["pkt4-received"] = 120, ["pkt4-ack-sent"] = 40 });
        var first = await grains.GetGrain<IServerDhcpMetricsGrain>(server.Id).IngestDhcpAsync(batch);
        Assert.True(first.Stored);
        Assert.False((await grains.GetGrain<IServerDhcpMetricsGrain>(server.Id).IngestDhcpAsync(batch with { BatchId = Guid.NewGuid() })).Stored);

        (status, body) = await GetAsync($"/api/v1/monitoring/dhcp/utilisation?server={server.Id}");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal((80, 90), (body.GetProperty("warning").GetInt32(), body.GetProperty("critical").GetInt32()));
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([(6, 7L, "critical"), (4, 1L, "critical"), (4, 2L, "ok")], items.Select(i => (i.GetProperty("family").GetInt32(), i.GetProperty("subnet_id").GetInt64(), i.GetProperty("level").GetString()!)));
        Assert.Equal((93.75, 256.0), (items[0].GetProperty("utilisation").GetDouble(), items[0].GetProperty("total").GetDouble())); // the prefixes are fuller than the addresses
        Assert.Equal(("192.0.2.0/24", 90.11), (items[1].GetProperty("subnet").GetString(), items[1].GetProperty("utilisation").GetDouble()));

        (status, body) = await GetAsync("/api/v1/monitoring/dhcp/utilisation?min=90&n=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        var mine = body.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("server_id").GetString() == server.Id).ToList();
        Assert.Equal([7L, 1L], mine.Select(i => i.GetProperty("subnet_id").GetInt64()));
        (status, body) = await GetAsync("/api/v1/monitoring/dhcp/utilisation?min=101");
        Assert.Contains("between 0 and 100", Field(body, "min"), StringComparison.Ordinal);

        (status, body) = await GetAsync($"/api/v1/monitoring/dhcp/raw?server={server.Id}&from={Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"))}");
        Assert.Equal(HttpStatusCode.OK, status);
        var row = Assert.Single(body.GetProperty("items").EnumerateArray()).GetProperty("metrics");
        Assert.Equal((82.0, 40.0, 120.0), (row.GetProperty("dhcp4.subnet[1].assigned").GetDouble(), row.GetProperty("dhcp.pkt4-ack-sent").GetDouble(), row.GetProperty("dhcp.packets_received").GetDouble()));
        (status, body) = await GetAsync($"/api/v1/monitoring/dhcp/aggregate?server={server.Id}&step=60&from={Uri.EscapeDataString(start.AddMinutes(-1).ToString("O"))}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(body.GetProperty("items").EnumerateArray(), p => p.GetProperty("metrics").TryGetProperty("dhcp.utilisation_max", out var max) && max.GetProperty("max").GetDouble() == 93.75);
    }

    [Fact]
    public async Task Two_servers_become_an_ha_pair_each_rendered_with_its_own_name()
    {
        var a = await Silo.CreateServerAsync("dhcp-ha-a-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var b = await Silo.CreateServerAsync("dhcp-ha-b-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets",
            $$"""{ "family": 4, "id": 1, "subnet": "192.0.2.0/24", "pools": [ "192.0.2.10-192.0.2.200" ], "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.Created, status);

        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/ha",
            $$"""{ "family": 4, "mode": "hot-standby", "peers": [ { "server": "{{a.Id}}", "url": "http://127.0.0.1:18001/", "role": "primary", "name": "a" }, { "server": "srv-0000000000000000", "url": "http://127.0.0.1:18002/", "role": "standby" } ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is not a server", Field(body, "peers[1].server"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/ha",
            $$"""{ "family": 4, "mode": "hot-standby", "peers": [ { "server": "{{a.Id}}", "url": "http://127.0.0.1:18001/", "role": "primary", "name": "a" }, { "server": "{{b.Id}}", "url": "http://peer-b/", "role": "standby", "name": "b" } ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("HA peer b has URL 'http://peer-b/'", Field(body, "peers"), StringComparison.Ordinal);

        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/ha",
            $$"""{ "family": 4, "mode": "hot-standby", "peers": [ { "server": "{{a.Id}}", "url": "http://127.0.0.1:18001/", "role": "primary", "name": "a" }, { "server": "{{b.Id}}", "url": "http://127.0.0.1:18002/", "role": "standby", "name": "b" } ] }""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        foreach (var (id, name) in new[] { (a.Id, "a"), (b.Id, "b") })
        {
            using var rendered = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{id}/dhcp/rendered?family=4");
            var text = await rendered.Content.ReadAsStringAsync();
            Assert.Contains($"\"this-server-name\": \"{name}\"", text, StringComparison.Ordinal);
            Assert.Contains("\"url\": \"http://127.0.0.1:18002/\"", text, StringComparison.Ordinal);
        }

        // The peers share one configuration: a subnet added to one is added to both.
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets", $$"""{ "family": 4, "id": 2, "subnet": "198.51.100.0/24", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.Created, status);
        (_, body) = await GetAsync($"/api/v1/dhcp/subnets?server={b.Id}&family=4");
        Assert.Equal([1L, 2L], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));

        // A push of the pair as one operation is checked first, naming the field and the server; nothing starts.
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/push", """{ "family": 5 }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("must be 4 or 6", Field(body, "family"), StringComparison.Ordinal);
        Assert.Contains("is required", Field(body, "servers"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/push", """{ "servers": [ "srv-0000000000000000" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("server 'srv-0000000000000000' not found", Field(body, "servers"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/push", $$"""{ "servers": [ "{{b.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("has no dhcp4 service: add it first", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (_, body) = await GetAsync($"/api/v1/jobs?server={a.Id}");
        Assert.Empty(body.GetProperty("items").EnumerateArray());
        (status, _) = await GetAsync("/api/v1/operations/op-00000000000000000000");
        Assert.Equal(HttpStatusCode.NotFound, status);
        (status, _) = await GetAsync("/api/v1/operations/not-an-operation");
        Assert.Equal(HttpStatusCode.NotFound, status);

        // The pair dissolved: neither peer renders an ha hook any more; a second time there is no pair to dissolve.
        (status, body) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/ha?server={b.Id}&family=4", null);
        Assert.True(status == HttpStatusCode.NoContent, body.ToString());
        foreach (var id in new[] { a.Id, b.Id })
        {
            using var rendered = await Silo.Http.GetAsync($"{Silo.BaseUrl}/api/v1/servers/{id}/dhcp/rendered?family=4");
            Assert.DoesNotContain("libdhcp_ha.so", await rendered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        (status, _) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/ha?server={a.Id}&family=4", null);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Shared_networks_and_client_classes_are_edited_on_several_servers()
    {
        var a = await Silo.CreateServerAsync("dhcp-sn-a-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var b = await Silo.CreateServerAsync("dhcp-sn-b-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        foreach (var (id, prefix) in new[] { (1, "192.0.2.0/24"), (2, "198.51.100.0/24") })
        {
            var (created, _) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/subnets", $$"""{ "family": 4, "id": {{id}}, "subnet": "{{prefix}}", "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
            Assert.Equal(HttpStatusCode.Created, created);
        }

        // Bad input names the field and changes nothing.
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/shared-networks", $$"""{ "family": 4, "subnets": [ 1, 9 ], "options": [ { "name": "routers", "data": "not-an-address" } ], "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("is required", Field(body, "name"), StringComparison.Ordinal);
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/shared-networks", $$"""{ "family": 4, "name": "campus", "subnets": [ 1, 9 ], "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("there is no DHCPv4 subnet with id 9", Field(body, "subnets"), StringComparison.Ordinal);

        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/shared-networks", $$"""{ "family": 4, "name": "campus", "interface": "lo", "subnets": [ 1, 2 ], "options": [ { "name": "routers", "data": "192.0.2.1" } ], "servers": [ "{{a.Id}}", "{{b.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        Assert.Equal([1L, 2L], body.GetProperty("subnets").EnumerateArray().Select(i => i.GetInt64()));
        foreach (var id in new[] { a.Id, b.Id })
        {
            (_, body) = await GetAsync($"/api/v1/dhcp/shared-networks?server={id}&family=4");
            Assert.Equal("campus", Assert.Single(body.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());
            (_, body) = await GetAsync($"/api/v1/dhcp/subnets?server={id}&family=4");
            Assert.All(body.GetProperty("items").EnumerateArray(), s => Assert.Equal("campus", s.GetProperty("shared_network").GetString()));
        }

        (status, body) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/shared-networks/campus", $$"""{ "family": 4, "subnets": [ 2 ], "servers": [ "{{a.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal([2L], body.GetProperty("subnets").EnumerateArray().Select(i => i.GetInt64()));

        // A class used by a pool cannot go; once unused it can.
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/client-classes", $$"""{ "family": 4, "name": "printers", "test": "substring(option[60].hex,0,7) == 'printer'", "servers": [ "{{a.Id}}" ] }""");
        Assert.True(status == HttpStatusCode.Created, body.ToString());
        (status, body) = await SendAsync(HttpMethod.Post, "/api/v1/dhcp/client-classes", $$"""{ "family": 4, "name": "printers", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        (_, body) = await GetAsync($"/api/v1/dhcp/client-classes?server={a.Id}&family=4");
        Assert.Equal("substring(option[60].hex,0,7) == 'printer'", Assert.Single(body.GetProperty("items").EnumerateArray()).GetProperty("test").GetString());
        (status, _) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/subnets/1", $$"""{ "family": 4, "subnet": "192.0.2.0/24", "client_class": "printers", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, body) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/client-classes/printers?family=4&server={a.Id}", null);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("is used by subnet 1 (192.0.2.0/24)", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, _) = await SendAsync(HttpMethod.Put, "/api/v1/dhcp/subnets/1", $$"""{ "family": 4, "subnet": "192.0.2.0/24", "servers": [ "{{a.Id}}" ] }""");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/client-classes/printers?family=4&server={a.Id}", null);
        Assert.Equal(HttpStatusCode.NoContent, status);

        // The network removed: its subnet stays, on its own.
        (status, _) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/shared-networks/campus?family=4&server={a.Id}", null);
        Assert.Equal(HttpStatusCode.NoContent, status);
        (_, body) = await GetAsync($"/api/v1/dhcp/subnets?server={a.Id}&family=4");
        Assert.Equal([1L, 2L], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));
        (status, _) = await SendAsync(HttpMethod.Delete, $"/api/v1/dhcp/shared-networks/campus?family=4&server={a.Id}", null);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Deleting_a_dhcp_server_leaves_no_row_of_it_in_the_database()
    {
        var server = await Silo.CreateServerAsync("dhcp-delete-" + Guid.NewGuid().ToString("N")[..6], kind: "dhcp");
        var before = (await host.RowsMentioningAsync(server.Id)).Count;
        var (status, _) = await PostAsync($"/api/v1/servers/{server.Id}/dhcp/import", Config);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True((await host.RowsMentioningAsync(server.Id)).Count > before, "the import wrote no row of its own"); // the part's 'dhcp' state

        using (var delete = await Silo.Http.DeleteAsync($"{Silo.BaseUrl}/api/v1/servers/{server.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        // The fleet index shard writes a second after a change (debounced): allow a few seconds.
        var left = await host.RowsMentioningAsync(server.Id);
        for (var wait = System.Diagnostics.Stopwatch.StartNew(); left.Count > 0 && wait.Elapsed < TimeSpan.FromSeconds(15);)
        {
            await Task.Delay(500);
            left = await host.RowsMentioningAsync(server.Id);
        }

        Assert.True(left.Count == 0, "the deleted server left rows:\n" + string.Join("\n", left.Distinct()));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Silo.Http.PostAsync(Silo.BaseUrl + path, content);
        return (response.StatusCode, await ReadAsync(response));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, Silo.BaseUrl + path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await Silo.Http.SendAsync(request);
        return (response.StatusCode, await ReadAsync(response));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path)
    {
        using var response = await Silo.Http.GetAsync(Silo.BaseUrl + path);
        return (response.StatusCode, await ReadAsync(response));
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Field(JsonElement problem, string field) =>
        problem.GetProperty("errors").TryGetProperty(field, out var list) ? string.Join(" ", list.EnumerateArray().Select(e => e.GetString())) : $"(no error for {field} in {problem})";
}

public sealed class SqliteDhcpApiTests(SqliteApiHost host) : DhcpApiTests<SqliteApiHost>(host);

public sealed class PostgresDhcpApiTests(PostgresApiHost host) : DhcpApiTests<PostgresApiHost>(host);
