using System.ComponentModel;
using System.Globalization;
using ManagedServers.Cli.Api;
using ManagedServers.Cli.Commands.Servers;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Agent;
using ManagedServers.Contracts.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ManagedServers.Cli.Commands.Monitor;

internal sealed class MonitorSystemSettings : ServerIdSettings
{
    [CommandOption("--since <DURATION>")]
    [Description("Window up to now: 15m, 1h, 6h, 2d, 30d... (default 1h). Up to 2h shows raw samples, up to 2d 1-minute aggregates, longer 1-hour aggregates")]
    [DefaultValue("1h")]
    public string Since { get; init; } = "1h";

    [CommandOption("--metric <NAMES>")]
    [Description("Only these metrics: comma-separated names or prefixes ending in *, e.g. [green]cpu.*,memory.used_percent[/]")]
    public string? Metric { get; init; }

    /// <summary>The parsed <see cref="Since"/> (validated in <see cref="Validate"/>).</summary>
    public TimeSpan Window => SinceDuration.TryParse(Since, out var window) ? window : TimeSpan.FromHours(1);

    public override ValidationResult Validate() =>
        base.Validate() is { Successful: false } invalid ? invalid
        : SinceDuration.TryParse(Since, out _) ? ValidationResult.Success()
        : ValidationResult.Error($"invalid --since '{Since}': {SinceDuration.Hint} (at most {SinceDuration.Max.TotalDays:0}d)");
}

/// <summary>Which API and resolution a window uses.</summary>
internal readonly record struct Resolution(int? StepSeconds)
{
    public static readonly TimeSpan RawUpTo = TimeSpan.FromHours(2);
    public static readonly TimeSpan MinutesUpTo = TimeSpan.FromDays(2);

    public bool IsRaw => StepSeconds is null;

    /// <summary>Raw samples up to 2 hours, 1-minute aggregates up to 2 days, 1-hour aggregates beyond.</summary>
    public static Resolution For(TimeSpan window) =>
        window <= RawUpTo ? new(null) : window <= MinutesUpTo ? new(60) : new(3600);
}

/// <summary>msctl monitor system SERVER: key system metrics of one server over a window, as a table and sparklines.</summary>
internal sealed class MonitorSystemCommand(CliHost host) : ApiCommand<MonitorSystemSettings>(host)
{
    protected override async Task<int> RunAsync(ApiClient api, MonitorSystemSettings settings, CancellationToken cancellationToken)
    {
        var server = (await ServerResolver.ResolveAsync(api, settings.Server, cancellationToken)).Value;
        var to = Host.Time.GetUtcNow();
        var from = to - settings.Window;
        var resolution = Resolution.For(settings.Window);
        var metric = string.IsNullOrWhiteSpace(settings.Metric) ? null : settings.Metric.Trim();

        string json;
        SystemSeries series;
        if (resolution.StepSeconds is { } step)
        {
            var result = await api.GetAggregateSamplesAsync(server.Id, from, to, step, metric, cancellationToken);
            (json, series) = (result.Json, SystemSeries.FromAggregate(result.Value));
        }
        else
        {
            var result = await api.GetRawSamplesAsync(server.Id, from, to, metric, cancellationToken);
            (json, series) = (result.Json, SystemSeries.FromRaw(result.Value));
        }

        OutputFormat.Write(Host, settings.Output, json, () =>
            new SystemReport(Host, server, settings.Since.Trim(), from, to, resolution, metric, series).Render());
        return ExitCodes.Ok;
    }
}

/// <summary>One metric over the window: its points (raw values or bucket averages) and summary.</summary>
internal sealed record MetricSeries(string Name, List<(DateTimeOffset Time, double Value)> Points, double Now, double Min, double Avg, double Max);

/// <summary>Every metric of a raw or aggregate answer, with how many samples it covers.</summary>
internal sealed record SystemSeries(IReadOnlyDictionary<string, MetricSeries> Metrics, long SampleCount, int PointCount, TimeSpan? TypicalSpacing)
{
    public static SystemSeries FromRaw(RawSamplesView view)
    {
        var points = new Dictionary<string, List<(DateTimeOffset, double)>>(StringComparer.Ordinal);
        foreach (var item in view.Items)
        {
            foreach (var (name, value) in item.Metrics ?? new Dictionary<string, double>())
            {
                if (!points.TryGetValue(name, out var list))
                {
                    points[name] = list = [];
                }

                list.Add((item.Time, value));
            }
        }

        var metrics = points.ToDictionary(
            p => p.Key,
            p => new MetricSeries(p.Key, p.Value, p.Value[^1].Item2, p.Value.Min(v => v.Item2), p.Value.Average(v => v.Item2), p.Value.Max(v => v.Item2)),
            StringComparer.Ordinal);
        return new SystemSeries(metrics, view.Items.Count, view.Items.Count, MedianSpacing(view.Items.Select(i => i.Time).ToList()));
    }

