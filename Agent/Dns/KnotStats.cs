using System.Globalization;

namespace ManagedServers.Agent.Dns;

/// <summary>
/// mod-stats counters as <c>knotc stats</c> and <c>knotc zone-stats --</c> print them: server-wide
/// <c>mod-stats.response-code[NOERROR] = 3</c>, per zone <c>[example.com.] mod-stats.response-code[NOERROR] = 3</c>.
/// Keys drop the <c>mod-stats.</c> prefix (<c>response-code[NOERROR]</c>); zones are lower case without the final dot.
/// Lines of other sections (<c>server.zone-count</c>) are ignored. Knot omits zero counters.
/// </summary>
internal sealed record KnotStats(IReadOnlyDictionary<string, long> Server, IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Zones)
{
    private const string Prefix = "mod-stats.";

    public static KnotStats Empty { get; } = new(new Dictionary<string, long>(), new Dictionary<string, IReadOnlyDictionary<string, long>>());

    public static KnotStats Parse(string text)
    {
        var server = new Dictionary<string, long>(StringComparer.Ordinal);
        var zones = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            string? zone = null;
            if (line.StartsWith('['))
            {
                var close = line.IndexOf(']');
                if (close < 0)
                {
                    continue;
                }

                zone = ZoneName(line[1..close]);
                line = line[(close + 1)..].TrimStart();
            }

            var eq = line.LastIndexOf(" = ", StringComparison.Ordinal);
            if (!line.StartsWith(Prefix, StringComparison.Ordinal) || eq < 0
                || !long.TryParse(line[(eq + 3)..], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var key = line[Prefix.Length..eq].ToString();
            if (zone is null)
            {
                server[key] = value;
            }
            else
            {
                if (!zones.TryGetValue(zone, out var counters))
                {
                    zones[zone] = counters = new Dictionary<string, long>(StringComparer.Ordinal);
                }

                counters[key] = value;
            }
        }

        return new KnotStats(server, zones.ToDictionary(z => z.Key, z => (IReadOnlyDictionary<string, long>)z.Value, StringComparer.Ordinal));
    }

    /// <summary>Lower case, no final dot; the root zone is <c>.</c>.</summary>
    public static string ZoneName(ReadOnlySpan<char> zone)
    {
        var trimmed = zone.Trim().TrimEnd('.');
        return trimmed.IsEmpty ? "." : trimmed.ToString().ToLowerInvariant();
    }

    /// <summary>Responses counted (the sum of <c>response-code[*]</c>): what the dnstap frames of an interval should match.</summary>
    public static long Responses(IReadOnlyDictionary<string, long> counters)
    {
        long sum = 0;
        foreach (var (key, value) in counters)
        {
            if (key.StartsWith("response-code[", StringComparison.Ordinal))
            {
                sum += value;
            }
        }

        return sum;
    }

    /// <summary>
    /// Counter increases from <paramref name="previous"/> to <paramref name="current"/>. A counter that went down was
    /// reset (knotd restarted or reloaded its modules): its delta is its new value, counted since the reset. A counter
    /// that disappeared reset to zero (Knot omits zeros): no delta. Zero deltas are left out.
    /// </summary>
    public static Dictionary<string, long> Delta(IReadOnlyDictionary<string, long>? previous, IReadOnlyDictionary<string, long> current)
    {
        var delta = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in current)
        {
            var before = previous is not null && previous.TryGetValue(key, out var p) ? p : 0;
            var d = value >= before ? value - before : value;
            if (d > 0)
            {
                delta[key] = d;
            }
        }

        return delta;
    }

    /// <summary>Per-zone deltas (see <see cref="Delta"/>); zones without any increase are left out.</summary>
    public static Dictionary<string, Dictionary<string, long>> ZoneDeltas(KnotStats previous, KnotStats current)
    {
        var result = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var (zone, counters) in current.Zones)
        {
            var delta = Delta(previous.Zones.GetValueOrDefault(zone), counters);
            if (delta.Count > 0)
            {
                result[zone] = delta;
            }
        }

        return result;
    }
}

/// <summary>Reads Knot's counters: the text of <c>knotc stats</c> followed by <c>knotc zone-stats --</c>.</summary>
internal interface IKnotStatsReader
{
    Task<string> ReadAsync(CancellationToken cancellationToken);
}
