using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class LoadUptimeCollectorTests
{
    [Fact]
    public void Vm_load_averages_and_cpu_count()
    {
        var values = ProcFixtures.Collect(new LoadCollector(ProcFixtures.Vm));

        Assert.Equal(4, values.Count);
        Assert.Equal(0.52, values[SystemMetricNames.Load1]);
        Assert.Equal(0.41, values[SystemMetricNames.Load5]);
        Assert.Equal(0.30, values[SystemMetricNames.Load15]);
        Assert.Equal(2, values[SystemMetricNames.CpuCount]);
    }

    [Fact]
    public void Busy_counts_online_cpus_only_and_reads_past_a_long_intr_line()
    {
        var values = ProcFixtures.Collect(new LoadCollector(ProcFixtures.Busy));

        Assert.Equal(12.07, values[SystemMetricNames.Load1]);
        Assert.Equal(10.51, values[SystemMetricNames.Load5]);
        Assert.Equal(9.98, values[SystemMetricNames.Load15]);
        Assert.Equal(8, values[SystemMetricNames.CpuCount]); // cpu0-3 and cpu5-8; cpu4 is offline
    }

    [Fact]
    public void Uptime_is_the_first_field()
    {
        Assert.Equal(123456.78, ProcFixtures.Collect(new UptimeCollector(ProcFixtures.Vm))[SystemMetricNames.Uptime]);
        Assert.Equal(8640000.55, ProcFixtures.Collect(new UptimeCollector(ProcFixtures.Busy))[SystemMetricNames.Uptime]);
    }

    [Fact]
    public void Missing_files_throw()
    {
        using var temp = new TempDir();
        Assert.Throws<FileNotFoundException>(() => ProcFixtures.Collect(new UptimeCollector(temp.Path)));
        Assert.Throws<FileNotFoundException>(() => ProcFixtures.Collect(new LoadCollector(temp.Path)));
    }
}