    public static SystemSeries FromAggregate(AggregateSamplesView view)
    {
        var buckets = new Dictionary<string, List<(DateTimeOffset Time, AggregateValue Value)>>(StringComparer.Ordinal);
        long samples = 0;
        foreach (var item in view.Items)
        {
            var metrics = item.Metrics ?? new Dictionary<string, AggregateValue>();
            samples += metrics.Count == 0 ? 0 : metrics.Values.Max(v => v.Count);
            foreach (var (name, value) in metrics)
            {
                if (!buckets.TryGetValue(name, out var list))
                {
                    buckets[name] = list = [];
                }

                list.Add((item.Time, value));
            }
        }

        var result = buckets.ToDictionary(
            b => b.Key,
            b =>
            {
                var values = b.Value.Select(v => v.Value).ToList();
                var weight = values.Sum(v => (double)v.Count);
                var avg = weight > 0 ? values.Sum(v => v.Avg * v.Count) / weight : values.Average(v => v.Avg);
                return new MetricSeries(b.Key, b.Value.Select(v => (v.Time, v.Value.Avg)).ToList(), values[^1].Last, values.Min(v => v.Min), avg, values.Max(v => v.Max));
            },
            StringComparer.Ordinal);
        return new SystemSeries(result, samples, view.Items.Count, TimeSpan.FromSeconds(Math.Max(view.StepSeconds, 1)));
    }

    private static TimeSpan? MedianSpacing(List<DateTimeOffset> times)
    {
        if (times.Count < 2)
        {
            return null;
        }

        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).Where(g => g > TimeSpan.Zero).Order().ToList();
        return gaps.Count == 0 ? null : gaps[gaps.Count / 2];
    }
}

