using ManagedServers.Contracts.Agent;
using ManagedServers.Grains.Interfaces.Dhcp;
using ManagedServers.Grains.Interfaces.Monitoring;
using ManagedServers.Grains.Monitoring;
using ManagedServers.Grains.Servers.Parts.Dhcp;

namespace ManagedServers.Grains.Servers.Parts.Telemetry;

/// <summary>
/// DHCP intervals under their own series (<c>{id}#dhcp</c>): one raw row per interval at its start, with every subnet's
/// total, assigned and declined addresses and utilisation, the packet counters' increases, and the fullest subnet's
/// utilisation; the minute and hour aggregates it touches recomputed on ingest, as for DNS. The latest interval's
/// subnets, fullest first, are kept in memory (read back from the series on activation) and the fullest
/// <see cref="SummarySubnets"/> go into the server's summary in the fleet index, which the fleet-wide utilisation
/// listing reads without activating any server grain; the summary is pushed when it changes by a point or more.
/// </summary>
public sealed partial class TelemetryPart
{
    /// <summary>Subnets of one server in its fleet-index summary (the fleet's top list is exact up to this many per server).</summary>
    public const int SummarySubnets = 20;

    private const int MaxDhcpValues = 20_000;
    private ImmutableArray<SubnetUtilisation> _dhcpLatest = [];
    private ImmutableArray<SubnetUtilisation> _dhcpPublished = [];

    /// <summary>The fullest subnets of the latest interval, for the fleet index (empty when there is none).</summary>
    public ImmutableArray<SubnetUtilisation> DhcpSummary => _dhcpPublished;

    public async Task<DhcpIngestResult> IngestDhcpAsync(DhcpMetricsBatch batch)
    {
        Host.RequireDefinition();
        if (batch.ServerId != Host.Id)
        {
            throw new ArgumentException($"batch for server '{batch.ServerId}' sent to '{Host.Id}'");
        }

        await Host.RefreshSettingsAsync();
        if (!InRange(batch.IntervalStart, _time.GetUtcNow()) || batch.IntervalEnd <= batch.IntervalStart)
        {
            return new DhcpIngestResult(false, 0);
        }

        var startMs = batch.IntervalStart.ToUnixTimeMilliseconds();
        var stored = await _dhcp.AppendAsync([new StoredSample(startMs, DhcpValues(batch))]);
        await _dhcp.RollUpAroundAsync(startMs);
        if (await RegisterReminderIfMissingAsync())
        {
            await SaveAsync();
        }

        if (stored.Count > 0 && batch.IntervalEnd >= (_dhcpLatest.IsEmpty ? DateTimeOffset.MinValue : _dhcpLatest[0].At))
        {
            await SetLatestAsync(Utilisation(batch.Subnets, batch.IntervalEnd));
        }

        return new DhcpIngestResult(stored.Count > 0, batch.Subnets.Count);
    }

