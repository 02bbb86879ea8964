using ManagedServers.Agent.Collectors;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Tests.Collectors;

public sealed class CpuCollectorTests
{
    [Fact]
    public void First_reading_emits_nothing()
    {
        Assert.Empty(ProcFixtures.Collect(new CpuCollector(ProcFixtures.Vm)));
        Assert.Empty(ProcFixtures.Collect(new CpuCollector(ProcFixtures.Busy)));
    }

    [Fact]
    public void Usage_is_the_busy_share_of_the_jiffies_between_two_readings()
    {
        using var temp = new TempDir();
        var collector = new CpuCollector(temp.Path);
        WriteStat(temp, "100 0 50 800 50 0 0 0 0 0");
        Assert.Empty(ProcFixtures.Collect(collector));

        // Deltas: user 60 nice 20 system 20 idle 100 iowait 20 irq 10 softirq 10 steal 10 (guest 5 is inside user): total 250.
        WriteStat(temp, "160 20 70 900 70 10 10 10 5 0");
        var values = ProcFixtures.Collect(collector);

        Assert.Equal(4, values.Count);
        Assert.Equal(52, values[SystemMetricNames.CpuUsage], 9); // (250 - 100 - 20) / 250
        Assert.Equal(32, values[SystemMetricNames.CpuUser], 9); // (60 + 20) / 250
        Assert.Equal(16, values[SystemMetricNames.CpuSystem], 9); // (20 + 10 + 10) / 250
        Assert.Equal(8, values[SystemMetricNames.CpuIowait], 9); // 20 / 250
    }

    [Fact]
    public void A_counter_going_backwards_or_no_time_passing_emits_nothing_and_rebases()
    {
        using var temp = new TempDir();
        var collector = new CpuCollector(temp.Path);
        WriteStat(temp, "1000 0 500 8000 100 0 0 0 0 0");
        ProcFixtures.Collect(collector);

        WriteStat(temp, "1000 0 500 8000 100 0 0 0 0 0");
        Assert.Empty(ProcFixtures.Collect(collector)); // no jiffies passed

        WriteStat(temp, "10 0 5 80 1 0 0 0 0 0");
        Assert.Empty(ProcFixtures.Collect(collector)); // reset (e.g. counters restarted)

        WriteStat(temp, "60 0 5 130 1 0 0 0 0 0");
        var values = ProcFixtures.Collect(collector); // against the reset reading: user 50, idle 50
        Assert.Equal(50, values[SystemMetricNames.CpuUsage], 9);
        Assert.Equal(50, values[SystemMetricNames.CpuUser], 9);
        Assert.Equal(0, values[SystemMetricNames.CpuIowait]);
    }

    [Fact]
    public void Old_kernels_with_fewer_fields_work()
    {
        using var temp = new TempDir();
        var collector = new CpuCollector(temp.Path);
        WriteStat(temp, "100 0 100 800");
        ProcFixtures.Collect(collector);
        WriteStat(temp, "150 0 150 900");

        Assert.Equal(50, ProcFixtures.Collect(collector)[SystemMetricNames.CpuUsage], 9);
    }

    [Fact]
    public void Garbage_throws_and_keeps_the_previous_reading()
    {
        using var temp = new TempDir();
        var collector = new CpuCollector(temp.Path);
        WriteStat(temp, "100 0 100 800");
        ProcFixtures.Collect(collector);
        WriteStat(temp, "150 x 150 900");
        Assert.Throws<InvalidDataException>(() => ProcFixtures.Collect(collector));
        File.WriteAllText(temp.Combine("stat"), "intr 1 2 3\n");
        Assert.Throws<InvalidDataException>(() => ProcFixtures.Collect(collector));

        WriteStat(temp, "200 0 100 900");
        Assert.Equal(50, ProcFixtures.Collect(collector)[SystemMetricNames.CpuUsage], 9);
    }

    private static void WriteStat(TempDir temp, string cpu) =>
        File.WriteAllText(temp.Combine("stat"), $"cpu  {cpu}\ncpu0 {cpu}\nintr 12345 0 0\nctxt 1\n");
}
