using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class NetworkCollectorTests
{
    [Fact]
    public void Vm_socket_counts()
    {
        var values = ProcFixtures.Collect(new NetworkCollector(ProcFixtures.Vm));

        var expected = Zeros();
        expected["net.tcp.listen"] = 3;
        expected["net.tcp.established"] = 2;
        expected["net.tcp.time_wait"] = 1;
        expected[SystemMetricNames.TcpTotal] = 6;
        expected[SystemMetricNames.UdpSockets] = 3; // udp6 has only its header
        expected[SystemMetricNames.Listening] = 5; // 3 TCP listen + 2 unconnected UDP
        expected[SystemMetricNames.SocketsUsed] = 150;
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), values.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Busy_counts_every_state_over_ipv4_and_ipv6()
    {
        var values = ProcFixtures.Collect(new NetworkCollector(ProcFixtures.Busy));

        var expected = new Dictionary<string, double>
        {
            ["net.tcp.established"] = 200,
            ["net.tcp.syn_sent"] = 3,
            ["net.tcp.syn_recv"] = 5,
            ["net.tcp.fin_wait1"] = 4,
            ["net.tcp.fin_wait2"] = 6,
            ["net.tcp.time_wait"] = 400,
            ["net.tcp.close"] = 2,
            ["net.tcp.close_wait"] = 8,
            ["net.tcp.last_ack"] = 3,
            ["net.tcp.listen"] = 12,
            ["net.tcp.closing"] = 2,
            [SystemMetricNames.TcpTotal] = 645,
            [SystemMetricNames.UdpSockets] = 259, // 205 IPv4 + 54 IPv6
            [SystemMetricNames.Listening] = 21, // 12 TCP listen + 9 bound, unconnected UDP (DNS :53 and DHCP :67)
            [SystemMetricNames.SocketsUsed] = 2345,
        };
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), values.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(values[SystemMetricNames.TcpTotal], SystemMetricNames.TcpStates.Sum(s => values[SystemMetricNames.TcpPrefix + s]));
    }

    [Fact]
    public void Ipv6_tables_and_sockstat_are_optional()
    {
        using var temp = new TempDir();
        var root = ProcFixtures.CopyTo(ProcFixtures.Busy, temp);
        File.Delete(Path.Combine(root, "net", "tcp6"));
        File.Delete(Path.Combine(root, "net", "udp6"));
        File.Delete(Path.Combine(root, "net", "sockstat"));

        var values = ProcFixtures.Collect(new NetworkCollector(root));

        Assert.Equal(482, values[SystemMetricNames.TcpTotal]);
        Assert.Equal(150, values["net.tcp.established"]);
        Assert.Equal(205, values[SystemMetricNames.UdpSockets]);
        Assert.Equal(8 + 5, values[SystemMetricNames.Listening]);
        Assert.False(values.ContainsKey(SystemMetricNames.SocketsUsed));
    }

    [Fact]
    public void Without_net_tcp_it_throws()
    {
        using var temp = new TempDir();
        Assert.Throws<DirectoryNotFoundException>(() => ProcFixtures.Collect(new NetworkCollector(temp.Path)));
    }

    [Fact]
    public void A_table_larger_than_the_read_buffer_is_counted_exactly()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.Combine("net"));
        using (var tcp = new StreamWriter(temp.Combine("net", "tcp")))
        {
            tcp.Write("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
            for (var i = 0; i < 100_000; i++)
            {
                var state = i % 11 + 1;
                tcp.Write($"{i,6}: 0100007F:{i % 65536:X4} 0100007F:0035 {state:X2} 00000000:00000000 00:00000000 00000000     0        0 {i} 1 0000000000000000 20 4 30 10 -1\n");
            }
        }

        File.WriteAllText(temp.Combine("net", "udp"), "   sl  local_address rem_address   st\n");

        var values = ProcFixtures.Collect(new NetworkCollector(temp.Path));

        Assert.Equal(100_000, values[SystemMetricNames.TcpTotal]);
        Assert.All(SystemMetricNames.TcpStates.Take(10), s => Assert.Equal(9091, values[SystemMetricNames.TcpPrefix + s]));
        Assert.Equal(9090, values["net.tcp.closing"]);
        Assert.Equal(0, values[SystemMetricNames.UdpSockets]);
    }

    private static Dictionary<string, double> Zeros() =>
        SystemMetricNames.TcpStates.ToDictionary(s => SystemMetricNames.TcpPrefix + s, _ => 0.0);
}
