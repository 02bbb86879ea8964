using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Monitoring;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace ManagedServers.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class DnsMetricsGrainTests(ClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    private async Task<string> CreateAsync()
    {
        var id = "srv-" + Guid.NewGuid().ToString("N")[..16];
        await Cluster.Client.GetGrain<IManagedServerGrain>(id).CreateAsync(
            new ServerDefinition("dnsm-" + id[4..10], ServerKind.Dns, "127.0.0.1", "Debian 12", AgentRuntime.Docker, CommunicationMode.Push, string.Empty, "srv-user-" + id));
        return id;
    }

    private static DnsMetricsBatch Batch(string id, DateTimeOffset start, long www, long mail) => new(
        id,
        Guid.NewGuid(),
        start,
        start.AddMinutes(1),
        new Dictionary<string, long> { ["response-code[NOERROR]"] = www + mail, ["response-code[NXDOMAIN]"] = 2, ["request-protocol[udp4]"] = www + mail + 2 },
        new Dictionary<string, IReadOnlyDictionary<string, long>> { ["example.com"] = new Dictionary<string, long> { ["response-code[NOERROR]"] = www + mail } },
        [new DnsNameHits("example.com", "www.example.com", www, start.AddSeconds(50)), new DnsNameHits("example.com", "mail.example.com", mail, start.AddSeconds(30))],
        new Dictionary<string, long> { ["example.com"] = 2 },
        www + mail + 2,
        0,
        0,
        0);

    [Fact]
    public async Task A_redelivered_interval_changes_nothing_and_top_sums_the_window()
    {
        var id = await CreateAsync();
        var grain = Cluster.Client.GetGrain<IServerDnsMetricsGrain>(id);
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60).AddMinutes(-5);
        var first = Batch(id, start, 7, 3);

        Assert.True((await grain.IngestDnsAsync(first)).Stored);
        Assert.False((await grain.IngestDnsAsync(first with { BatchId = Guid.NewGuid() })).Stored); // redelivered
        Assert.True((await grain.IngestDnsAsync(Batch(id, start.AddMinutes(1), 5, 1))).Stored);

        var raw = await grain.GetDnsRawAsync(start.AddMinutes(-1), start.AddMinutes(3), 100);
        Assert.Equal(2, raw.Length);
        Assert.Equal(12, raw[0].Values[DnsMetricNames.Queries]); // NOERROR 10 + NXDOMAIN 2
        Assert.Equal(0.2, raw[0].Values[DnsMetricNames.Rps], 3);
        Assert.Equal(10, raw[0].Values[DnsMetricNames.ZoneCounter("example.com", "response-code[NOERROR]")]);

        var top = await grain.GetDnsTopAsync("example.com", 10, start.AddMinutes(-1), start.AddMinutes(3));
        Assert.Equal(["www.example.com", "mail.example.com"], top.Select(t => t.Name));
        Assert.Equal(12, top[0].Hits); // 7 + 5, the redelivery not counted
        Assert.Equal(4, top[1].Hits);
        Assert.Equal(start.AddMinutes(1).AddSeconds(50), top[0].LastAccess);
        Assert.Empty(await grain.GetDnsTopAsync("example.net", 10, start.AddMinutes(-1), start.AddMinutes(3)));
        Assert.Single(await grain.GetDnsTopAsync(null, 1, start.AddMinutes(-1), start.AddMinutes(3)));

        var minutes = await grain.GetDnsAggregatesAsync(start.AddMinutes(-1), start.AddMinutes(3), 60);
        Assert.Equal([12.0, 8.0], minutes.Select(m => m.Metrics[DnsMetricNames.Queries].Sum));
        var hour = await grain.GetDnsAggregatesAsync(start.AddHours(-2), start.AddHours(2), 3600);
        Assert.Equal(20, hour.Sum(h => h.Metrics[DnsMetricNames.Queries].Sum));
    }

    [Fact]
    public async Task Intervals_arrive_through_the_ingestion_stream()
    {
        var id = await CreateAsync();
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60).AddMinutes(-2);
        await Cluster.Client.GetStreamProvider(StreamNames.IngestProvider)
            .GetStream<DnsMetricsBatch>(StreamId.Create(StreamNames.DnsMetricsNamespace, id))
            .OnNextAsync(Batch(id, start, 4, 1));

        var grain = Cluster.Client.GetGrain<IServerDnsMetricsGrain>(id);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await grain.GetDnsRawAsync(start.AddMinutes(-1), start.AddMinutes(1), 10)).IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(4, Assert.Single(await grain.GetDnsTopAsync(null, 1, start.AddMinutes(-1), start.AddMinutes(1))).Hits);
    }
}
