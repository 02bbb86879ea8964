using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Dns;

/// <summary>The zones the DNS service serves now (lower case, no final dot); the dns.apply side implements it.</summary>
internal interface IDnsZoneSource
{
    IReadOnlyCollection<string> Zones { get; }
}

/// <summary>
/// Turns one interval's readings into a <see cref="DnsMetricsBatch"/>: counter deltas against the previous reading,
/// names attributed to zones by longest suffix, the top <see cref="MaxNames"/> names by hits kept by name and the rest
/// summed per zone, and the frames Knot dropped estimated as responses counted minus frames seen (never negative).
/// </summary>
internal static class DnsIntervalBuilder
{
    public const int MaxNames = 10_000;

    public static DnsMetricsBatch Build(
        string serverId,
        DateTimeOffset start,
        DateTimeOffset end,
        KnotStats? previous,
        KnotStats? current,
        DnsHitSnapshot hits,
        IEnumerable<string> zones,
        long spoolDropped,
        int maxNames = MaxNames)
    {
        var counters = current is null ? [] : KnotStats.Delta(previous?.Server, current.Server);
        var zoneCounters = current is null ? [] : KnotStats.ZoneDeltas(previous ?? KnotStats.Empty, current);
        var allZones = new HashSet<string>(zones, StringComparer.Ordinal);
        if (current is not null)
        {
            allZones.UnionWith(current.Zones.Keys);
        }

        var matcher = new DnsZoneMatcher(allZones);
        var named = new List<DnsNameHits>(hits.Names.Count);
        var other = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, h) in hits.Names)
        {
            var zone = matcher.Match(name);
            if (zone is null)
            {
                other[string.Empty] = other.GetValueOrDefault(string.Empty) + h.Hits; // outside every zone served (REFUSED)
                continue;
            }

            named.Add(new DnsNameHits(zone, name, h.Hits, DateTimeOffset.FromUnixTimeSeconds(h.LastSec == 0 ? end.ToUnixTimeSeconds() : h.LastSec)));
        }

        long truncated = 0;
        if (named.Count > maxNames)
        {
            named.Sort((a, b) => b.Hits.CompareTo(a.Hits));
            foreach (var rest in named.Skip(maxNames))
            {
                other[rest.Zone] = other.GetValueOrDefault(rest.Zone) + rest.Hits;
                truncated++;
            }

            named.RemoveRange(maxNames, named.Count - maxNames);
        }

        foreach (var (parent, count) in hits.OverflowHits)
        {
            var zone = matcher.Match(parent) ?? string.Empty;
            other[zone] = other.GetValueOrDefault(zone) + count;
            truncated++;
        }

        // Without a previous reading the counters have no baseline: no responses to compare, no drop estimate.
        var dropped = previous is null || current is null ? 0 : Math.Max(0, KnotStats.Responses(counters) - hits.FramesSeen);
        return new DnsMetricsBatch(
            serverId,
            Guid.NewGuid(),
            start,
            end,
            previous is null ? new Dictionary<string, long>() : counters,
            previous is null ? new Dictionary<string, IReadOnlyDictionary<string, long>>() : zoneCounters.ToDictionary(z => z.Key, z => (IReadOnlyDictionary<string, long>)z.Value, StringComparer.Ordinal),
            named,
            other,
            hits.FramesSeen,
            hits.FramesUnparsable,
            dropped,
            truncated,
            spoolDropped);
    }
}
