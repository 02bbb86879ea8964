using System.Text.Json;
using System.Text.Json.Nodes;
using ManagedServers.Cli.Commands.Monitor;
using ManagedServers.Cli.Output;
using ManagedServers.Contracts.Api;

namespace ManagedServers.Cli.Tests;

public sealed class MonitorCommandTests() : FakeApiTests(useApi: true)
{
    [Fact]
    public async Task Raw_window_prints_header_table_and_sparklines()
    {
        var server = Api.AddServer("web1");
        AddSamples(server.Id, TimeSpan.FromHours(1), TimeSpan.FromSeconds(5));

        var run = await Cli.RunAsync("monitor", "system", "web1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("/api/v1/monitoring/system/raw?server=" + server.Id + "&from=2025-06-01T11%3A00%3A00Z&to=2025-06-01T12%3A00%3A00Z", string.Join('\n', Api.Requests));
        Assert.Contains("web1 system metrics, last 1h: 720 samples (raw, every 5s)", run.Stdout);
        var lines = run.Stdout.Split('\n');
        Assert.Equal(["1.20", "0.10", "0.65", "1.20"], Cells(lines, "CPU load 1 "));
        Assert.Equal(["90.0%", "10.0%", "50.0%", "90.0%"], Cells(lines, "CPU %"));
        Assert.Equal(["40.0%", "40.0%", "40.0%", "40.0%"], Cells(lines, "Disk /var %"));
        Assert.Equal(["20.0%", "20.0%", "20.0%", "20.0%"], Cells(lines, "Disk / %"));
        Assert.Equal(["12", "12", "12", "12"], Cells(lines, "TCP established"));
        Assert.Equal(["5", "5", "5", "5"], Cells(lines, "TCP listening"));
        Assert.Equal(["3d 1h", "3d 1h", "-", "3d 1h"], Cells(lines, "Uptime"));
        Assert.DoesNotContain(lines, l => l.Contains("Swap", StringComparison.Ordinal));

        // Sparklines for CPU %, load 1 and memory %: a rising CPU goes from the lowest to the highest bar.
        var cpuChart = Assert.Single(lines, l => l.StartsWith("CPU %", StringComparison.Ordinal) && l.Contains('▁'));
        Assert.Matches("^CPU % +▁[▁-█]{200,}█ +1\\d\\.\\d% – 8\\d\\.\\d%$", cpuChart.TrimEnd());
        Assert.Single(lines, l => l.StartsWith("CPU load 1", StringComparison.Ordinal) && l.Contains('█'));
        Assert.Single(lines, l => l.StartsWith("Memory %", StringComparison.Ordinal) && l.Contains('▅'));
        Assert.Contains("(each bar: the average over ~16s)", run.Stdout);
        Assert.All(lines, l => Assert.True(l.Length <= 250, l));
    }

    [Theory]
    [InlineData("15m", null)]
    [InlineData("2h", null)]
    [InlineData("6h", 60)]
    [InlineData("2d", 60)]
    [InlineData("3d", 3600)]
    [InlineData("30d", 3600)]
    public async Task Window_picks_raw_or_aggregate(string since, int? step)
    {
        var server = Api.AddServer("web1");
        AddSamples(server.Id, TimeSpan.FromHours(1), TimeSpan.FromSeconds(30));

        var run = await Cli.RunAsync("monitor", "system", "web1", "--since", since);

        Assert.True(run.ExitCode == 0, run.ToString());
        var request = Assert.Single(Api.Requests, r => r.Contains("/monitoring/system/", StringComparison.Ordinal));
        if (step is null)
        {
            Assert.StartsWith("GET /api/v1/monitoring/system/raw?", request, StringComparison.Ordinal);
            Assert.Contains("(raw, every 30s)", run.Stdout);
        }
        else
        {
            Assert.StartsWith("GET /api/v1/monitoring/system/aggregate?", request, StringComparison.Ordinal);
            Assert.Contains($"&step={step}", request);
            Assert.Contains(step == 60 ? "1-minute aggregates, 60 buckets" : "1-hour aggregates, 1 buckets", run.Stdout);
            Assert.Contains("120 samples", run.Stdout);
        }

        Assert.Contains($"last {since}:", run.Stdout);
    }

    [Fact]
    public async Task Aggregate_table_uses_bucket_extremes_and_weighted_average()
    {
        var server = Api.AddServer("web1");
        AddSamples(server.Id, TimeSpan.FromHours(3), TimeSpan.FromSeconds(10));

        var run = await Cli.RunAsync("monitor", "system", "web1", "--since", "6h");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("1080 samples (1-minute aggregates, 180 buckets)", run.Stdout);
        var lines = run.Stdout.Split('\n');
        Assert.Equal(["90.0%", "10.0%", "50.0%", "90.0%"], Cells(lines, "CPU %"));
        Assert.Single(lines, l => l.StartsWith("CPU %", StringComparison.Ordinal) && l.Contains('█'));
    }

    [Fact]
    public async Task No_samples_prints_a_hint()
    {
        Api.AddServer("web1");

        var run = await Cli.RunAsync("monitor", "system", "web1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("No samples for web1 in the last 1h. Is system monitoring on? Check: msctl settings monitoring show", run.Stdout.Trim());
    }

    [Fact]
    public async Task Json_output_is_the_api_json()
    {
        var server = Api.AddServer("web1");
        AddSamples(server.Id, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));

        var run = await Cli.RunAsync("monitor", "system", "web1", "--since", "10m", "-o", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Api.LastMonitoringBody!), JsonNode.Parse(run.Stdout)), run.Stdout);
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal(120, doc.RootElement.GetProperty("items").GetArrayLength());
        Assert.Equal(0.1, doc.RootElement.GetProperty("items")[0].GetProperty("metrics").GetProperty("cpu.load1").GetDouble(), 6);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task Metric_filter_is_passed_on_and_every_returned_metric_is_shown()
    {
        var server = Api.AddServer("web1");
        AddSamples(server.Id, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));

