using System.Diagnostics;
using ManagedServers.Contracts.Agent;

namespace ManagedServers.Agent.Collectors;

/// <summary>What one collector did so far, for diagnostics.</summary>
/// <param name="Name">The collector's <see cref="ISystemCollector.Name"/>.</param>
/// <param name="Runs">Calls so far.</param>
/// <param name="Failures">Calls that threw (<c>collector_errors</c>).</param>
/// <param name="LastError">The last failure's message, null when the last call succeeded.</param>
/// <param name="LastDuration">Time the last call took.</param>
internal sealed record CollectorStatus(string Name, long Runs, long Failures, string? LastError, TimeSpan LastDuration);

/// <summary>
/// Runs the system collectors in a fixed order into one <see cref="SystemSample"/>. A collector that
/// throws leaves all of its metrics out (its partial values are dropped) and never stops the others; each
/// distinct error of a collector is logged once as a warning (repeats at debug level) and failures are
/// counted (<see cref="Status"/>). Calls are serialised, so collectors may keep state between calls.
/// </summary>
internal sealed class SystemCollectors
{
    private const int MaxDistinctErrors = 32;

    private readonly ISystemCollector[] _collectors;
    private readonly Entry[] _entries;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, double> _scratch = new(StringComparer.Ordinal);
    private int _lastCount = 64;
    private long _lastDurationTicks;

    public SystemCollectors(IEnumerable<ISystemCollector> collectors, TimeProvider time, ILogger<SystemCollectors> logger)
    {
        _collectors = [.. collectors];
        _entries = [.. _collectors.Select(c => new Entry(c.Name))];
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// The production collectors reading <paramref name="procRoot"/>: load, cpu, memory, disk (statvfs), network, uptime.
    /// </summary>
    public static SystemCollectors CreateDefault(TimeProvider time, ILogger<SystemCollectors> logger, string procRoot = UptimeCollector.DefaultProcRoot) =>
        new(DefaultCollectors(procRoot), time, logger);

    public static ISystemCollector[] DefaultCollectors(string procRoot = UptimeCollector.DefaultProcRoot) =>
    [
        new LoadCollector(procRoot),
        new CpuCollector(procRoot),
        new MemoryCollector(procRoot),
        new DiskCollector(procRoot),
        new NetworkCollector(procRoot),
        new UptimeCollector(procRoot),
    ];

    /// <summary>How long the last <see cref="Collect"/> took, all collectors together.</summary>
    public TimeSpan LastDuration => TimeSpan.FromTicks(Interlocked.Read(ref _lastDurationTicks));

    /// <summary>Runs every collector once; the sample time is taken before the first runs.</summary>
    public SystemSample Collect()
    {
        lock (_lock)
        {
            var time = _time.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            var values = new Dictionary<string, double>(_lastCount, StringComparer.Ordinal);
            for (var i = 0; i < _collectors.Length; i++)
            {
                Run(_collectors[i], _entries[i], values);
            }

            _lastCount = values.Count;
            Interlocked.Exchange(ref _lastDurationTicks, Stopwatch.GetElapsedTime(started).Ticks);
            return new SystemSample(time, values);
        }
    }

    /// <summary>Per collector, in run order: runs, failures, last error and duration.</summary>
    public IReadOnlyList<CollectorStatus> Status()
    {
        lock (_lock)
        {
            return [.. _entries.Select(e => new CollectorStatus(e.Name, e.Runs, e.Failures, e.LastError, e.LastDuration))];
        }
    }

    private void Run(ISystemCollector collector, Entry entry, Dictionary<string, double> values)
    {
        _scratch.Clear();
        var started = Stopwatch.GetTimestamp();
        try
        {
            collector.Collect(_scratch);
            entry.LastError = null;
            foreach (var (name, value) in _scratch)
            {
                values[name] = value;
            }
        }
        catch (Exception e)
        {
            entry.Failures++;
            var error = $"{e.GetType().Name}: {e.Message}";
            entry.LastError = error;
            if (entry.LoggedErrors.Count < MaxDistinctErrors && entry.LoggedErrors.Add(error))
            {
                _logger.CollectorFailed(entry.Name, error);
            }
            else
            {
                _logger.CollectorFailedAgain(entry.Name, entry.Failures, error);
            }
        }
        finally
        {
            entry.Runs++;
            entry.LastDuration = Stopwatch.GetElapsedTime(started);
        }
    }

    private sealed class Entry(string name)
    {
        public string Name { get; } = name;

        public long Runs { get; set; }

        public long Failures { get; set; }

        public string? LastError { get; set; }

        public TimeSpan LastDuration { get; set; }

        public HashSet<string> LoggedErrors { get; } = new(StringComparer.Ordinal);
    }
}
