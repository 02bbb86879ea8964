using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class MemoryCollectorTests
{
    private const double KiB = 1024;

    [Fact]
    public void Vm_memory_swap_and_commit_in_bytes()
    {
        var values = ProcFixtures.Collect(new MemoryCollector(ProcFixtures.Vm));

        Assert.Equal(4030000 * KiB, values[SystemMetricNames.MemoryTotal]);
        Assert.Equal(2900000 * KiB, values[SystemMetricNames.MemoryAvailable]);
        Assert.Equal(1130000 * KiB, values[SystemMetricNames.MemoryUsed]);
        Assert.Equal(100.0 * 1130000 / 4030000, values[SystemMetricNames.MemoryUsedPercent], 9);
        Assert.Equal(80000 * KiB, values[SystemMetricNames.MemoryBuffers]);
        Assert.Equal(1500000 * KiB, values[SystemMetricNames.MemoryCached]);
        Assert.Equal(2097148 * KiB, values[SystemMetricNames.SwapTotal]);
        Assert.Equal(524288 * KiB, values[SystemMetricNames.SwapUsed]);
        Assert.Equal(100.0 * 524288 / 2097148, values[SystemMetricNames.SwapUsedPercent], 9);
        Assert.Equal(3084111 * KiB, values[SystemMetricNames.VmCommitted]);
        Assert.Equal(4112148 * KiB, values[SystemMetricNames.VmCommitLimit]);
        Assert.Equal(100.0 * 3084111 / 4112148, values[SystemMetricNames.VmCommittedPercent], 9);
        Assert.Equal(12, values.Count);
    }

    [Fact]
    public void Busy_without_MemAvailable_estimates_it_and_reports_0_percent_swap()
    {
        var values = ProcFixtures.Collect(new MemoryCollector(ProcFixtures.Busy));

        const double available = 10240000 + 1048576 + 20971520; // MemFree + Buffers + Cached
        Assert.Equal(65837212 * KiB, values[SystemMetricNames.MemoryTotal]);
        Assert.Equal(available * KiB, values[SystemMetricNames.MemoryAvailable]);
        Assert.Equal((65837212 - available) * KiB, values[SystemMetricNames.MemoryUsed]);
        Assert.Equal(100 * (65837212 - available) / 65837212, values[SystemMetricNames.MemoryUsedPercent], 9);
        Assert.Equal(0, values[SystemMetricNames.SwapTotal]);
        Assert.Equal(0, values[SystemMetricNames.SwapUsed]);
        Assert.Equal(0, values[SystemMetricNames.SwapUsedPercent]);
        Assert.Equal(100.0 * 41000000 / 32918604, values[SystemMetricNames.VmCommittedPercent], 9); // overcommitted: above 100
    }

    [Fact]
    public void Without_MemTotal_it_throws()
    {
        using var temp = new TempDir();
        File.WriteAllText(temp.Combine("meminfo"), "MemFree: 1 kB\n");
        Assert.Throws<InvalidDataException>(() => ProcFixtures.Collect(new MemoryCollector(temp.Path)));
    }
}
