using System.Globalization;
using System.Text;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Monitoring;

/// <summary>
/// A <see cref="SystemSample"/> in the Prometheus text exposition format 0.0.4, every metric a gauge:
/// <c>cpu.load1</c> → <c>managedservers_agent_cpu_load1</c>; <c>disk.used_percent[/var]</c> →
/// <c>managedservers_agent_disk_used_percent{mount="/var"}</c>; <c>net.tcp.established</c> →
/// <c>managedservers_agent_net_tcp{state="established"}</c>. Families are grouped, each with one HELP and
/// one TYPE line, and sorted by name; <c>managedservers_agent_sample_time_seconds</c> gives the sample's Unix time.
/// </summary>
internal static class PrometheusText
{
    public const string Prefix = "managedservers_agent_";
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string SampleTimeFamily = Prefix + "sample_time_seconds";
    private const string TcpFamily = "net.tcp";

    private static readonly Dictionary<string, string> Help = new(StringComparer.Ordinal)
    {
        [SystemMetricNames.CpuCount] = "Online CPUs.",
        [SystemMetricNames.Load1] = "Load average over 1 minute.",
        [SystemMetricNames.Load5] = "Load average over 5 minutes.",
        [SystemMetricNames.Load15] = "Load average over 15 minutes.",
        [SystemMetricNames.CpuUsage] = "CPU busy time since the previous sample, percent of all CPUs.",
        [SystemMetricNames.CpuUser] = "CPU time in user mode (incl. nice) since the previous sample, percent.",
        [SystemMetricNames.CpuSystem] = "CPU time in kernel mode (incl. interrupts) since the previous sample, percent.",
        [SystemMetricNames.CpuIowait] = "CPU time idle waiting for I/O since the previous sample, percent.",
        [SystemMetricNames.MemoryTotal] = "Total memory in bytes.",
        [SystemMetricNames.MemoryAvailable] = "Memory available for new work in bytes.",
        [SystemMetricNames.MemoryUsed] = "Memory used (total - available) in bytes.",
        [SystemMetricNames.MemoryUsedPercent] = "Memory used, percent of total.",
        [SystemMetricNames.MemoryBuffers] = "Memory in block device buffers in bytes.",
        [SystemMetricNames.MemoryCached] = "Memory in the page cache in bytes.",
        [SystemMetricNames.SwapTotal] = "Total swap in bytes.",
        [SystemMetricNames.SwapUsed] = "Swap used in bytes.",
        [SystemMetricNames.SwapUsedPercent] = "Swap used, percent of total (0 without swap).",
        [SystemMetricNames.VmCommitted] = "Memory committed to allocations (Committed_AS) in bytes.",
        [SystemMetricNames.VmCommitLimit] = "Commit limit (CommitLimit) in bytes.",
        [SystemMetricNames.VmCommittedPercent] = "Committed memory, percent of the commit limit.",
        [SystemMetricNames.DiskTotal] = "Filesystem size in bytes.",
        [SystemMetricNames.DiskUsed] = "Filesystem space used in bytes.",
        [SystemMetricNames.DiskFree] = "Filesystem space available to unprivileged users in bytes.",
        [SystemMetricNames.DiskUsedPercent] = "Filesystem space used, percent (as df).",
        [SystemMetricNames.DiskInodesUsedPercent] = "Filesystem inodes used, percent.",
        [TcpFamily] = "TCP sockets by state.",
        [SystemMetricNames.TcpTotal] = "TCP sockets in all states.",
        [SystemMetricNames.UdpSockets] = "UDP sockets.",
        [SystemMetricNames.Listening] = "Listening sockets: TCP in listen state and unconnected UDP.",
        [SystemMetricNames.SocketsUsed] = "Sockets in use (sockstat).",
        [SystemMetricNames.Uptime] = "Seconds since boot.",
    };

    private static readonly HashSet<string> TcpStates = new(SystemMetricNames.TcpStates, StringComparer.Ordinal);

