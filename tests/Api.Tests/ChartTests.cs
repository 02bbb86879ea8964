using ManagedServers.Api.Ui.Shared;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Api.Tests;

/// <summary>The system charts built from the monitoring API's answers, and the chart component's hand-over to the chart script.</summary>
public sealed class ChartTests : BunitContext
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Raw_samples_become_one_chart_per_subject_with_a_line_per_metric_and_per_disk_mount()
    {
        var charts = SystemCharts.FromRaw(
        [
            new SystemSampleView(T0, new Dictionary<string, double> { ["cpu.usage_percent"] = 12.5, ["cpu.load1"] = 0.5, ["disk.used_percent[/]"] = 40, ["memory.used_percent"] = 61 }),
            new SystemSampleView(T0.AddSeconds(5), new Dictionary<string, double> { ["cpu.usage_percent"] = 20, ["disk.used_percent[/]"] = 41, ["disk.used_percent[/var]"] = 7 }),
        ]);

        Assert.Equal(["CPU", "Load", "Memory and swap", "Disk used", "Connections"], charts.Select(c => c.Title));
        var cpu = charts[0];
        Assert.Equal([T0.ToUnixTimeSeconds(), T0.ToUnixTimeSeconds() + 5], cpu.Times);
        Assert.Equal([12.5, 20], cpu.Series.Single(s => s.Label == "total").Values);
        Assert.Equal([null, null], cpu.Series.Single(s => s.Label == "iowait").Values); // absent metric: a gap, not a zero
        var disks = charts[3];
        Assert.Equal(["/", "/var"], disks.Series.Select(s => s.Label));
        Assert.Equal([null, 7], disks.Series[1].Values);
        Assert.True(charts[4].Empty);
        Assert.Equal("CPU: total, user, system, iowait, 2 points", SystemCharts.Describe(cpu));
    }

    [Fact]
    public void Aggregates_chart_each_buckets_average()
    {
        var charts = SystemCharts.FromAggregates(
        [
            new AggregatePointView(T0, new Dictionary<string, AggregateValue> { ["cpu.usage_percent"] = new(1, 4, 9, 3, 12) }),
        ]);
        Assert.Equal([4.0], charts[0].Series[0].Values);
    }

    [Fact]
    public void A_chart_hands_its_data_to_the_chart_script_and_an_empty_one_says_so()
    {
        var module = JSInterop.SetupModule("./_content/ManagedServers.Api/charts.js");
        module.SetupVoid("draw", _ => true);
        var data = new ChartData("CPU", "%", [1, 2, 3], [new ChartSeries("total", [1, null, 3])]);
        var chart = Render<TimeChart>(p => p.Add(c => c.Data, data));
        Assert.Equal("CPU", chart.Find("figcaption").TextContent);
        Assert.Equal("CPU: total, 3 points", chart.Find("[data-testid=chart]").GetAttribute("aria-label"));
        var draw = Assert.Single(module.Invocations, i => i.Identifier == "draw");
        Assert.Equal(2, draw.Arguments.Count);

        var empty = Render<TimeChart>(p => p.Add(c => c.Data, new ChartData("Load", string.Empty, [], [])));
        Assert.Equal("No samples in this range yet.", empty.Find("[data-testid=chart-empty]").TextContent);
        Assert.Single(module.Invocations, i => i.Identifier == "draw"); // nothing drawn for it
    }

    [Fact]
    public void Ranges_up_to_an_hour_are_read_raw_and_longer_ones_as_aggregates()
    {
        Assert.True(ChartRanges.Raw(ChartRanges.Span("15m")));
        Assert.True(ChartRanges.Raw(ChartRanges.Span("1h")));
        Assert.False(ChartRanges.Raw(ChartRanges.Span("24h")));
        Assert.Equal(TimeSpan.FromDays(30), ChartRanges.Span("30d"));
        Assert.Equal(TimeSpan.FromHours(1), ChartRanges.Span("nonsense"));
    }
}
