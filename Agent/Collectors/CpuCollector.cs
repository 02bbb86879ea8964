using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary>
/// CPU time shares since the previous call, from the aggregate <c>cpu</c> line of <c>/proc/stat</c>
/// (user nice system idle iowait irq softirq steal guest guest_nice, in jiffies). Total is the first eight
/// fields (guest time is already inside user and nice); busy = total − idle − iowait.
/// <list type="bullet">
/// <item><c>cpu.usage_percent</c>: busy / total;</item>
/// <item><c>cpu.user_percent</c>: user + nice; <c>cpu.system_percent</c>: system + irq + softirq;
/// <c>cpu.iowait_percent</c>: iowait (usage = user + system + steal).</item>
/// </list>
/// The first call only records a reading and emits nothing; a reading where any counter went backwards
/// (reset, wrap, a CPU taken offline) or no time passed emits nothing either and becomes the new base.
/// </summary>
internal sealed class CpuCollector(string procRoot = UptimeCollector.DefaultProcRoot) : ISystemCollector
{
    private const int Fields = 8; // user .. steal

    private readonly string _path = Path.Combine(procRoot, "stat");
    private readonly ulong[] _current = new ulong[Fields];
    private readonly ulong[] _previous = new ulong[Fields];
    private bool _hasPrevious;

    public string Name => "cpu";

    public void Collect(IDictionary<string, double> values)
    {
        Read(_current);
        try
        {
            if (_hasPrevious)
            {
                Emit(values);
            }
        }
        finally
        {
            _current.CopyTo(_previous, 0);
            _hasPrevious = true;
        }
    }

    private void Emit(IDictionary<string, double> values)
    {
        Span<ulong> delta = stackalloc ulong[Fields];
        ulong total = 0;
        for (var i = 0; i < Fields; i++)
        {
            if (_current[i] < _previous[i])
            {
                return; // counter reset or wrap
            }

            delta[i] = _current[i] - _previous[i];
            total += delta[i];
        }

        if (total == 0)
        {
            return;
        }

        // user nice system idle iowait irq softirq steal
        var busy = total - delta[3] - delta[4];
        values[SystemMetricNames.CpuUsage] = Percent(busy, total);
        values[SystemMetricNames.CpuUser] = Percent(delta[0] + delta[1], total);
        values[SystemMetricNames.CpuSystem] = Percent(delta[2] + delta[5] + delta[6], total);
        values[SystemMetricNames.CpuIowait] = Percent(delta[4], total);
    }

    private static double Percent(ulong part, ulong total) => Math.Clamp(100.0 * part / total, 0, 100);

    private void Read(ulong[] into)
    {
        using var reader = ProcLineReader.Open(_path);
        while (reader.TryReadLine(out var line))
        {
            if (!ProcText.NextField(ref line, out var name) || !name.SequenceEqual("cpu"u8))
            {
                continue;
            }

            Array.Clear(into);
            for (var i = 0; i < Fields && ProcText.NextField(ref line, out var field); i++)
            {
                into[i] = ProcText.ParseUInt64(field, _path);
            }

            return;
        }

        throw new InvalidDataException($"{_path} has no 'cpu' line");
    }
}