    /// <summary>The exposition of <paramref name="sample"/>; empty when there is none yet.</summary>
    public static string Format(SystemSample? sample)
    {
        if (sample is null)
        {
            return string.Empty;
        }

        var rows = new List<Row>(sample.Values.Count + 1);
        foreach (var (name, value) in sample.Values)
        {
            rows.Add(ToRow(name, value));
        }

        rows.Add(new Row(SampleTimeFamily, "Unix time of the sample these values come from.", null, null, sample.Time.ToUnixTimeMilliseconds() / 1000.0));
        rows.Sort(static (a, b) =>
        {
            var byFamily = string.CompareOrdinal(a.Family, b.Family);
            return byFamily != 0 ? byFamily : string.CompareOrdinal(a.LabelValue, b.LabelValue);
        });

        var text = new StringBuilder(rows.Count * 80);
        string? family = null;
        foreach (var row in rows)
        {
            if (row.Family != family)
            {
                family = row.Family;
                text.Append("# HELP ").Append(family).Append(' ');
                AppendEscaped(text, row.Help, quote: false);
                text.Append('\n');
                text.Append("# TYPE ").Append(family).Append(" gauge\n");
            }

            text.Append(row.Family);
            if (row.LabelName is not null)
            {
                text.Append('{').Append(row.LabelName).Append("=\"");
                AppendEscaped(text, row.LabelValue!, quote: true);
                text.Append("\"}");
            }

            text.Append(' ');
            AppendValue(text, row.Value);
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Kea's statistics in the same format: per subnet (<c>family</c>, <c>subnet_id</c> labels) addresses, assigned,
    /// declined and utilisation percent (DHCPv6 also delegated prefixes), and Kea's packet counters as counters
    /// (<c>managedservers_agent_dhcp_packets_total{type="pkt4-ack-sent"}</c>). Empty before the first reading.
    /// </summary>
    public static string FormatDhcp(DhcpReading? reading)
    {
        if (reading is null)
        {
            return string.Empty;
        }

        var text = new StringBuilder(256 + (reading.Subnets.Count * 400));
        void Family(string name, string help, string type, IEnumerable<(string Labels, double Value)> rows)
        {
            var list = rows.ToList();
            if (list.Count == 0)
            {
                return;
            }

            text.Append("# HELP ").Append(Prefix).Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(Prefix).Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in list)
            {
                text.Append(Prefix).Append(name).Append('{').Append(labels).Append("} ");
                AppendValue(text, value);
                text.Append('\n');
            }
        }

        static string Labels(DhcpSubnetStats s) => string.Create(CultureInfo.InvariantCulture, $"family=\"{s.Family}\",subnet_id=\"{s.SubnetId}\"");
        var subnets = reading.Subnets.OrderBy(s => s.Family).ThenBy(s => s.SubnetId).ToList();
        Family("dhcp_subnet_addresses", "Addresses in the subnet's pools (DHCPv6: non-temporary addresses).", "gauge", subnets.Select(s => (Labels(s), s.Total)));
        Family("dhcp_subnet_assigned", "Addresses of the subnet leased now.", "gauge", subnets.Select(s => (Labels(s), s.Assigned)));
        Family("dhcp_subnet_declined", "Addresses of the subnet declined by clients.", "gauge", subnets.Select(s => (Labels(s), s.Declined)));
        Family("dhcp_subnet_utilisation_percent", "Assigned addresses of the subnet, percent of its addresses.", "gauge",
            subnets.Select(s => (Labels(s), s.Total > 0 ? Math.Round(100 * s.Assigned / s.Total, 2) : 0)));
        Family("dhcp_subnet_prefixes", "Delegated prefixes in the subnet's PD pools (DHCPv6).", "gauge", subnets.Where(s => s.TotalPd is not null).Select(s => (Labels(s), s.TotalPd ?? 0)));
        Family("dhcp_subnet_prefixes_assigned", "Delegated prefixes of the subnet leased now (DHCPv6).", "gauge", subnets.Where(s => s.TotalPd is not null).Select(s => (Labels(s), s.AssignedPd ?? 0)));
        Family("dhcp_packets_total", "Packets Kea counted since it started, by Kea's statistic name.", "counter",
            reading.PacketTotals.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ($"type=\"{p.Key}\"", (double)p.Value)));
        return text.ToString();
    }

    /// <summary>A metric name made of [a-zA-Z0-9_:], prefixed.</summary>
    public static string FamilyName(string metric)
    {
        var name = new StringBuilder(Prefix.Length + metric.Length).Append(Prefix);
        foreach (var c in metric)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }

        return name.ToString();
    }

    private static Row ToRow(string name, double value)
    {
        var open = name.IndexOf('[', StringComparison.Ordinal);
        if (open > 0 && name.EndsWith(']'))
        {
            var metric = name[..open];
            return new Row(FamilyName(metric), HelpOf(metric), "mount", name[(open + 1)..^1], value);
        }

        if (name.StartsWith(SystemMetricNames.TcpPrefix, StringComparison.Ordinal) && TcpStates.Contains(name[SystemMetricNames.TcpPrefix.Length..]))
        {
            return new Row(FamilyName(TcpFamily), HelpOf(TcpFamily), "state", name[SystemMetricNames.TcpPrefix.Length..], value);
        }

        return new Row(FamilyName(name), HelpOf(name), null, null, value);
    }

    private static string HelpOf(string metric) => Help.TryGetValue(metric, out var help) ? help : metric;

    /// <summary>Label values escape backslash, double quote and newline; HELP text backslash and newline.</summary>
    private static void AppendEscaped(StringBuilder text, string value, bool quote)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    text.Append(@"\\");
                    break;
                case '\n':
                    text.Append(@"\n");
                    break;
                case '"' when quote:
                    text.Append("\\\"");
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }
    }

    private static void AppendValue(StringBuilder text, double value)
    {
        if (double.IsNaN(value))
        {
            text.Append("NaN");
        }
        else if (double.IsPositiveInfinity(value))
        {
            text.Append("+Inf");
        }
        else if (double.IsNegativeInfinity(value))
        {
            text.Append("-Inf");
        }
        else
        {
            text.Append(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private readonly record struct Row(string Family, string Help, string? LabelName, string? LabelValue, double Value);
}
