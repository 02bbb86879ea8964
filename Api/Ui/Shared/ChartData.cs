using System.Globalization;

namespace ManagedServers.Api.Ui.Shared;

/// <summary>One line of a chart: a label and a value per time (null: no sample then).</summary>
public sealed record ChartSeries(string Label, double?[] Values);

/// <summary>A time-series chart's data as the chart script takes it: times in Unix seconds, one array per line; the time axis spans [From, To] when given (the range asked for, not only the samples found).</summary>
public sealed record ChartData(string Title, string Unit, long[] Times, IReadOnlyList<ChartSeries> Series, long? From = null, long? To = null)
{
    public bool Empty => Times.Length == 0 || Series.All(s => s.Values.All(v => v is null));
}

/// <summary>The time ranges a chart offers, and whether a range is read raw or as aggregates.</summary>
public static class ChartRanges
{
    public static IReadOnlyList<(string Key, string Label, TimeSpan Span)> All { get; } =
    [
        ("15m", "15 min", TimeSpan.FromMinutes(15)),
        ("1h", "1 hour", TimeSpan.FromHours(1)),
        ("6h", "6 hours", TimeSpan.FromHours(6)),
        ("24h", "24 hours", TimeSpan.FromHours(24)),
        ("7d", "7 days", TimeSpan.FromDays(7)),
        ("30d", "30 days", TimeSpan.FromDays(30)),
    ];

    /// <summary>Up to an hour the raw samples (every 5 s or so); beyond, the minute or hour averages the API keeps.</summary>
    public static bool Raw(TimeSpan span) => span <= TimeSpan.FromHours(1);

    public static TimeSpan Span(string? key) => All.Where(r => r.Key == key).Select(r => r.Span).DefaultIfEmpty(TimeSpan.FromHours(1)).First();
}

/// <summary>
/// The system charts of a server (CPU, load, memory and swap, disks, connections) from the monitoring API's raw samples
/// or aggregates: one chart per subject, one line per metric; a disk chart has a line per mount.
/// </summary>
public static class SystemCharts
{
    private static readonly (string Title, string Unit, (string Metric, string Label)[] Lines)[] Fixed =
    [
        ("CPU", "%", [("cpu.usage_percent", "total"), ("cpu.user_percent", "user"), ("cpu.system_percent", "system"), ("cpu.iowait_percent", "iowait")]),
        ("Load", string.Empty, [("cpu.load1", "1 min"), ("cpu.load5", "5 min"), ("cpu.load15", "15 min")]),
        ("Memory and swap", "%", [("memory.used_percent", "memory used"), ("swap.used_percent", "swap used")]),
        ("Connections", string.Empty, [("net.tcp.established", "TCP established"), ("net.tcp.total", "TCP sockets"), ("net.udp.sockets", "UDP sockets")]),
    ];

    private const string DiskPrefix = "disk.used_percent[";

    /// <summary>Charts from raw samples (<see cref="RawSamplesView"/>).</summary>
    public static IReadOnlyList<ChartData> FromRaw(IReadOnlyList<SystemSampleView> samples, DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        Build([.. samples.Select(s => s.Time.ToUnixTimeSeconds())], [.. samples.Select(s => s.Metrics)], from, to);

    /// <summary>Charts from aggregates (<see cref="AggregateSamplesView"/>): each bucket's average.</summary>
    public static IReadOnlyList<ChartData> FromAggregates(IReadOnlyList<AggregatePointView> points, DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        Build([.. points.Select(p => p.Time.ToUnixTimeSeconds())], [.. points.Select(p => (IReadOnlyDictionary<string, double>)p.Metrics.ToDictionary(m => m.Key, m => m.Value.Avg, StringComparer.Ordinal))], from, to);

    private static List<ChartData> Build(long[] times, IReadOnlyDictionary<string, double>[] rows, DateTimeOffset? from, DateTimeOffset? to)
    {
        var (start, end) = (from?.ToUnixTimeSeconds(), to?.ToUnixTimeSeconds());
        var charts = new List<ChartData>();
        foreach (var (title, unit, lines) in Fixed)
        {
            charts.Add(new ChartData(title, unit, times, [.. lines.Select(l => new ChartSeries(l.Label, Column(rows, l.Metric)))], start, end));
        }

        var mounts = rows.SelectMany(r => r.Keys).Where(k => k.StartsWith(DiskPrefix, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        charts.Insert(3, new ChartData("Disk used", "%", times, [.. mounts.Select(m => new ChartSeries(m[DiskPrefix.Length..^1], Column(rows, m)))], start, end));
        return charts;
    }

    private static double?[] Column(IReadOnlyDictionary<string, double>[] rows, string metric) =>
        [.. rows.Select(r => r.TryGetValue(metric, out var v) ? v : (double?)null)];

    /// <summary>"CPU: 120 points" and so on, for a chart's accessible name.</summary>
    public static string Describe(ChartData chart) =>
        string.Create(CultureInfo.InvariantCulture, $"{chart.Title}: {string.Join(", ", chart.Series.Select(s => s.Label))}, {chart.Times.Length} points");
}
