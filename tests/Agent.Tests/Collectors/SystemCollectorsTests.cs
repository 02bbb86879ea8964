using System.Globalization;
using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class SystemCollectorsTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void All_collectors_over_a_fixture_make_one_sample()
    {
        var collectors = new SystemCollectors(FixtureCollectors(ProcFixtures.Vm), new FakeTimeProvider(Now), NullLogger<SystemCollectors>.Instance);

        var first = collectors.Collect();
        var second = collectors.Collect();

        Assert.Equal(Now, first.Time);
        // 4 load + 12 memory + 3 mounts x 5 disk + 11 states + 4 network + 1 uptime; cpu usage needs two readings.
        Assert.Equal(4 + 12 + 15 + 11 + 4 + 1, first.Values.Count);
        Assert.False(first.Values.ContainsKey(SystemMetricNames.CpuUsage));
        Assert.False(second.Values.ContainsKey(SystemMetricNames.CpuUsage)); // the fixture does not change: no jiffies passed
        Assert.Equal(first.Values.Count, second.Values.Count);
        Assert.All(collectors.Status(), s => Assert.Equal((2L, 0L, (string?)null), (s.Runs, s.Failures, s.LastError)));
        Assert.Equal(["load", "cpu", "memory", "disk", "network", "uptime"], collectors.Status().Select(s => s.Name));
        Assert.True(collectors.LastDuration > TimeSpan.Zero);
    }

    [Fact]
    public void A_collector_whose_file_is_missing_leaves_the_others_intact()
    {
        using var temp = new TempDir();
        var root = ProcFixtures.CopyTo(ProcFixtures.Vm, temp);
        File.Delete(Path.Combine(root, "meminfo"));
        var collectors = new SystemCollectors(FixtureCollectors(root), new FakeTimeProvider(Now), NullLogger<SystemCollectors>.Instance);

        var sample = collectors.Collect();

        Assert.DoesNotContain(sample.Values.Keys, k => k.StartsWith("memory.", StringComparison.Ordinal) || k.StartsWith("swap.", StringComparison.Ordinal) || k.StartsWith("vm.", StringComparison.Ordinal));
        Assert.Equal(0.52, sample.Values[SystemMetricNames.Load1]);
        Assert.Equal(123456.78, sample.Values[SystemMetricNames.Uptime]);
        Assert.Equal(3, sample.Values["net.tcp.listen"]);
        Assert.True(sample.Values.ContainsKey("disk.total_bytes[/var]"));
        var memory = Assert.Single(collectors.Status(), s => s.Name == "memory");
        Assert.Equal(1, memory.Failures);
        Assert.StartsWith("FileNotFoundException: ", memory.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void Failures_are_counted_their_partial_values_dropped_and_each_distinct_error_logged_once()
    {
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var failing = new FailingCollector();
        var collectors = new SystemCollectors(
            [new UptimeCollector(ProcFixtures.Vm), failing, new LoadCollector(ProcFixtures.Vm)],
            new FakeTimeProvider(Now),
            factory.CreateLogger<SystemCollectors>());

        for (var i = 0; i < 3; i++)
        {
            var sample = collectors.Collect();
            Assert.False(sample.Values.ContainsKey("partial.value"));
            Assert.Equal(123456.78, sample.Values[SystemMetricNames.Uptime]);
            Assert.Equal(2, sample.Values[SystemMetricNames.CpuCount]);
        }

        failing.Message = "another problem";
        collectors.Collect();
        failing.Message = null;
        var recovered = collectors.Collect();

        Assert.Equal(1, recovered.Values["partial.value"]);
        var status = collectors.Status()[1];
        Assert.Equal(("failing", 5L, 4L, (string?)null), (status.Name, status.Runs, status.Failures, status.LastError));
        var warnings = logs.Lines.Where(l => l.StartsWith("Warning:", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["Warning: System collector failing failed: InvalidOperationException: broken", "Warning: System collector failing failed: InvalidOperationException: another problem"],
            warnings);
        Assert.Equal(2, logs.Lines.Count(l => l.StartsWith("Debug: System collector failing failed again", StringComparison.Ordinal)));
    }

    [Fact]
    public void Plausible_on_this_machine()
    {
        var collectors = SystemCollectors.CreateDefault(TimeProvider.System, NullLogger<SystemCollectors>.Instance);
        collectors.Collect();
        Thread.Sleep(300);
        var values = collectors.Collect().Values;

        Assert.All(collectors.Status(), s => Assert.True(s.Failures == 0, $"{s.Name}: {s.LastError}"));

        var cpuLines = File.ReadLines("/proc/stat").Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3]));
        Assert.Equal(cpuLines, values[SystemMetricNames.CpuCount]);
        Assert.True(values[SystemMetricNames.CpuCount] >= Environment.ProcessorCount); // a cgroup or affinity can only lower the runtime's count

        Assert.True(values.ContainsKey(SystemMetricNames.CpuUsage));
        Assert.InRange(values[SystemMetricNames.CpuUsage], 0, 100);

        var memTotalKb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Assert.Equal(memTotalKb * 1024.0, values[SystemMetricNames.MemoryTotal]);
        Assert.InRange(values[SystemMetricNames.MemoryUsedPercent], 0, 100);

        Assert.True(values["disk.total_bytes[/]"] > 0);
        Assert.InRange(values["disk.used_percent[/]"], 0, 100);

        Assert.True(values[SystemMetricNames.Uptime] > 0);
        Assert.Equal(values[SystemMetricNames.TcpTotal], SystemMetricNames.TcpStates.Sum(s => values[SystemMetricNames.TcpPrefix + s]));
        Assert.True(values[SystemMetricNames.Load1] >= 0);
    }

    /// <summary>The production collectors over a fixture, with disk sizes from a fake statvfs.</summary>
    internal static ISystemCollector[] FixtureCollectors(string root) =>
    [
        new LoadCollector(root),
        new CpuCollector(root),
        new MemoryCollector(root),
        new DiskCollector(root, _ => new DiskStats(4096, 1000, 400, 350, 6400, 1600)),
        new NetworkCollector(root),
        new UptimeCollector(root),
    ];

    private sealed class FailingCollector : ISystemCollector
    {
        public string? Message { get; set; } = "broken";

        public string Name => "failing";

        public void Collect(IDictionary<string, double> values)
        {
            values["partial.value"] = 1;
            if (Message is not null)
            {
                throw new InvalidOperationException(Message);
            }
        }
    }
}
