using ManagedServers.Agent.Dns;

namespace ManagedServers.Agent.Tests.Dns;

public sealed class KnotStatsTests
{
    private const string First = """
        server.zone-count = 2
        mod-stats.request-protocol[udp4] = 10
        mod-stats.server-operation[query] = 10
        mod-stats.response-code[NOERROR] = 7
        mod-stats.response-code[NXDOMAIN] = 3

        [example.com.] mod-stats.request-protocol[udp4] = 8
        [example.com.] mod-stats.response-code[NOERROR] = 5
        [Example.NET.] mod-stats.response-code[NXDOMAIN] = 3
        """;

    [Fact]
    public void Parses_server_and_zone_counters()
    {
        var stats = KnotStats.Parse(First);
        Assert.Equal(4, stats.Server.Count);
        Assert.Equal(10, stats.Server["request-protocol[udp4]"]);
        Assert.Equal(8, stats.Zones["example.com"]["request-protocol[udp4]"]);
        Assert.Equal(3, stats.Zones["example.net"]["response-code[NXDOMAIN]"]);
        Assert.Equal(10, KnotStats.Responses(stats.Server));
    }

    [Fact]
    public void Deltas_take_a_counter_that_went_down_as_reset()
    {
        var before = KnotStats.Parse(First);
        var after = KnotStats.Parse("""
            mod-stats.request-protocol[udp4] = 15
            mod-stats.server-operation[query] = 4
            mod-stats.response-code[NOERROR] = 4
            [example.com.] mod-stats.request-protocol[udp4] = 2
            """);
        var delta = KnotStats.Delta(before.Server, after.Server);
        Assert.Equal(5, delta["request-protocol[udp4]"]); // 10 → 15
        Assert.Equal(4, delta["server-operation[query]"]); // 10 → 4: reset, 4 since
        Assert.Equal(4, delta["response-code[NOERROR]"]);
        Assert.False(delta.ContainsKey("response-code[NXDOMAIN]")); // gone: reset to zero, nothing new
        var zones = KnotStats.ZoneDeltas(before, after);
        Assert.Equal(2, zones["example.com"]["request-protocol[udp4]"]);
        Assert.False(zones.ContainsKey("example.net"));
    }

    [Fact]
    public void The_interval_builder_keeps_the_top_names_and_estimates_drops()
    {
        var hits = new DnsHitSnapshot { FramesSeen = 9 };
        hits.Names["www.example.com"] = new NameHits { Hits = 5, LastSec = 1_700_000_000 };
        hits.Names["mail.example.com"] = new NameHits { Hits = 3, LastSec = 1_700_000_000 };
        hits.Names["a.example.net"] = new NameHits { Hits = 1, LastSec = 1_700_000_000 };
        hits.Names["x.elsewhere.org"] = new NameHits { Hits = 1, LastSec = 1_700_000_000 };
        var previous = KnotStats.Parse("mod-stats.response-code[NOERROR] = 100");
        var current = KnotStats.Parse("mod-stats.response-code[NOERROR] = 112\n[example.com.] mod-stats.response-code[NOERROR] = 8");
        var start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var batch = DnsIntervalBuilder.Build("srv-1", start, start.AddMinutes(1), previous, current, hits, ["example.net"], 0, maxNames: 2);
        Assert.Equal(12, batch.Counters["response-code[NOERROR]"]);
        Assert.Equal(3, batch.FramesDropped); // 12 responses, 9 frames
        Assert.Equal(["www.example.com", "mail.example.com"], batch.Names.Select(n => n.Name));
        Assert.Equal("example.com", batch.Names[0].Zone);
        Assert.Equal(1, batch.OtherHits["example.net"]);
        Assert.Equal(1, batch.OtherHits[string.Empty]);
        Assert.Equal(1, batch.NamesTruncated);

        var first = DnsIntervalBuilder.Build("srv-1", start, start.AddMinutes(1), null, current, hits, [], 0);
        Assert.Empty(first.Counters); // no baseline yet
        Assert.Equal(0, first.FramesDropped);
    }
}
