using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dhcp;

/// <summary>
/// What one <c>statistic-get-all</c> answer of Kea (core statistics, no hook needed) says: per subnet
/// <c>subnet[ID].total-addresses</c>, <c>assigned-addresses</c>, <c>declined-addresses</c> (DHCPv6:
/// <c>total-nas</c>, <c>assigned-nas</c>, <c>total-pds</c>, <c>assigned-pds</c>), and the packet counters
/// <c>pkt4-*</c>/<c>pkt6-*</c>. Each statistic is a list of [value, time] samples, newest first.
/// </summary>
internal sealed partial record KeaStatistics(IReadOnlyList<DhcpSubnetStats> Subnets, IReadOnlyDictionary<string, long> Packets)
{
    public static KeaStatistics Parse(JsonNode? arguments, int family)
    {
        var subnets = new SortedDictionary<long, Dictionary<string, double>>();
        var packets = new Dictionary<string, long>(StringComparer.Ordinal);
        if (arguments is not JsonObject all)
        {
            return new KeaStatistics([], packets);
        }

        foreach (var (name, samples) in all)
        {
            if (samples is not JsonArray { Count: > 0 } list || list[0] is not JsonArray { Count: > 0 } newest || newest[0] is not JsonValue value
                || !value.TryGetValue<double>(out var number))
            {
                continue;
            }

            if (name.StartsWith("pkt4-", StringComparison.Ordinal) || name.StartsWith("pkt6-", StringComparison.Ordinal))
            {
                packets[name] = (long)number;
            }
            else if (SubnetStat().Match(name) is { Success: true } m)
            {
                var id = long.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture);
                if (!subnets.TryGetValue(id, out var stats))
                {
                    subnets[id] = stats = new Dictionary<string, double>(StringComparer.Ordinal);
                }

                stats[m.Groups["stat"].Value] = number;
            }
        }

        var result = subnets.Select(s =>
        {
            var v = s.Value;
            return family == 4
                ? new DhcpSubnetStats(4, s.Key, v.GetValueOrDefault("total-addresses"), v.GetValueOrDefault("assigned-addresses"), v.GetValueOrDefault("declined-addresses"))
                : new DhcpSubnetStats(6, s.Key, v.GetValueOrDefault("total-nas"), v.GetValueOrDefault("assigned-nas"), v.GetValueOrDefault("declined-addresses"),
                    v.GetValueOrDefault("total-pds"), v.GetValueOrDefault("assigned-pds"));
        }).ToList();
        return new KeaStatistics(result, packets);
    }

    /// <summary>
    /// The increase of each packet counter since <paramref name="previous"/> (null: the first reading, no increase
    /// known yet, so zero); a counter lower than before (Kea restarted, or statistics reset) counts from zero.
    /// </summary>
    public static Dictionary<string, long> Increase(IReadOnlyDictionary<string, long> current, IReadOnlyDictionary<string, long>? previous)
    {
        var increase = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, value) in current)
        {
            increase[name] = previous is null ? 0 : previous.TryGetValue(name, out var before) && before <= value ? value - before : value;
        }

        return increase;
    }

    [GeneratedRegex(@"^subnet\[(?<id>\d+)\]\.(?<stat>[a-z-]+)$")]
    private static partial Regex SubnetStat();
}
