using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary>
/// Memory, swap and commit from <c>/proc/meminfo</c> (values in kB, reported in bytes). Used memory is
/// MemTotal − MemAvailable; kernels before 3.14 have no MemAvailable, then it is estimated as
/// MemFree + Buffers + Cached. Swap percentages are 0 without swap. <c>vm.committed_percent</c> is
/// Committed_AS / CommitLimit and can exceed 100 when the kernel overcommits (the default).
/// </summary>
internal sealed class MemoryCollector(string procRoot = UptimeCollector.DefaultProcRoot) : ISystemCollector
{
    private readonly string _path = Path.Combine(procRoot, "meminfo");

    private enum Field
    {
        MemTotal,
        MemFree,
        MemAvailable,
        Buffers,
        Cached,
        SwapTotal,
        SwapFree,
        CommitLimit,
        CommittedAs,
        Count,
    }

    public string Name => "memory";

    public void Collect(IDictionary<string, double> values)
    {
        Span<double> read = stackalloc double[(int)Field.Count];
        read.Fill(double.NaN);
        using (var reader = ProcLineReader.Open(_path))
        {
            while (reader.TryReadLine(out var line))
            {
                var colon = line.IndexOf((byte)':');
                if (colon <= 0 || Lookup(line[..colon]) is not { } field)
                {
                    continue;
                }

                var rest = line[(colon + 1)..];
                if (!ProcText.NextField(ref rest, out var number))
                {
                    continue;
                }

                var value = (double)ProcText.ParseUInt64(number, _path);
                if (ProcText.NextField(ref rest, out var unit) && unit.SequenceEqual("kB"u8))
                {
                    value *= 1024;
                }

                read[(int)field] = value;
            }
        }

        var total = read[(int)Field.MemTotal];
        if (double.IsNaN(total))
        {
            throw new InvalidDataException($"{_path} has no MemTotal");
        }

        var available = read[(int)Field.MemAvailable];
        var buffers = read[(int)Field.Buffers];
        var cached = read[(int)Field.Cached];
        if (double.IsNaN(available))
        {
            available = Or0(read[(int)Field.MemFree]) + Or0(buffers) + Or0(cached);
        }

        available = Math.Min(available, total);
        var used = total - available;
        values[SystemMetricNames.MemoryTotal] = total;
        values[SystemMetricNames.MemoryAvailable] = available;
        values[SystemMetricNames.MemoryUsed] = used;
        values[SystemMetricNames.MemoryUsedPercent] = total > 0 ? 100 * used / total : 0;
        SetIfRead(values, SystemMetricNames.MemoryBuffers, buffers);
        SetIfRead(values, SystemMetricNames.MemoryCached, cached);

        var swapTotal = read[(int)Field.SwapTotal];
        if (!double.IsNaN(swapTotal))
        {
            var swapUsed = Math.Max(0, swapTotal - Or0(read[(int)Field.SwapFree]));
            values[SystemMetricNames.SwapTotal] = swapTotal;
            values[SystemMetricNames.SwapUsed] = swapUsed;
            values[SystemMetricNames.SwapUsedPercent] = swapTotal > 0 ? 100 * swapUsed / swapTotal : 0;
        }

        var committed = read[(int)Field.CommittedAs];
        var limit = read[(int)Field.CommitLimit];
        SetIfRead(values, SystemMetricNames.VmCommitted, committed);
        SetIfRead(values, SystemMetricNames.VmCommitLimit, limit);
        if (!double.IsNaN(committed) && limit > 0)
        {
            values[SystemMetricNames.VmCommittedPercent] = 100 * committed / limit;
        }
    }

    private static double Or0(double value) => double.IsNaN(value) ? 0 : value;

    private static void SetIfRead(IDictionary<string, double> values, string name, double value)
    {
        if (!double.IsNaN(value))
        {
            values[name] = value;
        }
    }

    private static Field? Lookup(ReadOnlySpan<byte> key) => key switch
    {
        _ when key.SequenceEqual("MemTotal"u8) => Field.MemTotal,
        _ when key.SequenceEqual("MemFree"u8) => Field.MemFree,
        _ when key.SequenceEqual("MemAvailable"u8) => Field.MemAvailable,
        _ when key.SequenceEqual("Buffers"u8) => Field.Buffers,
        _ when key.SequenceEqual("Cached"u8) => Field.Cached,
        _ when key.SequenceEqual("SwapTotal"u8) => Field.SwapTotal,
        _ when key.SequenceEqual("SwapFree"u8) => Field.SwapFree,
        _ when key.SequenceEqual("CommitLimit"u8) => Field.CommitLimit,
        _ when key.SequenceEqual("Committed_AS"u8) => Field.CommittedAs,
        _ => null,
    };
}
