using System.Globalization;

namespace ManagedServers.FleetSimulator;

/// <summary>The silo's CPU time and memory, read from /proc (0 for a pid that is not there).</summary>
internal static class ProcessStats
{
    /// <summary>User plus system CPU seconds used so far by the processes <paramref name="pids"/>, together.</summary>
    public static double CpuSeconds(params int[] pids)
    {
        double total = 0;
        foreach (var pid in pids)
        {
            if (pid > 0 && File.Exists($"/proc/{pid}/stat"))
            {
                var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                total += (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
        }

        return total;
    }

    /// <summary>Resident memory of <paramref name="pid"/> in bytes.</summary>
    public static long Rss(int pid)
    {
        if (pid <= 0 || !File.Exists($"/proc/{pid}/status"))
        {
            return 0;
        }

        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