        var run = await Cli.RunAsync("monitor", "system", "web1", "--since", "10m", "--metric", "memory.*");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("&metric=memory.%2A", Assert.Single(Api.Requests, r => r.Contains("/monitoring/", StringComparison.Ordinal)));
        Assert.Contains("Memory %", run.Stdout);
        Assert.Contains("memory.total_bytes", run.Stdout);
        Assert.Contains("8.0 GiB", run.Stdout);
        Assert.DoesNotContain("CPU", run.Stdout);

        var none = await Cli.RunAsync("monitor", "system", "web1", "--metric", "nothing.*");
        Assert.Contains("No samples for web1 matching 'nothing.*' in the last 1h.", none.Stdout);
    }

    [Fact]
    public async Task Unknown_server_is_one_error_line()
    {
        var run = await Cli.RunAsync("monitor", "system", "nope");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: no server with id or name 'nope'", run.ErrorLine);
        Assert.DoesNotContain(Api.Requests, r => r.Contains("/monitoring/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1x")]
    [InlineData("h")]
    [InlineData("0m")]
    [InlineData("-1h")]
    [InlineData("9999d")]
    public async Task Bad_since_is_one_readable_line(string since)
    {
        Api.AddServer("web1");

        var run = await Cli.RunAsync("monitor", "system", "web1", "--since=" + since);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"error: invalid --since '{since}': expected a duration like 15m, 1h, 6h, 2d or 30d (at most 3660d)", run.ErrorLine);
        Assert.Empty(Api.Requests);
    }

    [Theory]
    [InlineData("15m", 15 * 60)]
    [InlineData("1h", 3600)]
    [InlineData("1H30m", 5400)]
    [InlineData(" 2d ", 2 * 86400)]
    [InlineData("1w", 7 * 86400)]
    [InlineData("90s", 90)]
    public void Since_durations_parse(string text, int seconds)
    {
        Assert.True(SinceDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Fact]
    public void Resolution_thresholds()
    {
        Assert.True(Resolution.For(TimeSpan.FromHours(2)).IsRaw);
        Assert.Equal(60, Resolution.For(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1)).StepSeconds);
        Assert.Equal(60, Resolution.For(TimeSpan.FromDays(2)).StepSeconds);
        Assert.Equal(3600, Resolution.For(TimeSpan.FromDays(2) + TimeSpan.FromHours(1)).StepSeconds);
    }

    [Fact]
    public void Sparkline_scales_between_lowest_and_highest_and_leaves_gaps()
    {
        var from = FakeApi.Now;
        var points = new List<(DateTimeOffset, double)> { (from, 1), (from.AddSeconds(1), 2), (from.AddSeconds(3), 8) };

        var (bars, low, high) = Sparkline.Render(points, from, from.AddSeconds(4), 4);

        Assert.Equal("▁▂ █", bars);
        Assert.Equal(1, low);
        Assert.Equal(8, high);
        Assert.Equal("▁▁", Sparkline.Render([(from, 0), (from.AddSeconds(1), 0)], from, from.AddSeconds(2), 2).Bars);
        Assert.Equal("  ", Sparkline.Render([], from, from.AddSeconds(2), 2).Bars);
    }

    /// <summary>The now/min/avg/max cells of the table row starting with <paramref name="label"/>.</summary>
    private static string[] Cells(string[] lines, string label)
    {
        var row = Assert.Single(lines, l => l.TrimStart('│', ' ').StartsWith(label, StringComparison.Ordinal) && l.Contains('│'));
        return row.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[1..];
    }

    /// <summary>
    /// Samples over the last <paramref name="window"/>: CPU % rises linearly from 10 to 90, load 1 from 0.1 to 1.2,
    /// memory stays at 50 %, two disks, TCP counts and uptime.
    /// </summary>
    private void AddSamples(string serverId, TimeSpan window, TimeSpan every)
    {
        var count = (int)(window / every);
        var list = new List<SystemSampleView>();
        for (var i = 0; i < count; i++)
        {
            var f = count == 1 ? 1 : i / (double)(count - 1);
            var time = FakeApi.Now - window + (every * i);
            list.Add(new SystemSampleView(time, new Dictionary<string, double>
            {
                ["cpu.load1"] = Math.Round(0.1 + (1.1 * f), 6),
                ["cpu.load5"] = 0.5,
                ["cpu.load15"] = 0.4,
                ["cpu.usage_percent"] = 10 + (80 * f),
                ["memory.used_percent"] = 50,
                ["memory.total_bytes"] = 8L * 1024 * 1024 * 1024,
                ["disk.used_percent[/var]"] = 40,
                ["disk.used_percent[/]"] = 20,
                ["net.tcp.established"] = 12,
                ["net.tcp.listen"] = 5,
                ["uptime.seconds"] = (3 * 86400) + 7200 - (window - (every * i)).TotalSeconds,
            }));
        }

        Api.Samples[serverId] = list;
    }
}
