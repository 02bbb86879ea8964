using System.Text.Json;
using ManagedServers.Contracts.Agent;

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
