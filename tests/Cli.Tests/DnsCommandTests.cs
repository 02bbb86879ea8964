using System.Text.Json;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Cli.Tests;

public sealed class DnsCommandTests() : FakeApiTests(useApi: true)
{
    private void AddHits(string serverId) =>
        Api.DnsHits[serverId] =
        [
            new DnsNameHits("example.com", "www.example.com", 7000, FakeApi.Now.AddSeconds(-5)),
            new DnsNameHits("example.com", "mail.example.com", 300, FakeApi.Now.AddMinutes(-3)),
            new DnsNameHits("example.net", "www.example.net", 500, FakeApi.Now.AddMinutes(-1)),
        ];

    [Fact]
    public async Task Top_prints_names_by_hits_with_last_access()
    {
        var server = Api.AddServer("dns1");
        AddHits(server.Id);

        var run = await Cli.RunAsync("dns", "top", "dns1", "-n", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("/api/v1/monitoring/dns/top?server=" + server.Id + "&n=2&from=2025-06-01T11%3A00%3A00Z&to=2025-06-01T12%3A00%3A00Z", string.Join('\n', Api.Requests));
        Assert.Contains("Top names of dns1, last 1h:", run.Stdout);
        var lines = run.Stdout.Split('\n');
        var first = Array.FindIndex(lines, l => l.Contains("www.example.com", StringComparison.Ordinal));
        var second = Array.FindIndex(lines, l => l.Contains("www.example.net", StringComparison.Ordinal));
        Assert.True(first >= 0 && second > first, run.Stdout);
        Assert.Contains("7,000", lines[first]);
        Assert.DoesNotContain("mail.example.com", run.Stdout);
    }

    [Fact]
    public async Task Top_of_one_zone_as_json()
    {
        var server = Api.AddServer("dns1");
        AddHits(server.Id);

        var run = await Cli.RunAsync("dns", "top", "dns1", "--zone", "example.com", "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        var names = json.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()).ToList();
        Assert.Equal(["www.example.com", "mail.example.com"], names);
        Assert.Equal("example.com", json.RootElement.GetProperty("zone").GetString());
    }

    private void AddZone(string name) =>
        Api.Zones[name] = (new ZoneView(name, 7, 3, "00", 100, 40, FakeApi.Now, FakeApi.Now), string.Empty);

    [Fact]
    public async Task Zones_add_and_remove_change_only_the_zones_named()
    {
        var server = Api.AddServer("dns1");
        AddZone("demo.test");
        AddZone("example.test");
        AddZone("old.test");
        Api.ServerZones[server.Id] = new SortedSet<string>(["demo.test", "old.test"], StringComparer.Ordinal);

        var add = await Cli.RunAsync("servers", "zones", "dns1", "--add", "example.test");

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains($"POST /api/v1/servers/{server.Id}/zones/example.test", Api.Requests);
        Assert.DoesNotContain(Api.Requests, r => r.StartsWith("PUT", StringComparison.Ordinal));
        Assert.Equal(["demo.test", "example.test", "old.test"], Api.ServerZones[server.Id]);
        foreach (var zone in new[] { "demo.test", "example.test", "old.test" })
        {
            Assert.Contains(zone, add.Stdout);
        }

        var remove = await Cli.RunAsync("servers", "zones", "dns1", "--remove", "old.test", "-o", "json");

        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Contains($"DELETE /api/v1/servers/{server.Id}/zones/old.test", Api.Requests);
        using var json = JsonDocument.Parse(remove.Stdout);
        Assert.Equal(["demo.test", "example.test"], json.RootElement.GetProperty("zones").EnumerateArray().Select(z => z.GetProperty("zone").GetString()));
    }

    [Fact]
    public async Task Zones_add_of_a_zone_that_does_not_exist_is_one_error_line()
    {
        Api.AddServer("dns1");

        var run = await Cli.RunAsync("servers", "zones", "dns1", "--add", "nowhere.test");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: Not found: zone 'nowhere.test' not found", run.ErrorLine);
    }

    [Theory]
    [InlineData("--set", "a.test", "--add", "b.test")]
    [InlineData("--add", ",")]
    public async Task Zones_options_that_do_not_go_together_are_usage_errors(params string[] options)
    {
        Api.AddServer("dns1");

        var run = await Cli.RunAsync(["servers", "zones", "dns1", .. options]);

        Assert.Equal(2, run.ExitCode);
        Assert.DoesNotContain(Api.Requests, r => r.Contains("/zones", StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_hits_yet_says_when_they_arrive_with_the_interval_in_force()
    {
        Api.AddServer("dns1");
        Api.Monitoring = Api.Monitoring with { DnsIntervalSeconds = 30 };

        var run = await Cli.RunAsync("dns", "top", "dns1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("No DNS hits recorded for dns1 in the last 1h.", run.Stdout);
        Assert.Contains("Hits arrive once per DNS interval (every 30 s)", run.Stdout);

        Api.Monitoring = Api.Monitoring with { DnsMonitoring = false };
        run = await Cli.RunAsync("dns", "top", "dns1");
        Assert.Contains("DNS monitoring is off: turn it on with msctl settings monitoring set --dns-monitoring.", run.Stdout);
    }

    [Fact]
    public async Task Top_refuses_a_bad_count()
    {
        Api.AddServer("dns1");
        var run = await Cli.RunAsync("dns", "top", "dns1", "-n", "0");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("between 1 and 10000", run.ToString());
    }
}
