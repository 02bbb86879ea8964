using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ManagedServers.Silo.Tests.E2E;

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
