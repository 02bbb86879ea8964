using ManagedServers.Agent.Collectors;

namespace ManagedServers.Agent.Tests.Collectors;

/// <summary>The procfs trees under Fixtures/ (copied to the output directory) and small helpers.</summary>
internal static class ProcFixtures
{
    /// <summary>A small VM: 2 CPUs, swap, MemAvailable, a handful of sockets, mounts in self/mounts.</summary>
    public static string Vm { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "proc-vm");

    /// <summary>
    /// A busy DNS server: 8 online CPUs (cpu4 offline), a 24 kB intr line, no MemAvailable, no swap,
    /// sockets in every TCP state over IPv4 and IPv6, mounts only in /proc/mounts (space, tab and backslash
    /// escapes, a bind mount, pseudo filesystems, NFS).
    /// </summary>
    public static string Busy { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "proc-busy");

    public static Dictionary<string, double> Collect(ISystemCollector collector)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        collector.Collect(values);
        return values;
    }

    /// <summary>A copy of a fixture tree in <paramref name="temp"/>, to change or remove files.</summary>
    public static string CopyTo(string fixture, TempDir temp)
    {
        var target = temp.Combine(Path.GetFileName(fixture));
        foreach (var file in Directory.EnumerateFiles(fixture, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(fixture, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }
}
