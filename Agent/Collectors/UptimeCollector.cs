using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary><c>/proc/uptime</c>: seconds since boot (first field) as <c>uptime.seconds</c>.</summary>
internal sealed class UptimeCollector(string procRoot = UptimeCollector.DefaultProcRoot) : ISystemCollector
{
    public const string DefaultProcRoot = "/proc";

    private readonly string _path = Path.Combine(procRoot, "uptime");

    public string Name => "uptime";

    public void Collect(IDictionary<string, double> values)
    {
        using var reader = ProcLineReader.Open(_path, 256);
        if (!reader.TryReadLine(out var line) || !ProcText.NextField(ref line, out var seconds))
        {
            throw new InvalidDataException($"{_path} is empty");
        }

        values[SystemMetricNames.Uptime] = ProcText.ParseDouble(seconds, _path);
    }
}
