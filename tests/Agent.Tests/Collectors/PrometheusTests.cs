using System.Net;
using System.Net.Sockets;
using System.Text;
using ManagedServers.Agent.Monitoring;
using ManagedServers.Agent.Startup;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class PrometheusTests
{
    private static readonly SystemSample Sample = new(
        DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_250),
        new Dictionary<string, double>
        {
            ["cpu.load1"] = 0.5,
            ["uptime.seconds"] = 1234.5,
            ["disk.used_percent[/var]"] = 42.5,
            ["disk.used_percent[/srv/a \"b\"\\c\nd]"] = 1,
            ["disk.total_bytes[/var]"] = 1e12,
            ["disk.total_bytes[/big]"] = 2.5e21,
            ["net.tcp.established"] = 3,
            ["net.tcp.listen"] = 2,
            ["net.tcp.total"] = 5,
            ["memory.used_percent"] = double.NaN,
            ["custom.metric-x"] = -1,
        });

    [Fact]
    public void Text_format_maps_names_labels_and_escapes()
    {
        var lines = PrometheusText.Format(Sample).Split('\n');

        Assert.Equal(string.Empty, lines[^1]); // ends with a newline
        Assert.Contains("# HELP managedservers_agent_cpu_load1 Load average over 1 minute.", lines);
        Assert.Contains("# TYPE managedservers_agent_cpu_load1 gauge", lines);
        Assert.Contains("managedservers_agent_cpu_load1 0.5", lines);
        Assert.Contains("managedservers_agent_uptime_seconds 1234.5", lines);
        Assert.Contains("managedservers_agent_disk_used_percent{mount=\"/var\"} 42.5", lines);
        Assert.Contains("managedservers_agent_disk_used_percent{mount=\"/srv/a \\\"b\\\"\\\\c\\nd\"} 1", lines);
        Assert.Contains("managedservers_agent_disk_total_bytes{mount=\"/var\"} 1000000000000", lines);
        Assert.Contains("managedservers_agent_disk_total_bytes{mount=\"/big\"} 2.5E+21", lines);
        Assert.Contains("managedservers_agent_net_tcp{state=\"established\"} 3", lines);
        Assert.Contains("managedservers_agent_net_tcp{state=\"listen\"} 2", lines);
        Assert.Contains("managedservers_agent_net_tcp_total 5", lines);
        Assert.Contains("managedservers_agent_memory_used_percent NaN", lines);
        Assert.Contains("# HELP managedservers_agent_custom_metric_x custom.metric-x", lines);
        Assert.Contains("managedservers_agent_custom_metric_x -1", lines);
        Assert.Contains("managedservers_agent_sample_time_seconds 1750000000.25", lines);

        // One HELP and one TYPE per family, every family's samples together right after them.
        var samples = lines.Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('{', ' ')[0]).ToList();
        var families = samples.Distinct().ToList();
        Assert.Equal(samples.Count, Sample.Values.Count + 1);
        Assert.Equal(families.Count, lines.Count(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)));
        Assert.Equal(families.Count, lines.Count(l => l.StartsWith("# HELP ", StringComparison.Ordinal)));
        Assert.Equal(families.Count, samples.Where((s, i) => i == 0 || samples[i - 1] != s).Count());
        var tcpType = Array.IndexOf(lines, "# TYPE managedservers_agent_net_tcp gauge");
        Assert.Equal("# HELP managedservers_agent_net_tcp TCP sockets by state.", lines[tcpType - 1]);
        Assert.StartsWith("managedservers_agent_net_tcp{", lines[tcpType + 1], StringComparison.Ordinal);
        Assert.StartsWith("managedservers_agent_net_tcp{", lines[tcpType + 2], StringComparison.Ordinal);
    }

    [Fact]
    public void No_sample_yet_is_an_empty_page() => Assert.Equal(string.Empty, PrometheusText.Format(null));

    [Fact]
    public async Task Endpoint_serves_metrics_and_404_for_other_paths()
    {
        SystemSample? current = null;
        using var endpoint = new PrometheusEndpoint(new IPEndPoint(IPAddress.Loopback, 0), () => PrometheusText.Format(current), NullLogger<PrometheusEndpoint>.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        try
        {
            var address = endpoint.LocalEndpoint!;
            Assert.NotEqual(0, address.Port);
            using var http = new HttpClient { BaseAddress = new Uri($"http://{address}/") };

            using (var empty = await http.GetAsync("metrics"))
            {
                Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
                Assert.Equal(string.Empty, await empty.Content.ReadAsStringAsync());
            }

            current = Sample;
            using (var ok = await http.GetAsync("metrics?x=1"))
            {
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
                Assert.Equal("text/plain; version=0.0.4; charset=utf-8", ok.Content.Headers.ContentType!.ToString());
                var body = await ok.Content.ReadAsStringAsync();
                Assert.Equal(PrometheusText.Format(Sample), body);
                Assert.Contains("managedservers_agent_disk_used_percent{mount=\"/srv/a \\\"b\\\"\\\\c\\nd\"} 1\n", body, StringComparison.Ordinal);
            }

            using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "metrics")))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(Encoding.UTF8.GetByteCount(PrometheusText.Format(Sample)), head.Content.Headers.ContentLength);
            }

            using (var missing = await http.GetAsync("other"))
            {
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            }

            using (var root = await http.GetAsync(string.Empty))
            {
                Assert.Equal(HttpStatusCode.NotFound, root.StatusCode);
            }

            using (var post = await http.PostAsync("metrics", new StringContent("x")))
            {
                Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            }

            // Not HTTP at all.
            using var raw = new TcpClient();
            await raw.ConnectAsync(address);
            await raw.GetStream().WriteAsync("hello\r\n\r\n"u8.ToArray());
            using var reader = new StreamReader(raw.GetStream());
            Assert.Equal("HTTP/1.1 400 Bad Request", await reader.ReadLineAsync());
        }
        finally
        {
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_address_in_use_is_logged_and_the_agent_runs_on()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var endpoint = new PrometheusEndpoint((IPEndPoint)taken.LocalEndpoint, () => string.Empty, factory.CreateLogger<PrometheusEndpoint>());

        await endpoint.StartAsync(CancellationToken.None);
        await endpoint.StopAsync(CancellationToken.None);

        Assert.Null(endpoint.LocalEndpoint);
        Assert.Contains(logs.Lines, l => l.StartsWith($"Error: Prometheus metrics endpoint cannot listen on {taken.LocalEndpoint}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("127.0.0.1:9120", "127.0.0.1:9120")]
    [InlineData("0.0.0.0:9120", "0.0.0.0:9120")]
    [InlineData("[::1]:9120", "[::1]:9120")]
    [InlineData("127.0.0.1", null)]
    [InlineData("::1", null)]
    [InlineData("[::1]", null)]
    [InlineData("127.0.0.1:0", null)]
    [InlineData("127.0.0.1:70000", null)]
    [InlineData("localhost:9120", null)]
    public void Metrics_listen_option(string text, string? expected)
    {
        var parsed = CommandLine.TryParse(["run", "--state-dir", "/s", "--metrics-listen", text], out var command, out var error);

        Assert.Equal(expected is not null, parsed);
        if (expected is null)
        {
            Assert.StartsWith("option '--metrics-listen':", error, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(new ParsedCommand(AgentVerb.Run, null, "/s", IPEndPoint.Parse(expected)), command);
        }
    }

    [Fact]
    public void Metrics_listen_is_optional_and_only_for_run()
    {
        Assert.True(CommandLine.TryParse(["run", "--state-dir", "/s"], out var run, out _));
        Assert.Null(run.MetricsListen);
        Assert.False(CommandLine.TryParse(["enroll", "--bundle", "b", "--state-dir", "/s", "--metrics-listen", "127.0.0.1:9120"], out _, out var error));
        Assert.Equal("unknown option '--metrics-listen' for 'enroll'", error);
        Assert.False(CommandLine.TryParse(["run", "--metrics-listen", "127.0.0.1:9120"], out _, out error));
        Assert.Equal("'run' needs --state-dir", error);
    }
}