    /// <summary>The interval's values: per subnet figures (up to the bound), packet increases, and the totals.</summary>
    internal static Dictionary<string, double> DhcpValues(DhcpMetricsBatch batch)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [DhcpMetricNames.IntervalSeconds] = Math.Max(0, (batch.IntervalEnd - batch.IntervalStart).TotalSeconds),
            [DhcpMetricNames.PacketsReceived] = batch.Packets.GetValueOrDefault("pkt4-received") + batch.Packets.GetValueOrDefault("pkt6-received"),
        };
        foreach (var (name, value) in batch.Packets)
        {
            values[DhcpMetricNames.Packet(name)] = value;
        }

        double max = 0;
        foreach (var (s, percent) in batch.Subnets.Select(s => (s, Percent(s))).OrderByDescending(p => p.Item2))
        {
            max = Math.Max(max, percent);
            if (values.Count + 6 > MaxDhcpValues)
            {
                continue;
            }

            values[DhcpMetricNames.Subnet(s.Family, s.SubnetId, "total")] = s.Total;
            values[DhcpMetricNames.Subnet(s.Family, s.SubnetId, "assigned")] = s.Assigned;
            values[DhcpMetricNames.Subnet(s.Family, s.SubnetId, "declined")] = s.Declined;
            values[DhcpMetricNames.Subnet(s.Family, s.SubnetId, "utilisation")] = percent;
            if (s.TotalPd is { } totalPd)
            {
                values[DhcpMetricNames.Subnet(s.Family, s.SubnetId, "total_pd")] = totalPd;
                values[DhcpMetricNames.Subnet(s.Family, s.SubnetId, "assigned_pd")] = s.AssignedPd ?? 0;
            }
        }

        values[DhcpMetricNames.UtilisationMax] = max;
        return values;
    }

    /// <summary>How full a subnet is, in percent: assigned of total addresses, or of delegated prefixes when that is fuller.</summary>
    public static double Percent(DhcpSubnetStats s)
    {
        var (total, assigned) = Counted(s);
        return total > 0 ? Math.Round(Math.Min(100, 100 * assigned / total), 2) : 0;
    }

    /// <summary>The count a subnet's utilisation is of: its addresses, or its delegated prefixes when those are fuller.</summary>
    private static (double Total, double Assigned) Counted(DhcpSubnetStats s)
    {
        static double Of(double assigned, double total) => total > 0 ? assigned / total : 0;
        return s.TotalPd is > 0 && Of(s.AssignedPd ?? 0, s.TotalPd.Value) > Of(s.Assigned, s.Total) ? (s.TotalPd.Value, s.AssignedPd ?? 0) : (s.Total, s.Assigned);
    }

    public async Task<ImmutableArray<StoredSample>> GetDhcpRawAsync(DateTimeOffset from, DateTimeOffset to, int limit)
    {
        Host.RequireDefinition();
        return [.. await _dhcp.RawAsync(from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(), limit)];
    }

    public async Task<ImmutableArray<AggregateBucket>> GetDhcpAggregatesAsync(DateTimeOffset from, DateTimeOffset to, int stepSeconds)
    {
        Host.RequireDefinition();
        return [.. await _dhcp.AggregatesAsync(from, to, stepSeconds)];
    }

    public ImmutableArray<SubnetUtilisation> GetDhcpUtilisation()
    {
        Host.RequireDefinition();
        return _dhcpLatest;
    }

    private ImmutableArray<SubnetUtilisation> Utilisation(IEnumerable<DhcpSubnetStats> subnets, DateTimeOffset at)
    {
        var dhcp = Host.Part<DhcpPart>();
        return [.. subnets
            .Select(s =>
            {
                var (total, assigned) = Counted(s);
                var prefix = dhcp.Get(s.Family == 4 ? DhcpFamily.V4 : DhcpFamily.V6)?.FindSubnet(s.SubnetId)?.Prefix;
                return new SubnetUtilisation(s.Family, s.SubnetId, prefix, total, assigned, s.Declined, Percent(s), at);
            })
            .OrderByDescending(u => u.Utilisation).ThenBy(u => u.Family).ThenBy(u => u.SubnetId)];
    }

    /// <summary>Keeps the latest subnets and pushes the summary to the fleet index when it changed by a point or more.</summary>
    private async Task SetLatestAsync(ImmutableArray<SubnetUtilisation> latest)
    {
        _dhcpLatest = latest;
        var top = latest.Take(SummarySubnets).ToImmutableArray();
        var moved = top.Length != _dhcpPublished.Length
            || top.Zip(_dhcpPublished).Any(p => p.First.Family != p.Second.Family || p.First.SubnetId != p.Second.SubnetId
                || Math.Abs(p.First.Utilisation - p.Second.Utilisation) >= 1 || p.First.Prefix != p.Second.Prefix);
        if (moved)
        {
            _dhcpPublished = top;
            await Host.PublishAsync();
        }
    }

    /// <summary>On activation of a DHCP server: the latest interval's subnets, read back from the series (one read).</summary>
    private async Task LoadDhcpLatestAsync()
    {
        if (Host.Definition?.Kind != ServerKind.Dhcp)
        {
            return;
        }

        // The last few intervals first (a handful of rows); the last two hours only when those hold none.
        var now = _time.GetUtcNow();
        var recent = TimeSpan.FromSeconds(Math.Max(300, 3 * Host.Settings.DhcpIntervalSeconds));
        var rows = await _dhcp.RawAsync((now - recent).ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds() + 1, Series.MaxRawRead);
        if (rows.Count == 0 && recent < TimeSpan.FromHours(2))
        {
            rows = await _dhcp.RawAsync((now - TimeSpan.FromHours(2)).ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds() + 1, Series.MaxRawRead);
        }
        if (rows.Count == 0)
        {
            return;
        }

        var last = rows[^1];
        var interval = last.Values.GetValueOrDefault(DhcpMetricNames.IntervalSeconds);
        var subnets = new Dictionary<(int, long), (double Total, double Assigned, double Declined, double? TotalPd, double? AssignedPd)>();
        foreach (var (name, value) in last.Values)
        {
            if (DhcpMetricNames.TryParseSubnet(name) is not { } key)
            {
                continue;
            }

            var s = subnets.GetValueOrDefault((key.Family, key.Id));
            subnets[(key.Family, key.Id)] = key.Figure switch
            {
                "total" => s with { Total = value },
                "assigned" => s with { Assigned = value },
                "declined" => s with { Declined = value },
                "total_pd" => s with { TotalPd = value },
                "assigned_pd" => s with { AssignedPd = value },
                _ => s,
            };
        }

        _dhcpLatest = Utilisation(
            subnets.Select(s => new DhcpSubnetStats(s.Key.Item1, s.Key.Item2, s.Value.Total, s.Value.Assigned, s.Value.Declined, s.Value.TotalPd, s.Value.AssignedPd)),
            last.Time + TimeSpan.FromSeconds(interval));
        _dhcpPublished = [.. _dhcpLatest.Take(SummarySubnets)];
    }
}