/// <summary>The human output of <c>monitor system</c>: header, table (now/min/avg/max) and sparklines.</summary>
internal sealed class SystemReport(
    CliHost host, ServerView server, string since, DateTimeOffset from, DateTimeOffset to, Resolution resolution, string? metricFilter, SystemSeries series)
{
    private const int MaxCharts = 12;

    private enum Unit
    {
        Number,
        Percent,
        Count,
        Bytes,
        Seconds,
    }

    private sealed record Row(string Label, MetricSeries Series, Unit Unit);

    public void Render()
    {
        var console = host.Console;
        if (series.Metrics.Count == 0)
        {
            var matching = metricFilter is null ? "" : $" matching '{metricFilter}'";
            console.WriteLine($"No samples for {server.Name}{matching} in the last {since}. Is system monitoring on? Check: msctl settings monitoring show");
            return;
        }

        var rows = Rows();
        RenderHeader();
        console.WriteLine();
        RenderTable(rows);
        console.WriteLine();
        RenderCharts(metricFilter is null
            ? rows.Where(r => r.Series.Name is SystemMetricNames.CpuUsage or SystemMetricNames.Load1 or SystemMetricNames.MemoryUsedPercent).ToList()
            : rows.Take(MaxCharts).ToList());
    }

    private void RenderHeader()
    {
        var what = resolution.StepSeconds switch
        {
            null => series.TypicalSpacing is { } spacing ? $"raw, every {OutputFormat.Duration(spacing)}" : "raw",
            60 => $"1-minute aggregates, {series.PointCount} buckets",
            3600 => $"1-hour aggregates, {series.PointCount} buckets",
            { } step => $"{step}-second aggregates, {series.PointCount} buckets",
        };
        var samples = series.SampleCount == 1 ? "1 sample" : $"{series.SampleCount.ToString(CultureInfo.InvariantCulture)} samples";
        host.Console.MarkupLineInterpolated($"[bold]{server.Name}[/] system metrics, last {since}: {samples} ({what})");
        host.Console.MarkupLineInterpolated($"[grey]{Local(from, "yyyy-MM-dd HH:mm")} → {Local(to, "yyyy-MM-dd HH:mm zzz")}[/]");
    }

    private void RenderTable(List<Row> rows)
    {
        var table = Tables.Create(
            Tables.Column("Metric"),
            Tables.Column("Now", right: true),
            Tables.Column("Min", right: true),
            Tables.Column("Avg", right: true),
            Tables.Column("Max", right: true));
        foreach (var row in rows)
        {
            var s = row.Series;
            table.AddRow(
                new Text(row.Label),
                new Text(Format(s.Now, row.Unit), new Style(decoration: Decoration.Bold)),
                new Text(Format(s.Min, row.Unit)),
                new Text(row.Unit == Unit.Seconds ? OutputFormat.None : Format(s.Avg, row.Unit, average: true)),
                new Text(Format(s.Max, row.Unit)));
        }

        Tables.Write(host, table);
    }

    private void RenderCharts(List<Row> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        // The range printed after the bars lies within the metric's min and max, so their width bounds it.
        var labelWidth = rows.Max(r => r.Label.Length);
        var rangeWidth = rows.Max(r => Range(r.Series.Min, r.Series.Max, r.Unit).Length);
        var available = Math.Max(host.Console.Profile.Width - labelWidth - rangeWidth - 5, 1);
        var expected = series.TypicalSpacing is { } spacing && spacing > TimeSpan.Zero
            ? (int)Math.Ceiling((to - from) / spacing)
            : series.PointCount;
        var width = Math.Clamp(expected, 1, available);

        host.Console.MarkupLineInterpolated($"[grey]Trend, oldest to newest (each bar: the average over ~{OutputFormat.Duration((to - from) / width)}):[/]");
        var grid = new Grid()
            .AddColumn(new GridColumn().NoWrap().PadRight(2))
            .AddColumn(new GridColumn().NoWrap().PadRight(2))
            .AddColumn(new GridColumn().NoWrap());
        foreach (var row in rows)
        {
            var (bars, low, high) = Sparkline.Render(row.Series.Points, from, to, width);
            var range = low is { } lo && high is { } hi ? Range(lo, hi, row.Unit) : "";
            grid.AddRow(new Text(row.Label), new Text(bars, new Style(Color.Green)), new Text(range, new Style(Color.Grey)));
        }

        grid.AddRow(new Text(""), new Text(Axis(width), new Style(Color.Grey)), new Text(""));
        host.Console.Write(grid);
    }

    private static string Range(double low, double high, Unit unit) =>
        $"{Format(low, unit, average: true)} – {Format(high, unit, average: true)}";

    /// <summary>Start and end time under the bars.</summary>
    private string Axis(int width)
    {
        var format = to - from > TimeSpan.FromDays(1) ? "MM-dd HH:mm" : "HH:mm";
        var start = Local(from, format);
        var end = Local(to, format);
        return start.Length + end.Length + 1 > width ? "" : start + new string(' ', width - start.Length - end.Length) + end;
    }

    private List<Row> Rows()
    {
        var rows = new List<Row>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        void Add(string label, string name, Unit unit)
        {
            if (series.Metrics.TryGetValue(name, out var s) && used.Add(name))
            {
                rows.Add(new Row(label, s, unit));
            }
        }

        Add("CPU load 1", SystemMetricNames.Load1, Unit.Number);
        Add("CPU load 5", SystemMetricNames.Load5, Unit.Number);
        Add("CPU load 15", SystemMetricNames.Load15, Unit.Number);
        Add("CPU %", SystemMetricNames.CpuUsage, Unit.Percent);
        Add("Memory %", SystemMetricNames.MemoryUsedPercent, Unit.Percent);
        Add("Swap %", SystemMetricNames.SwapUsedPercent, Unit.Percent);
        var diskPrefix = SystemMetricNames.DiskUsedPercent + "[";
        foreach (var name in series.Metrics.Keys.Where(k => k.StartsWith(diskPrefix, StringComparison.Ordinal) && k.EndsWith(']')).Order(StringComparer.Ordinal))
        {
            Add($"Disk {name[diskPrefix.Length..^1]} %", name, Unit.Percent);
        }

        Add("TCP established", SystemMetricNames.TcpPrefix + "established", Unit.Count);
        Add("TCP listening", SystemMetricNames.TcpPrefix + "listen", Unit.Count);
        if (!used.Contains(SystemMetricNames.TcpPrefix + "listen"))
        {
            Add("Listening sockets", SystemMetricNames.Listening, Unit.Count);
        }

        Add("Uptime", SystemMetricNames.Uptime, Unit.Seconds);

        if (metricFilter is not null)
        {
            // The user asked for specific metrics: show every one that came back, not only the key ones.
            foreach (var name in series.Metrics.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal))
            {
                Add(name, name, UnitOf(name));
            }
        }

        return rows;
    }

    private static Unit UnitOf(string name)
    {
        var bare = name.Split('[')[0];
        return bare.EndsWith("_percent", StringComparison.Ordinal) ? Unit.Percent
            : bare.EndsWith("_bytes", StringComparison.Ordinal) ? Unit.Bytes
            : bare.EndsWith(".seconds", StringComparison.Ordinal) || bare.EndsWith("_seconds", StringComparison.Ordinal) ? Unit.Seconds
            : bare.StartsWith("net.", StringComparison.Ordinal) || bare == SystemMetricNames.CpuCount ? Unit.Count
            : Unit.Number;
    }

    private static string Format(double value, Unit unit, bool average = false) => unit switch
    {
        Unit.Percent => value.ToString("0.0", CultureInfo.InvariantCulture) + "%",
        Unit.Count => value.ToString(average ? "0.#" : "0", CultureInfo.InvariantCulture),
        Unit.Bytes => Bytes(value),
        Unit.Seconds => Uptime(value),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    private static string Bytes(double value)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        var i = 0;
        while (Math.Abs(value) >= 1024 && i < units.Length - 1)
        {
            value /= 1024;
            i++;
        }

        return value.ToString(i == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[i];
    }

    /// <summary>"3d 4h", "5h 12m", "12m 3s", "42s".</summary>
    private static string Uptime(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(seconds)));
        return t.TotalDays >= 1 ? $"{(int)t.TotalDays}d {t.Hours}h"
            : t.TotalHours >= 1 ? $"{t.Hours}h {t.Minutes}m"
            : t.TotalMinutes >= 1 ? $"{t.Minutes}m {t.Seconds}s"
            : $"{t.Seconds}s";
    }

    private static string Local(DateTimeOffset time, string format) => time.ToLocalTime().ToString(format, CultureInfo.InvariantCulture);
}
