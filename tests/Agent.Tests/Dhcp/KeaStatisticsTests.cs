using System.Text.Json.Nodes;
using ManagedServers.Agent.Dhcp;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Dhcp;

/// <summary>
/// Reading Kea's <c>statistic-get-all</c> (the form Kea 2.2 answers: each statistic a list of [value, time], newest
/// first), the packet counters' increases, and their Prometheus exposition. The real Kea is read in the DHCP
/// end-to-end test (DHCP monitoring counting perfdhcp's leases exactly).
/// </summary>
public sealed class KeaStatisticsTests
{
    private static JsonNode Answer(string json) => JsonNode.Parse(json)!;

    [Fact]
    public void Subnets_and_packet_counters_are_read_from_the_newest_sample_and_pool_statistics_are_left_out()
    {
        var v4 = KeaStatistics.Parse(Answer("""
            {
              "pkt4-received": [ [ 125, "2026-12-04 10:11:19.498739" ], [ 100, "2026-12-04 10:10:19.1" ] ],
              "pkt4-ack-sent": [ [ 40, "2026-12-04 10:11:19.4" ] ],
              "subnet[1].total-addresses": [ [ 191, "t" ] ],
              "subnet[1].assigned-addresses": [ [ 12, "t" ], [ 11, "t" ] ],
              "subnet[1].declined-addresses": [ [ 1, "t" ] ],
              "subnet[1].pool[0].assigned-addresses": [ [ 12, "t" ] ],
              "subnet[10].total-addresses": [ [ 5, "t" ] ],
              "cumulative-assigned-addresses": [ [ 99, "t" ] ],
              "broken": [ ]
            }
            """), 4);
        Assert.Equal([new DhcpSubnetStats(4, 1, 191, 12, 1), new DhcpSubnetStats(4, 10, 5, 0, 0)], v4.Subnets);
        Assert.Equal(new Dictionary<string, long> { ["pkt4-received"] = 125, ["pkt4-ack-sent"] = 40 }, v4.Packets);

        var v6 = KeaStatistics.Parse(Answer("""
            { "subnet[7].total-nas": [ [ 1000, "t" ] ], "subnet[7].assigned-nas": [ [ 3, "t" ] ], "subnet[7].total-pds": [ [ 256, "t" ] ], "subnet[7].assigned-pds": [ [ 2, "t" ] ] }
            """), 6);
        Assert.Equal(new DhcpSubnetStats(6, 7, 1000, 3, 0, 256, 2), Assert.Single(v6.Subnets));
        Assert.Empty(KeaStatistics.Parse(null, 4).Subnets);
    }

    [Fact]
    public void Increases_start_at_zero_and_a_counter_that_went_down_counts_from_zero()
    {
        var first = new Dictionary<string, long> { ["pkt4-received"] = 100, ["pkt4-ack-sent"] = 40 };
        Assert.All(KeaStatistics.Increase(first, null).Values, v => Assert.Equal(0, v));
        var second = new Dictionary<string, long> { ["pkt4-received"] = 130, ["pkt4-ack-sent"] = 5, ["pkt4-nak-sent"] = 2 };
        Assert.Equal(new Dictionary<string, long> { ["pkt4-received"] = 30, ["pkt4-ack-sent"] = 5, ["pkt4-nak-sent"] = 2 }, KeaStatistics.Increase(second, first));
    }

    [Fact]
    public void The_prometheus_exposition_has_one_family_per_figure_with_subnet_labels_and_packet_counters()
    {
        Assert.Equal(string.Empty, PrometheusText.FormatDhcp(null));
        var text = PrometheusText.FormatDhcp(new DhcpReading(
            [new DhcpSubnetStats(4, 1, 200, 50, 1), new DhcpSubnetStats(6, 7, 1000, 3, 0, 256, 2)],
            new Dictionary<string, long> { ["pkt4-ack-sent"] = 40 }));
        Assert.Contains("# TYPE managedservers_agent_dhcp_subnet_assigned gauge\nmanagedservers_agent_dhcp_subnet_assigned{family=\"4\",subnet_id=\"1\"} 50\nmanagedservers_agent_dhcp_subnet_assigned{family=\"6\",subnet_id=\"7\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("managedservers_agent_dhcp_subnet_utilisation_percent{family=\"4\",subnet_id=\"1\"} 25\n", text, StringComparison.Ordinal);
        Assert.Contains("managedservers_agent_dhcp_subnet_prefixes_assigned{family=\"6\",subnet_id=\"7\"} 2\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("subnet_prefixes{family=\"4\"", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE managedservers_agent_dhcp_packets_total counter\nmanagedservers_agent_dhcp_packets_total{type=\"pkt4-ack-sent\"} 40\n", text, StringComparison.Ordinal);
    }
}
