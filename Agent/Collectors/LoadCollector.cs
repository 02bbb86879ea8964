using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary>
/// Load averages from <c>/proc/loadavg</c> (<c>cpu.load1/5/15</c>) and the number of online CPUs
/// (<c>cpu.count</c>): the <c>cpuN</c> lines of <c>/proc/stat</c>, which lists online CPUs only.
/// </summary>
internal sealed class LoadCollector(string procRoot = UptimeCollector.DefaultProcRoot) : ISystemCollector
{
    private readonly string _loadavg = Path.Combine(procRoot, "loadavg");
    private readonly string _stat = Path.Combine(procRoot, "stat");

    public string Name => "load";

    public void Collect(IDictionary<string, double> values)
    {
        double load1, load5, load15;
        using (var reader = ProcLineReader.Open(_loadavg, 256))
        {
            if (!reader.TryReadLine(out var line)
                || !ProcText.NextField(ref line, out var f1)
                || !ProcText.NextField(ref line, out var f5)
                || !ProcText.NextField(ref line, out var f15))
            {
                throw new InvalidDataException($"{_loadavg}: expected three load averages");
            }

            load1 = ProcText.ParseDouble(f1, _loadavg);
            load5 = ProcText.ParseDouble(f5, _loadavg);
            load15 = ProcText.ParseDouble(f15, _loadavg);
        }

        var cpus = CountCpus(_stat);
        values[SystemMetricNames.Load1] = load1;
        values[SystemMetricNames.Load5] = load5;
        values[SystemMetricNames.Load15] = load15;
        if (cpus > 0)
        {
            values[SystemMetricNames.CpuCount] = cpus;
        }
    }

    /// <summary>Counts <c>cpuN</c> lines; they follow the aggregate <c>cpu</c> line, so reading stops at the first other line.</summary>
    internal static int CountCpus(string statPath)
    {
        using var reader = ProcLineReader.Open(statPath);
        var count = 0;
        while (reader.TryReadLine(out var line))
        {
            if (!line.StartsWith("cpu"u8))
            {
                if (count > 0)
                {
                    break;
                }

                continue;
            }

            if (line.Length > 3 && char.IsAsciiDigit((char)line[3]))
            {
                count++;
            }
        }

        return count;
    }
}
